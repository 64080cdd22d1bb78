"""Audio-visual correspondence: the first ICL round and the plain baseline."""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from icl_av.registry import MODELS
from .pooling import POOL_MODES, pool_locations


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
    """

    def __init__(self, tau: float = 0.07, pool: str = 'max', pool_tau: float = 0.1, loss_weight: float = 1.0,
                 loss_name: str = 'loss_avc'):
        super().__init__()
        if pool not in POOL_MODES:
            raise ValueError(f'AVCorrespondenceLoss: pool must be one of {POOL_MODES}, got {pool!r}')
        if tau <= 0 or pool_tau <= 0:
            raise ValueError(f'AVCorrespondenceLoss: temperatures must be > 0, got tau={tau}, pool_tau={pool_tau}')
        self.tau, self.pool, self.pool_tau = tau, pool, pool_tau
        self.loss_weight, self.loss_name = loss_weight, loss_name

    def pooled_scores(self, sim: torch.Tensor) -> torch.Tensor:
        """``B×B`` pooled scores of the ``B×B×h×w`` (frame i, audio j) maps."""
        return pool_locations(sim, self.pool, self.pool_tau)

    def per_sample(self, sim: torch.Tensor) -> torch.Tensor:
        """Unweighted loss of each pair: mean of its frame->audio and audio->frame terms.

        Args:
            sim (Tensor): ``B×B×h×w`` similarity maps, frame i with audio j.

        Returns:
            Tensor: ``B`` losses.
        """
        if sim.dim() != 4 or sim.shape[0] != sim.shape[1]:
            raise ValueError(f'{type(self).__name__} expects B×B×h×w similarity maps, got {tuple(sim.shape)}')
        logits = self.pooled_scores(sim) / self.tau
        target = torch.arange(logits.shape[0], device=logits.device)
        frame_to_audio = F.cross_entropy(logits, target, reduction='none')
        audio_to_frame = F.cross_entropy(logits.t(), target, reduction='none')
        return 0.5 * (frame_to_audio + audio_to_frame)

    def forward(self, sim: torch.Tensor, pseudo_labels: Optional[dict] = None, **kwargs) -> Dict[str, torch.Tensor]:
        """Return ``{loss_name: loss}``; ``pseudo_labels`` are ignored by this objective."""
        return {self.loss_name: self.loss_weight * self.per_sample(sim).mean()}
