"""Pooling of similarity maps over locations, shared by the contrastive losses."""
import torch

POOL_MODES = ('max', 'softmax', 'avg')


def pool_locations(sim: torch.Tensor, mode: str = 'max', softmax_tau: float = 0.1) -> torch.Tensor:
    """Reduce ``...×h×w`` similarity maps to one score per map.

    Args:
        sim (Tensor): ``...×h×w`` similarities.
        mode (str): ``'max'`` (the best-matching location; multiple-instance
            learning), ``'softmax'`` (a soft maximum: locations weighted by
            ``softmax(sim / softmax_tau)``, gradient reaches every location) or
            ``'avg'`` (mean over locations).
        softmax_tau (float): Temperature of the ``'softmax'`` weights; small values
            approach ``'max'``, large values ``'avg'``.

    Returns:
        Tensor: ``...`` pooled scores.
    """
    flat = sim.flatten(-2)
    if mode == 'max':
        return flat.amax(dim=-1)
    if mode == 'softmax':
        weights = torch.softmax(flat / softmax_tau, dim=-1)
        return (weights * flat).sum(dim=-1)
    if mode == 'avg':
        return flat.mean(dim=-1)
    raise ValueError(f'pool mode must be one of {POOL_MODES}, got {mode!r}')


def masked_mean(sim: torch.Tensor, weights: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Weighted mean of each frame's maps over its region.

    Args:
        sim (Tensor): ``B_v×B_a×h×w`` (frame i, audio j) similarities.
        weights (Tensor): ``B_v×h×w`` non-negative region weights of each frame.
        eps (float): Guards against an empty region.

    Returns:
        Tensor: ``B_v×B_a``, ``out[i, j] = sum(sim[i, j] * w[i]) / sum(w[i])``.
    """
    total = torch.einsum('ijhw,ihw->ij', sim, weights)
    return total / weights.sum(dim=(-2, -1)).clamp_min(eps)[:, None]
