"""EZ-VSL's multiple-instance contrastive loss.

A frame is a bag of locations; a frame/audio pair scores as its best-matching
location (max over the similarity map). Only one location needs to explain the
sound, so the loss does not force every location of a frame towards its audio.
The bag scores enter an InfoNCE in both directions (audio->frames and frame->audios).
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from icl_av.registry import MODELS


@MODELS.register_module()
class EZVSLLoss(nn.Module):
    """Multiple-instance InfoNCE on max-pooled similarity maps, both directions.

    Args:
        tau (float): Temperature of the InfoNCE on cosine bag scores.
            Defaults to 0.03 (sharp, as the bag score is a maximum).
        loss_weight (float): Multiplier of ``loss_mil``. Defaults to 1.0.
    """

    def __init__(self, tau: float = 0.03, loss_weight: float = 1.0):
        super().__init__()
        if tau <= 0:
            raise ValueError(f'EZVSLLoss: tau must be > 0, got {tau}')
        self.tau, self.loss_weight = tau, loss_weight

    def forward(self, sim: torch.Tensor, pseudo_labels: Optional[dict] = None, **kwargs) -> Dict[str, torch.Tensor]:
        """``sim`` ``B×B×h×w`` (frame i, audio j) -> ``{'loss_mil': ...}``; pseudo-labels are not used."""
        if sim.dim() != 4 or sim.shape[0] != sim.shape[1]:
            raise ValueError(f'EZVSLLoss expects B×B×h×w similarity maps, got {tuple(sim.shape)}')
        bag_scores = sim.flatten(2).amax(dim=2) / self.tau  # [frame i, audio j]
        target = torch.arange(sim.shape[0], device=sim.device)
        loss = 0.5 * (F.cross_entropy(bag_scores, target) + F.cross_entropy(bag_scores.t(), target))
        return {'loss_mil': self.loss_weight * loss}
