"""Audio-visual correspondence: the first ICL round and the plain baseline."""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from icl_av.registry import MODELS
from .pooling import POOL_MODES, pool_locations
from .rank_batch import RankBatch


@MODELS.register_module()
class AVCorrespondenceLoss(nn.Module):
    """Symmetric InfoNCE on location-pooled similarity maps.

    Each frame/audio pair's map is pooled over locations to one score; a frame must
    score its own audio above the batch's other audios (frame->audio) and an audio
    its own frame above the other frames (audio->frame).

    Args:
        tau (float): InfoNCE temperature on the cosine scores. Defaults to 0.07.
        pool (str): Location pooling, ``'max'`` | ``'softmax'`` | ``'avg'``
            (see :func:`~icl_av.models.losses.pooling.pool_locations`).
        pool_tau (float): Temperature of ``'softmax'`` pooling. Defaults to 0.1.
        loss_weight (float): Multiplier of the returned loss. Defaults to 1.0.
        loss_name (str): Key of the returned loss (must start with ``loss``
            for MMEngine to sum it). Defaults to ``'loss_avc'``.
        gather_across_ranks (bool): In data-parallel training, contrast each sample with
            the samples of every rank (the audios and the pooled scores are gathered with
            gradients, and each rank's loss is scaled so that DDP's averaged gradient is
            the one of a single process with the whole batch; see
            :mod:`~icl_av.models.losses.rank_batch`), so the objective does not depend on
            the process count. ``False`` contrasts only within each rank's batch. One
            process computes the same either way. Defaults to True.
    """

    def __init__(self, tau: float = 0.07, pool: str = 'max', pool_tau: float = 0.1, loss_weight: float = 1.0,
                 loss_name: str = 'loss_avc', gather_across_ranks: bool = True):
        super().__init__()
        if pool not in POOL_MODES:
            raise ValueError(f'AVCorrespondenceLoss: pool must be one of {POOL_MODES}, got {pool!r}')
        if tau <= 0 or pool_tau <= 0:
            raise ValueError(f'AVCorrespondenceLoss: temperatures must be > 0, got tau={tau}, pool_tau={pool_tau}')
        self.tau, self.pool, self.pool_tau = tau, pool, pool_tau
        self.loss_weight, self.loss_name = loss_weight, loss_name
        self.gather_across_ranks = bool(gather_across_ranks)

    def pooled_scores(self, sim: torch.Tensor) -> torch.Tensor:
        """``B_v×B_a`` pooled scores of the ``B_v×B_a×h×w`` (frame i, audio j) maps."""
        return pool_locations(sim, self.pool, self.pool_tau)

    def anchor_losses(self, scores: torch.Tensor, start: int = 0, stop: int = None) -> torch.Tensor:
        """Unweighted loss of the pairs ``start:stop``: mean of their frame->audio and audio->frame terms.

        Args:
            scores (Tensor): ``B×B`` pooled scores of the whole contrast, frame i with audio j.
            start, stop (int): The anchors (pairs ``k``: frame k with audio k) to score;
                all of them by default.

        Returns:
            Tensor: ``stop - start`` losses.
        """
        stop = scores.shape[0] if stop is None else stop
        logits = scores / self.tau
        target = torch.arange(start, stop, device=scores.device)
        frame_to_audio = F.cross_entropy(logits[start:stop], target, reduction='none')
        audio_to_frame = F.cross_entropy(logits[:, start:stop].t(), target, reduction='none')
        return 0.5 * (frame_to_audio + audio_to_frame)

    def per_sample(self, sim: torch.Tensor) -> torch.Tensor:
        """Unweighted loss of each pair of one batch: mean of its frame->audio and audio->frame terms.

        Args:
            sim (Tensor): ``B×B×h×w`` similarity maps, frame i with audio j.

        Returns:
            Tensor: ``B`` losses.
        """
        if sim.dim() != 4 or sim.shape[0] != sim.shape[1]:
            raise ValueError(f'{type(self).__name__} expects B×B×h×w similarity maps, got {tuple(sim.shape)}')
        return self.anchor_losses(self.pooled_scores(sim))

    def rank_losses(self, sim: torch.Tensor, batch: RankBatch) -> torch.Tensor:
        """Unweighted losses of this rank's pairs against every candidate of ``batch``.

        Args:
            sim (Tensor): ``B_r×B×h×w`` maps of this rank's frames with the contrast's audios.
            batch (RankBatch): The contrast (this rank's, or all ranks').

        Returns:
            Tensor: ``B_r`` losses.
        """
        scores = batch.gather(self.pooled_scores(sim))  # B×B: every rank's frames' rows
        return self.anchor_losses(scores, batch.start, batch.stop)

    def forward(self, sim: torch.Tensor, pseudo_labels: Optional[dict] = None, **kwargs) -> Dict[str, torch.Tensor]:
        """Return ``{loss_name: loss}``; ``pseudo_labels`` are ignored by this objective.

        ``sim`` is ``B×B×h×w`` (frame i, audio j) in one process or with
        ``gather_across_ranks=False``; when contrasting across ranks it is ``B_r×B×h×w``,
        this rank's frames against every rank's audios in rank order (AVLocalizer gathers them).
        """
        batch = RankBatch(sim.shape[0], sim.device, self.gather_across_ranks)
        batch.check_pairs(sim, type(self).__name__)
        return {self.loss_name: self.loss_weight * batch.mean(self.rank_losses(sim, batch))}
