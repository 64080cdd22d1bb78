"""Seeded, deterministic k-means in torch (k-means++ init, vectorised Lloyd steps).

ICL clusters the audio embeddings of the whole training set between rounds; the cluster
ids become the "same sound category" pseudo-labels of the inter-frame loss. The
clustering must be reproducible (a resumed run and every rank must get the same labels),
so everything random goes through one seeded ``torch.Generator`` and every reduction is
written so that its result does not depend on thread scheduling: per-cluster sums are
one-hot matrix products in fixed-size chunks (``index_add_`` uses float atomics on GPUs),
and ties are broken by the lowest index. :func:`kmeans_on_rank0` is the distributed
form: one rank clusters, every rank receives the result.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import broadcast, get_rank

#: Metrics understood by :func:`kmeans`.
KMEANS_METRICS = ('euclidean', 'cosine')

# Rows handled per chunk: bounds the N×k distance and one-hot matrices on large sets.
_CHUNK_ROWS = 65536


def kmeans(x: torch.Tensor,
           k: int,
           num_iters: int = 100,
           seed: int = 0,
           tol: float = 1e-6,
           metric: str = 'euclidean') -> Tuple[torch.Tensor, torch.Tensor]:
    """Cluster the rows of ``x`` into ``k`` groups.

    k-means++ seeding (with a ``torch.Generator`` seeded by ``seed`` on ``x``'s device)
    followed by at most ``num_iters`` Lloyd iterations. A cluster that loses all its
    points is re-seeded with the point farthest from its own centroid (taken from a
    cluster that keeps at least one point, lowest index on ties), so when ``k <= N``
    every returned cluster is non-empty. Computation happens in float32 on ``x``'s device.

    Args:
        x (Tensor): ``N×D`` points (any float dtype; embeddings, features).
        k (int): Number of clusters, ``1 <= k <= N``.
        num_iters (int): Maximum number of Lloyd iterations. Defaults to 100.
        seed (int): Seed of the k-means++ initialisation; the same seed on the same
            input and device gives the same result. Defaults to 0.
        tol (float): Stop early once no centroid moves farther than ``tol`` (in the
            units of ``x``; on the unit sphere for ``'cosine'``) or no label changes.
            Defaults to 1e-6.
        metric (str): ``'euclidean'`` (squared L2 distance, centroids are means) or
            ``'cosine'`` (spherical k-means: rows are L2-normalised, assignment by
            largest cosine similarity, centroids are re-normalised means) — the right
            choice for L2-normalised embeddings. Defaults to ``'euclidean'``.

    Returns:
        tuple[Tensor, Tensor]: ``labels`` (LongTensor ``N``, values in ``[0, k)``) and
        ``centroids`` (``k×D`` float32, the means — normalised for ``'cosine'`` — of the
        points carrying each label).

    Raises:
        ValueError: ``x`` is not a non-empty 2-D floating tensor, ``k`` is not in
            ``[1, N]``, ``num_iters < 1`` or ``metric`` is unknown.
    """
    points = _check_inputs(x, k, num_iters, metric)
    if metric == 'cosine':
        points = F.normalize(points, dim=1)
    generator = torch.Generator(device=points.device)
    generator.manual_seed(int(seed))

    centroids = _kmeans_plus_plus(points, k, generator, metric)
    labels = None
    for _ in range(num_iters):
        new_labels, distances = _assign(points, centroids, metric)
        new_labels = _reseed_empty_clusters(new_labels, distances, k)
        new_centroids = _centroids_of(points, new_labels, k, metric)
        shift = (new_centroids - centroids).norm(dim=1).max()
        unchanged = labels is not None and torch.equal(new_labels, labels)
        labels, centroids = new_labels, new_centroids
        if unchanged or shift.item() <= tol:
            break
    return labels, centroids


def kmeans_on_rank0(x: torch.Tensor, k: int, **kwargs) -> Tuple[torch.Tensor, torch.Tensor]:
    """:func:`kmeans` computed on rank 0 and broadcast, so every rank holds the same clusters.

    Floating-point reductions may differ between devices and thread counts, so letting
    every rank cluster its own copy of the points could give ranks different labels;
    one rank deciding makes them identical by construction. Without a process group it
    is plain :func:`kmeans`.

    Args:
        x (Tensor): ``N×D`` points, the same on every rank (on the device the
            collective backend expects, e.g. CUDA for NCCL).
        k (int): Number of clusters.
        **kwargs: ``num_iters``, ``seed``, ``tol``, ``metric`` of :func:`kmeans`.

    Returns:
        tuple[Tensor, Tensor]: ``labels`` (LongTensor ``N``) and ``centroids``
        (``k×D`` in ``x``'s dtype), identical on every rank.
    """
    if get_rank() == 0:
        labels, centroids = kmeans(x, k, **kwargs)
        centroids = centroids.to(x.dtype)
    else:
        labels = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        centroids = x.new_zeros(k, x.shape[1])
    broadcast(labels, src=0)
    broadcast(centroids, src=0)
    return labels, centroids


def _check_inputs(x: torch.Tensor, k: int, num_iters: int, metric: str) -> torch.Tensor:
    """Validate the arguments of :func:`kmeans` and return ``x`` as float32."""
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[0] == 0:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f'kmeans: expected a non-empty N×D tensor of points, got {shape}')
    if not x.is_floating_point():
        raise ValueError(f'kmeans: expected floating point points, got dtype {x.dtype}')
    num_points = x.shape[0]
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f'kmeans: the number of clusters k must be a positive int, got {k!r}')
    if k > num_points:
        raise ValueError(f'kmeans: cannot make k={k} clusters from only N={num_points} points '
                         f'(k must be <= N; lower num_clusters or use more samples)')
    if num_iters < 1:
        raise ValueError(f'kmeans: num_iters must be >= 1, got {num_iters}')
    if metric not in KMEANS_METRICS:
        raise ValueError(f'kmeans: unknown metric {metric!r}, expected one of {KMEANS_METRICS}')
    if not torch.isfinite(x).all():
        raise ValueError('kmeans: the points contain NaN or Inf values')
    return x.detach().float()


def _distances_to(points: torch.Tensor, centroids: torch.Tensor, metric: str) -> torch.Tensor:
    """``N×k`` dissimilarities: squared L2, or ``1 - cosine`` for unit-norm rows."""
    products = points @ centroids.T
    if metric == 'cosine':
        return (1.0 - products).clamp_min(0.0)
    squared = (points * points).sum(1, keepdim=True) - 2.0 * products + (centroids * centroids).sum(1)
    return squared.clamp_min(0.0)


def _kmeans_plus_plus(points: torch.Tensor, k: int, generator: torch.Generator,
                      metric: str) -> torch.Tensor:
    """Pick ``k`` initial centroids, each with probability ∝ distance to the chosen ones."""
    num_points = points.shape[0]
    first = torch.randint(num_points, (1, ), generator=generator, device=points.device)
    chosen = [int(first.item())]
    is_chosen = torch.zeros(num_points, dtype=torch.bool, device=points.device)
    is_chosen[chosen[0]] = True
    closest = _distances_to(points, points[chosen[0]][None], metric)[:, 0]
    for _ in range(1, k):
        weights = closest.masked_fill(is_chosen, 0.0)
        if weights.sum() <= 0:
            # Every remaining point duplicates a centroid: pick uniformly among the unused.
            weights = (~is_chosen).float()
        index = int(torch.multinomial(weights, 1, generator=generator).item())
        chosen.append(index)
        is_chosen[index] = True
        closest = torch.minimum(closest, _distances_to(points, points[index][None], metric)[:, 0])
    return points[chosen].clone()


def _assign(points: torch.Tensor, centroids: torch.Tensor,
            metric: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """Nearest centroid of every point (lowest index on ties) and the distance to it."""
    labels, distances = [], []
    for start in range(0, points.shape[0], _CHUNK_ROWS):
        chunk = _distances_to(points[start:start + _CHUNK_ROWS], centroids, metric)
        best, best_index = chunk.min(dim=1)
        labels.append(best_index)
        distances.append(best)
    return torch.cat(labels), torch.cat(distances)


def _reseed_empty_clusters(labels: torch.Tensor, distances: torch.Tensor, k: int) -> torch.Tensor:
    """Give every empty cluster the farthest point of a cluster that can spare one.

    Clusters are repaired in increasing id order; a point is taken only from a
    cluster with at least two points, so no repair empties another cluster (with
    ``k <= N`` such a cluster always exists).
    """
    counts = torch.bincount(labels, minlength=k)
    empty = (counts == 0).nonzero().flatten().tolist()
    if not empty:
        return labels
    labels = labels.clone()
    distances = distances.clone()
    for cluster in empty:
        can_give = counts[labels] > 1
        candidates = distances.masked_fill(~can_give, -1.0)
        index = int(candidates.argmax().item())
        counts[labels[index]] -= 1
        counts[cluster] += 1
        labels[index] = cluster
        distances[index] = -1.0  # never move the same point twice
    return labels


def _centroids_of(points: torch.Tensor, labels: torch.Tensor, k: int, metric: str) -> torch.Tensor:
    """Per-cluster means, summed as chunked one-hot products for determinism."""
    sums = points.new_zeros(k, points.shape[1])
    counts = points.new_zeros(k)
    for start in range(0, points.shape[0], _CHUNK_ROWS):
        one_hot = F.one_hot(labels[start:start + _CHUNK_ROWS], k).to(points.dtype)
        sums += one_hot.T @ points[start:start + _CHUNK_ROWS]
        counts += one_hot.sum(0)
    centroids = sums / counts.clamp_min(1.0)[:, None]
    if metric == 'cosine':
        centroids = F.normalize(centroids, dim=1)
    return centroids
