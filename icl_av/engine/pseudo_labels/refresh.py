"""One ICL pseudo-label refresh, start to end: :func:`refresh_pseudo_labels`.

Between ICL rounds the current model labels the whole training set. The refresh is one chain,
run here and nowhere else:

1. :func:`extract_pseudo_labels` -- every sample's map and audio embedding, read with the
   test pipeline, gathered across ranks in ``sample_idx`` order;
2. :func:`cluster_audio` -- seeded k-means of the embeddings: the cluster ids are the
   "same kind of sound" pseudo-labels, the centroids the audio prototypes;
3. ``model.set_audio_prototypes`` -- the localizer keeps the prototypes where its posterior
   maps are made;
4. a second extraction when ``model.maps_use_prototypes`` (posterior maps): label with the
   maps the new prototypes give;
5. the keep mask -- a flat map carries no information and is not trained on;
6. ``model.update_pseudo_labels`` -- the pseudo-label bank stores the round (with the digest
   of the sample list its rows index).

``PseudoLabelHook`` only decides when to call it, logs its statistics and pictures its maps.
:func:`refresh_audio_prototypes` is steps 1-3 alone, for a checkpoint tested with posterior
maps (``AudioPrototypeHook``, ``tools/test.py --maps posterior``). What the model must
provide is written in ``docs/contracts.md`` ("The ICL iteration").
"""
import time
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np
import torch

from icl_av.datasets.sample_list import sample_list_digest
from icl_av.models.utils.kmeans import KMEANS_METRICS
from .extraction import extract_pseudo_labels, unwrap_model
from .prototypes import AudioPrototypes, cluster_audio, fit_audio_prototypes
from .refresh_loader import TrainingListView
from .statistics import refresh_statistics


@dataclass
class RefreshResult:
    """What one refresh did.

    Attributes:
        statistics (dict[str, float]): The numbers of :func:`refresh_statistics` and
            ``seconds`` (wall time of the refresh).
        maps (Tensor): ``N×h×w`` float32 maps in ``[0, 1]`` the bank was given, in
            ``sample_idx`` order (CPU), e.g. for a picture.
    """

    statistics: Dict[str, float]
    maps: torch.Tensor


def is_positive_int(value) -> bool:
    """An int (Python or numpy, not a bool) above 0."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def check_refresh_args(num_clusters, kmeans_iters, kmeans_metric, owner: str = 'refresh_pseudo_labels') -> None:
    """Raise ``ValueError`` (naming ``owner`` and the argument) unless the clustering arguments are usable."""
    for name, value in (('num_clusters', num_clusters), ('kmeans_iters', kmeans_iters)):
        if not is_positive_int(value):
            raise ValueError(f'{owner}: `{name}` must be a positive int, got {value!r}')
    if kmeans_metric not in KMEANS_METRICS:
        raise ValueError(f'{owner}: `kmeans_metric` must be one of {KMEANS_METRICS}, got {kmeans_metric!r}')


def refresh_list_digest(dataset) -> Optional[str]:
    """The digest of the sample list a refresh loader's dataset reads (``None`` when it has no IDs)."""
    if isinstance(dataset, TrainingListView):
        dataset = dataset.dataset
    return sample_list_digest(dataset)


