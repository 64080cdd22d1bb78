"""Audio prototypes for any checkpoint: the kinds of sound in the training clips.

A ``'posterior'`` map compares a frame's response to *its* sound with its responses to
the kinds of sound in the training data (``AVLocalizer.localization_maps``). An ICL
refresh stores those kinds (k-means centroids of the training clips' audio embeddings,
:func:`cluster_audio`) with its pseudo-labels; :func:`fit_audio_prototypes` computes them
for any model, once, from the training clips only, so every method can be scored with the
same maps. Either way they are stored with the localizer's ``set_audio_prototypes``
(``icl_av.engine.pseudo_labels.refresh``).

With the centroids come what tells a sound the model knows from one it does not
(:func:`describe_prototypes`): how close the training clips' own embeddings lie to their
nearest kind (a low quantile of that is the familiarity threshold) and where in the frame
the training clips' maps put their sounds (the location prior), the fall-back map for an
unfamiliar sound.
"""
from dataclasses import dataclass
from typing import Tuple

import torch

from icl_av.models.localizers.map_ops import familiarity
from icl_av.models.utils.kmeans import kmeans_on_rank0
from .extraction import ExtractedPseudoLabels, extract_pseudo_labels

#: Share of the training clips allowed below the familiarity threshold.
FAMILIARITY_QUANTILE = 0.05


@dataclass
class AudioPrototypes:
    """The kinds of sound in the training clips and how familiar a sound must be to be one of them.

    Attributes:
        centroids (Tensor): ``K×D`` float32 k-means centroids of the audio embeddings.
        familiarity_threshold (float): The ``quantile`` of the training clips' familiarity
            (cosine similarity with the nearest centroid); a sound below it is unfamiliar.
        location_prior (Tensor): ``h×w`` mean of the training clips' min-max normalised maps.
    """

    centroids: torch.Tensor
    familiarity_threshold: float
    location_prior: torch.Tensor


def describe_prototypes(extracted: ExtractedPseudoLabels, centroids: torch.Tensor,
                        quantile: float = FAMILIARITY_QUANTILE) -> AudioPrototypes:
    """The centroids with the familiarity threshold and location prior of the clips they came from."""
    if not 0 <= quantile < 1:
        raise ValueError(f'describe_prototypes: quantile must be in [0, 1), got {quantile}')
    centroids = centroids.float().cpu()
    scores = familiarity(extracted.embeddings.float().cpu(), centroids)
    return AudioPrototypes(centroids=centroids, familiarity_threshold=float(torch.quantile(scores, quantile)),
                           location_prior=extracted.maps.float().mean(dim=0).cpu())


def cluster_audio(extracted: ExtractedPseudoLabels,
                  num_clusters: int,
                  num_iters: int = 100,
                  seed: int = 0,
                  metric: str = 'cosine',
                  quantile: float = FAMILIARITY_QUANTILE) -> Tuple[torch.Tensor, AudioPrototypes]:
    """Seeded k-means of the extracted audio embeddings (on rank 0, broadcast), on the model's device.

    Returns:
        tuple[LongTensor, AudioPrototypes]: ``N`` cluster ids (in ``sample_idx`` order) and the
        centroids described by :func:`describe_prototypes`, identical on every rank.
    """
    clusters, centroids = kmeans_on_rank0(extracted.embeddings.to(extracted.device), num_clusters,
                                          num_iters=num_iters, seed=seed, metric=metric)
    return clusters, describe_prototypes(extracted, centroids, quantile)


def fit_audio_prototypes(model,
                         dataloader,
                         num_prototypes: int,
                         seed: int = 0,
                         num_iters: int = 100,
                         metric: str = 'cosine',
                         quantile: float = FAMILIARITY_QUANTILE,
                         show_progress: bool = True) -> AudioPrototypes:
    """Cluster the audio embeddings of ``dataloader``'s clips into ``num_prototypes`` kinds.

    Args:
        model (nn.Module): A localizer (or a DDP-style wrapper of one) whose ``test_step``
            samples carry ``audio_embedding`` (see ``docs/contracts.md``).
        dataloader (Iterable): The training clips read with the test pipeline
            (:func:`~icl_av.engine.pseudo_labels.build_refresh_dataloader`).
        num_prototypes (int): Number of k-means clusters, at most the number of clips.
        seed (int): Seed of the k-means initialisation. Defaults to 0.
        num_iters (int): Maximum Lloyd iterations. Defaults to 100.
        metric (str): ``'cosine'`` (the embeddings are L2-normalised) or ``'euclidean'``.
        quantile (float): Share of the training clips below the familiarity threshold.
        show_progress (bool): A progress bar on rank 0 while reading. Defaults to True.

    Returns:
        AudioPrototypes: ``K×D`` float32 centroids (CPU), identical on every rank, with the
        familiarity threshold and the location prior of the training clips.

    Raises:
        ValueError: ``num_prototypes`` is not a positive int or exceeds the number of clips.
    """
    if isinstance(num_prototypes, bool) or not isinstance(num_prototypes, int) or num_prototypes < 1:
        raise ValueError(f'fit_audio_prototypes: num_prototypes must be a positive int, got {num_prototypes!r}')
    extracted = extract_pseudo_labels(model, dataloader, show_progress=show_progress)
    if num_prototypes > extracted.sample_idx.numel():
        raise ValueError(f'fit_audio_prototypes: num_prototypes={num_prototypes} exceeds the number of training '
                         f'clips read ({extracted.sample_idx.numel()})')
    return cluster_audio(extracted, num_prototypes, num_iters=num_iters, seed=seed, metric=metric,
                         quantile=quantile)[1]


def has_audio_prototypes(localizer) -> bool:
    """Whether ``localizer`` holds audio prototypes (its ``audio_prototypes`` is a non-empty tensor)."""
    prototypes = getattr(localizer, 'audio_prototypes', None)
    return isinstance(prototypes, torch.Tensor) and prototypes.numel() > 0
