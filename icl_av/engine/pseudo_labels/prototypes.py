"""Audio prototypes for any checkpoint: the kinds of sound in the training clips.

A ``'posterior'`` map compares a frame's response to *its* sound with its responses to
the kinds of sound in the training data (``AVLocalizer.localization_maps``). ICL's
refreshes store those kinds (k-means centroids of the training clips' audio embeddings)
as a side effect; :func:`fit_audio_prototypes` computes them for any model, once, from
the training clips only, so every method can be scored with the same maps.
"""
from typing import Optional

import torch

from icl_av.models.utils.kmeans import kmeans_on_rank0
from .extraction import extract_pseudo_labels


def fit_audio_prototypes(model,
                         dataloader,
                         num_prototypes: int,
                         seed: int = 0,
                         num_iters: int = 100,
                         metric: str = 'cosine',
                         show_progress: bool = True) -> torch.Tensor:
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
        show_progress (bool): A progress bar on rank 0 while reading. Defaults to True.

    Returns:
        Tensor: ``K×D`` float32 centroids (CPU), identical on every rank.

    Raises:
        ValueError: ``num_prototypes`` is not a positive int or exceeds the number of clips.
    """
    if isinstance(num_prototypes, bool) or not isinstance(num_prototypes, int) or num_prototypes < 1:
        raise ValueError(f'fit_audio_prototypes: num_prototypes must be a positive int, got {num_prototypes!r}')
    extracted = extract_pseudo_labels(model, dataloader, show_progress=show_progress)
    if num_prototypes > extracted.sample_idx.numel():
        raise ValueError(f'fit_audio_prototypes: num_prototypes={num_prototypes} exceeds the number of training '
                         f'clips read ({extracted.sample_idx.numel()})')
    _, centroids = kmeans_on_rank0(extracted.embeddings.to(extracted.device), num_prototypes, num_iters=num_iters,
                                   seed=seed, metric=metric)
    return centroids.float().cpu()


def has_audio_prototypes(localizer) -> bool:
    """Whether ``localizer``'s pseudo-label bank holds audio prototypes."""
    bank = getattr(localizer, 'pseudo_label_bank', None)
    prototypes: Optional[torch.Tensor] = getattr(bank, 'prototypes', None)
    return isinstance(prototypes, torch.Tensor) and prototypes.numel() > 0
