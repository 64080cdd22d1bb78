"""Tests for the seeded torch k-means used by the ICL pseudo-label refresh."""
import math

import pytest
import torch
import torch.nn.functional as F

from icl_av.models.utils.kmeans import kmeans


def adjusted_rand_index(labels_a: torch.Tensor, labels_b: torch.Tensor) -> float:
    """Adjusted Rand index of two labelings (1.0 = identical partitions)."""
    _, a = torch.unique(labels_a, return_inverse=True)
    _, b = torch.unique(labels_b, return_inverse=True)
    table = torch.zeros(int(a.max()) + 1, int(b.max()) + 1, dtype=torch.float64)
    table.index_put_((a, b), torch.ones_like(a, dtype=torch.float64), accumulate=True)

    def pairs(values):
        return (values * (values - 1) / 2).sum()

    total = pairs(torch.tensor(float(a.numel())))
    index = pairs(table)
    rows, cols = pairs(table.sum(1)), pairs(table.sum(0))
    expected = rows * cols / total
    maximum = (rows + cols) / 2
    return float((index - expected) / (maximum - expected))


def make_blobs(num_per_blob=30, num_blobs=4, dim=8, spread=0.05, seed=0):
    """Well separated Gaussian blobs; returns points and their true blob ids."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_blobs, dim, generator=generator) * 5
    truth = torch.arange(num_blobs).repeat_interleave(num_per_blob)
    points = centres[truth] + spread * torch.randn(truth.numel(), dim, generator=generator)
    order = torch.randperm(truth.numel(), generator=generator)
    return points[order], truth[order]


def test_recovers_separable_blobs():
    points, truth = make_blobs()
    labels, centroids = kmeans(points, 4, seed=3)
    assert labels.dtype == torch.long and labels.shape == truth.shape
    assert centroids.shape == (4, 8)
    assert adjusted_rand_index(labels, truth) == pytest.approx(1.0)
    # The centroids are the means of their clusters.
    for cluster in range(4):
        torch.testing.assert_close(centroids[cluster], points[labels == cluster].mean(0))


def test_cosine_metric_clusters_directions_not_magnitudes():
    # Three directions; each point scaled by a very different positive magnitude, so
    # euclidean clustering would split by magnitude while cosine must not.
    generator = torch.Generator().manual_seed(1)
    directions = F.normalize(torch.randn(3, 16, generator=generator), dim=1)
    truth = torch.arange(3).repeat(20)
    scales = torch.rand(truth.numel(), 1, generator=generator) * 50 + 0.1
    points = (directions[truth] + 0.01 * torch.randn(truth.numel(), 16, generator=generator)) * scales
    labels, centroids = kmeans(points, 3, seed=0, metric='cosine')
    assert adjusted_rand_index(labels, truth) == pytest.approx(1.0)
    torch.testing.assert_close(centroids.norm(dim=1), torch.ones(3))


def test_same_seed_same_result_and_seed_matters():
    generator = torch.Generator().manual_seed(0)
    points = torch.randn(200, 5, generator=generator)  # no structure: init decides
    first = kmeans(points, 7, seed=11)
    second = kmeans(points, 7, seed=11)
    assert torch.equal(first[0], second[0])
    assert torch.equal(first[1], second[1])
    others = [kmeans(points, 7, seed=s)[0] for s in range(5)]
    assert any(not torch.equal(first[0], other) for other in others)


@pytest.mark.parametrize('k', [10, 11, 12])
def test_empty_clusters_are_reseeded_with_duplicates(k):
    # 12 points but only 4 distinct locations: with k close to N the plain Lloyd step
    # leaves clusters empty (duplicate centroids); every cluster must still get a point.
    base = torch.tensor([[0., 0.], [10., 0.], [0., 10.], [10., 10.]])
    points = base.repeat(3, 1)
    labels, centroids = kmeans(points, k, seed=0)
    counts = torch.bincount(labels, minlength=k)
    assert counts.min() >= 1 and counts.sum() == 12
    assert torch.isfinite(centroids).all()
    assert torch.equal(labels, kmeans(points, k, seed=0)[0])


def test_k_equals_n_gives_each_point_its_cluster():
    points = torch.randn(9, 3, generator=torch.Generator().manual_seed(2))
    labels, centroids = kmeans(points, 9, seed=0)
    assert sorted(labels.tolist()) == list(range(9))
    torch.testing.assert_close(centroids[labels], points)


def test_single_cluster_is_the_mean():
    points = torch.randn(20, 4, generator=torch.Generator().manual_seed(4))
    labels, centroids = kmeans(points, 1)
    assert labels.eq(0).all()
    torch.testing.assert_close(centroids[0], points.mean(0))


def test_half_precision_input_is_computed_in_float32():
    points, truth = make_blobs(num_per_blob=10, num_blobs=3)
    labels, centroids = kmeans(points.half(), 3, seed=0)
    assert centroids.dtype == torch.float32
    assert adjusted_rand_index(labels, truth) == pytest.approx(1.0)


def test_k_larger_than_n_is_a_clear_error():
    with pytest.raises(ValueError, match=r'k=5 clusters from only N=3 points'):
        kmeans(torch.randn(3, 2), 5)


@pytest.mark.parametrize('bad, message', [
    (dict(x=torch.randn(4)), 'N×D'),
    (dict(x=torch.zeros(0, 3)), 'N×D'),
    (dict(x=torch.ones(4, 2, dtype=torch.long)), 'floating point'),
    (dict(k=0), 'positive int'),
    (dict(num_iters=0), 'num_iters'),
    (dict(metric='manhattan'), 'unknown metric'),
    (dict(x=torch.tensor([[math.nan, 0.], [1., 1.]])), 'NaN'),
])
def test_invalid_arguments_are_rejected(bad, message):
    arguments = dict(x=torch.randn(6, 2), k=2)
    arguments.update(bad)
    with pytest.raises(ValueError, match=message):
        kmeans(**arguments)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_runs_on_the_points_device_and_is_deterministic_there():
    points, truth = make_blobs(num_per_blob=50)
    labels, centroids = kmeans(points.cuda(), 4, seed=5)
    assert labels.is_cuda and centroids.is_cuda
    assert adjusted_rand_index(labels.cpu(), truth) == pytest.approx(1.0)
    assert torch.equal(labels, kmeans(points.cuda(), 4, seed=5)[0])


def test_kmeans_on_rank0_is_kmeans_without_a_group_and_only_rank0_clusters(monkeypatch):
    import importlib
    kmeans_module = importlib.import_module('icl_av.models.utils.kmeans')  # the package exports the function
    from icl_av.models.utils import kmeans_on_rank0
    points = torch.randn(20, 3, generator=torch.Generator().manual_seed(0))
    labels, centroids = kmeans_on_rank0(points, 3, seed=5, metric='cosine')
    expected_labels, expected_centroids = kmeans(points, 3, seed=5, metric='cosine')
    assert torch.equal(labels, expected_labels) and torch.equal(centroids, expected_centroids)

    # On another rank nothing is clustered: the result is what rank 0 broadcasts.
    sent = {torch.long: expected_labels, torch.float32: expected_centroids}
    monkeypatch.setattr(kmeans_module, 'get_rank', lambda: 1)
    monkeypatch.setattr(kmeans_module, 'kmeans', lambda *args, **kwargs: pytest.fail('clustered off rank 0'))
    monkeypatch.setattr(kmeans_module, 'broadcast', lambda tensor, src: tensor.copy_(sent[tensor.dtype]))
    labels, centroids = kmeans_on_rank0(points, 3, seed=5, metric='cosine')
    assert torch.equal(labels, expected_labels) and torch.equal(centroids, expected_centroids)
