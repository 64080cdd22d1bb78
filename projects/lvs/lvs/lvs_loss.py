"""LVS's tri-map contrastive loss (Chen et al., "Localizing Visual Sounds the Hard Way", CVPR 2021).

The model's own similarity map of a frame with its audio is split, softly, into a
confident positive region (similarity above ``pos_threshold``), a confident negative
region (below ``neg_threshold``) and an ignored band in between. The positive region
must respond to the audio more than the frame's own negative region (a *hard*
negative, from the same image) and more than other frames as a whole (*easy*
negatives).
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from icl_av.registry import MODELS


@MODELS.register_module()
class LVSLoss(nn.Module):
    """Tri-map loss with hard (same-frame background) and easy (other-frame) negatives.

    For audio i with its frame's map ``S_ii`` (cosine, ``h×w``):

    * ``m_pos = sigmoid((S_ii - pos_threshold) / sigmoid_tau)`` (soft positive mask)
    * ``m_neg = 1 - sigmoid((S_ii - neg_threshold) / sigmoid_tau)`` (soft negative mask)
    * positive ``P_i = <m_pos, S_ii> / |m_pos|``, hard negative
      ``H_i = <m_neg, S_ii> / |m_neg|``, easy negatives ``E_ij = mean(S_ji)`` (j≠i)
    * ``loss_i = -log(exp(P_i/tau) / (exp(P_i/tau) + exp(H_i/tau) + sum_j exp(E_ij/tau)))``

    Args:
        pos_threshold (float): Cosine above which a location counts as sounding.
            Defaults to 0.65.
        neg_threshold (float): Cosine below which a location counts as silent
            (keep it below ``pos_threshold``; the band in between is ignored).
            Defaults to 0.4.
        sigmoid_tau (float): Softness of both thresholds. Defaults to 0.03.
        tau (float): InfoNCE temperature. Defaults to 0.07.
        detach_masks (bool): Stop gradients through the masks (they then only
            select regions). Defaults to False (gradients flow through them).
        loss_weight (float): Multiplier of ``loss_trimap``. Defaults to 1.0.
    """

    def __init__(self, pos_threshold: float = 0.65, neg_threshold: float = 0.4, sigmoid_tau: float = 0.03,
                 tau: float = 0.07, detach_masks: bool = False, loss_weight: float = 1.0):
        super().__init__()
        if neg_threshold > pos_threshold:
            raise ValueError(f'LVSLoss: neg_threshold ({neg_threshold}) must not exceed pos_threshold '
                             f'({pos_threshold})')
        if sigmoid_tau <= 0 or tau <= 0:
            raise ValueError(f'LVSLoss: temperatures must be > 0, got sigmoid_tau={sigmoid_tau}, tau={tau}')
        self.pos_threshold, self.neg_threshold = pos_threshold, neg_threshold
        self.sigmoid_tau, self.tau = sigmoid_tau, tau
        self.detach_masks, self.loss_weight = detach_masks, loss_weight

    def trimap(self, own: torch.Tensor):
        """Soft positive and negative masks of the ``B×h×w`` own-pair maps."""
        source = own.detach() if self.detach_masks else own
        pos = torch.sigmoid((source - self.pos_threshold) / self.sigmoid_tau)
        neg = 1.0 - torch.sigmoid((source - self.neg_threshold) / self.sigmoid_tau)
        return pos, neg

    def forward(self, sim: torch.Tensor, pseudo_labels: Optional[dict] = None, **kwargs) -> Dict[str, torch.Tensor]:
        """``sim`` ``B×B×h×w`` (frame i, audio j) -> ``{'loss_trimap': ...}``; pseudo-labels are not used."""
        if sim.dim() != 4 or sim.shape[0] != sim.shape[1]:
            raise ValueError(f'LVSLoss expects B×B×h×w similarity maps, got {tuple(sim.shape)}')
        batch = sim.shape[0]
        own = torch.diagonal(sim, dim1=0, dim2=1).permute(2, 0, 1)  # B×h×w
        pos_mask, neg_mask = self.trimap(own)
        positive = (pos_mask * own).sum(dim=(1, 2)) / pos_mask.sum(dim=(1, 2)).clamp_min(1e-6)
        hard = (neg_mask * own).sum(dim=(1, 2)) / neg_mask.sum(dim=(1, 2)).clamp_min(1e-6)
        easy = sim.mean(dim=(2, 3)).t()  # [audio i, frame j]
        eye = torch.eye(batch, dtype=torch.bool, device=sim.device)
        scores = torch.where(eye, positive[:, None].expand(batch, batch), easy)
        logits = torch.cat([scores, hard[:, None]], dim=1) / self.tau
        target = torch.arange(batch, device=sim.device)
        return {'loss_trimap': self.loss_weight * F.cross_entropy(logits, target)}