def refresh_pseudo_labels(model,
                          dataloader,
                          num_clusters: int,
                          kmeans_iters: int = 100,
                          kmeans_metric: str = 'cosine',
                          seed: int = 0,
                          fg_threshold: float = 0.5,
                          sample_list: Optional[str] = None,
                          show_progress: bool = True) -> RefreshResult:
    """Label every sample of ``dataloader`` with ``model`` and store the round in the model.

    Consumes nothing from torch's global random generator (the extraction forks it; k-means
    has its own seeded generator). Under a process group every rank must call it; every rank
    stores the same labels.

    Args:
        model (nn.Module): The localizer or a DDP-style wrapper of it (see
            ``docs/contracts.md``: ``test_step`` samples with ``pred_map`` and
            ``audio_embedding``, ``update_pseudo_labels``; optionally ``labelling()``,
            ``set_audio_prototypes`` and ``maps_use_prototypes``).
        dataloader (DataLoader): The refresh loader (:func:`build_refresh_dataloader`): the
            training list read with the test pipeline, this rank's shard.
        num_clusters (int): k of the k-means on the audio embeddings; at most the number of
            samples.
        kmeans_iters (int): Maximum Lloyd iterations. Defaults to 100.
        kmeans_metric (str): ``'cosine'`` or ``'euclidean'``. Defaults to ``'cosine'``.
        seed (int): Seed of the k-means initialisation. Defaults to 0.
        fg_threshold (float): Map value from which a location counts as foreground, for the
            statistics only. Defaults to 0.5.
        sample_list (str, optional): Digest of the sample list the loader reads, recorded
            with the round; computed from ``dataloader.dataset`` when not given.
        show_progress (bool): A progress bar on rank 0 while extracting. Defaults to True.

    Returns:
        RefreshResult: The statistics to log and the maps stored.

    Raises:
        TypeError: The model has no ``update_pseudo_labels``.
        ValueError: Unusable clustering arguments, or ``num_clusters`` exceeds the number of
            samples read.
    """
    check_refresh_args(num_clusters, kmeans_iters, kmeans_metric)
    localizer = unwrap_model(model)
    if not callable(getattr(localizer, 'update_pseudo_labels', None)):
        raise TypeError(f'refresh_pseudo_labels: the model {type(localizer).__name__} has no '
                        '`update_pseudo_labels(sample_idx, maps, clusters)` method (see docs/contracts.md)')
    if sample_list is None:
        sample_list = refresh_list_digest(dataloader.dataset)
    start = time.perf_counter()
    extracted = extract_pseudo_labels(model, dataloader, show_progress=show_progress)
    if num_clusters > extracted.sample_idx.numel():
        raise ValueError(f'refresh_pseudo_labels: num_clusters={num_clusters} exceeds the number of training '
                         f'samples ({extracted.sample_idx.numel()}) the refresh loader produced')
    clusters, prototypes = cluster_audio(extracted, num_clusters, num_iters=kmeans_iters, seed=seed,
                                         metric=kmeans_metric)
    if callable(getattr(localizer, 'set_audio_prototypes', None)):
        _store_prototypes(localizer, prototypes)
        if getattr(localizer, 'maps_use_prototypes', False):
            # The maps compare each sound with the kinds of sound just found: label with those maps.
            extracted = extract_pseudo_labels(model, dataloader, show_progress=show_progress)
    keep = extracted.informative
    device = extracted.device
    map_change = localizer.update_pseudo_labels(extracted.sample_idx.to(device), extracted.maps.to(device),
                                                clusters.to(device), valid=keep.to(device), sample_list=sample_list)
    statistics = dict(seconds=time.perf_counter() - start)
    statistics.update(refresh_statistics(extracted.maps, clusters, keep, num_clusters, fg_threshold, map_change))
    return RefreshResult(statistics=statistics, maps=extracted.maps)


def refresh_audio_prototypes(model, dataloader, num_prototypes: int, seed: int = 0,
                             show_progress: bool = True) -> AudioPrototypes:
    """Fit the audio prototypes on ``dataloader``'s clips and store them in the model.

    The prototypes step of :func:`refresh_pseudo_labels` alone (no pseudo-labels are written),
    for a checkpoint of any method to be tested with posterior maps.

    Args:
        model (nn.Module): The localizer (or a wrapper) with ``set_audio_prototypes``.
        dataloader (DataLoader): The training clips read with the test pipeline.
        num_prototypes (int): Number of k-means clusters, at most the number of clips.
        seed (int): Seed of the k-means initialisation. Defaults to 0.
        show_progress (bool): A progress bar on rank 0 while reading. Defaults to True.

    Returns:
        AudioPrototypes: What was stored.
    """
    localizer = unwrap_model(model)
    if not callable(getattr(localizer, 'set_audio_prototypes', None)):
        raise TypeError(f'refresh_audio_prototypes: the model {type(localizer).__name__} cannot store audio '
                        'prototypes (it needs set_audio_prototypes, as AVLocalizer has)')
    prototypes = fit_audio_prototypes(model, dataloader, num_prototypes, seed=seed, show_progress=show_progress)
    _store_prototypes(localizer, prototypes)
    return prototypes


def _store_prototypes(localizer, prototypes: AudioPrototypes) -> None:
    localizer.set_audio_prototypes(prototypes.centroids, prototypes.familiarity_threshold,
                                   prototypes.location_prior)
