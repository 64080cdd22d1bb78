"""Reference maps that bound a score from below and above: the centre prior and the protocol's ceiling."""
from typing import Tuple

import torch

from .map_binarization import binarize_map, is_constant
from .protocol_presets import LocalizationProtocol


def center_prior_map(size: Tuple[int, int], sigma_fraction: float = 0.25) -> torch.Tensor:
    """A centred Gaussian on the grid, ``sigma = sigma_fraction × side`` per axis.

    Under rank-based thresholds only its ordering matters (a centred ellipse of the
    selected area); ``sigma_fraction`` matters for float thresholds only.
    """
    height, width = size
    ys = (torch.arange(height, dtype=torch.float64) + 0.5 - height / 2.0) / (sigma_fraction * height)
    xs = (torch.arange(width, dtype=torch.float64) + 0.5 - width / 2.0) / (sigma_fraction * width)
    return torch.exp(-0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2)).float()


def gt_rank_map(gt: torch.Tensor) -> torch.Tensor:
    """A tie-free map ordered like the GT: pixels with higher GT value rank higher.

    Ties inside a GT level are broken by pixel index; which pixel of a level wins does
    not change the cIoU, so this is the best map any rank-based threshold can meet.
    """
    flat = gt.reshape(-1)
    order = torch.argsort(flat, stable=True)
    ranks = torch.empty(flat.numel(), dtype=torch.float32)
    ranks[order] = torch.arange(flat.numel(), dtype=torch.float32)
    return ranks.reshape(gt.shape)


def perfect_prediction(gt: torch.Tensor, protocol: LocalizationProtocol) -> torch.Tensor:
    """The protocol's ceiling: the GT map itself as the prediction, binarised by the protocol.

    For rank-based thresholds the GT is fed as :func:`gt_rank_map` (ties broken in the
    GT's favour, as any continuous map would break them); under the median protocol
    this scores ``min(2a, 1 / (2a))`` for a binary GT covering a fraction ``a`` of an
    even-sized grid with ``'>='``. For float thresholds the GT values are used as they are.

    It is the ceiling over *non-constant* maps: a constant map counts as the whole image
    and scores ``a``, which beats ``1 / (2a)`` when ``a > 1/√2`` (the ``whole`` row shows
    that case); a GT covering everything is itself constant and scores 1.
    """
    if is_constant(gt):
        return torch.ones_like(gt, dtype=torch.float32)
    surrogate = gt_rank_map(gt) if protocol.rank_based else gt
    return binarize_map(surrogate, protocol, gt_area=int((gt > 0).sum()))
