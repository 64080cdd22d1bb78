"""Prediction maps to binary masks: upsampling to the evaluation grid, min-max normalisation, thresholds.

A constant map expresses no preference: it is binarised as covering the whole image
(see :mod:`icl_av.evaluation.metrics`).
"""
import math
from typing import Tuple, Union

import torch
import torch.nn.functional as F

from icl_av.structures.map_normalization import FLAT_IS_EVERYWHERE, min_max_normalize
from .protocol_presets import UPSAMPLE_MODES, LocalizationProtocol


def upsample_map(pred_map, size: Tuple[int, int], mode: str = 'bilinear') -> torch.Tensor:
    """Resize an ``h×w`` map to ``size`` with one of :data:`UPSAMPLE_MODES` (float32, CPU)."""
    torch_mode, align_corners = UPSAMPLE_MODES[mode]
    pred = torch.as_tensor(pred_map).detach().float().cpu()
    if pred.ndim == 3 and pred.shape[0] == 1:
        pred = pred[0]
    if pred.ndim != 2:
        raise ValueError(f'pred_map must be an h×w map, got shape {tuple(pred.shape)}')
    if tuple(pred.shape) == tuple(size):
        return pred
    kwargs = {} if align_corners is None else {'align_corners': align_corners}
    return F.interpolate(pred[None, None], size=size, mode=torch_mode, **kwargs)[0, 0]


def is_constant(values: torch.Tensor) -> bool:
    """Whether a map has a single value (no preference between pixels)."""
    return bool(values.numel() == 0 or values.max() == values.min())


def normalize_map(values: torch.Tensor) -> torch.Tensor:
    """Min-max normalise a map to [0, 1]; a constant map becomes all ones (the protocol's convention)."""
    return min_max_normalize(values, flat_value=FLAT_IS_EVERYWHERE)


def threshold_value(normalized: torch.Tensor, threshold: Union[str, float], gt_area: int = 0) -> float:
    """The value a normalised map is compared with.

    Args:
        normalized (torch.Tensor): Map in [0, 1].
        threshold (str | float): ``'median'`` -> ascending sorted value at index ``N // 2``;
            ``'gt_area'`` -> the ``gt_area``-th largest value (``inf`` when ``gt_area == 0``);
            a float -> itself.
        gt_area (int): Number of GT pixels (for ``'gt_area'``).

    Returns:
        float: The threshold value.
    """
    flat = normalized.reshape(-1)
    if threshold == 'median':
        return float(torch.kthvalue(flat, flat.numel() // 2 + 1).values)
    if threshold == 'gt_area':
        if gt_area <= 0:
            return math.inf
        k = min(int(gt_area), flat.numel())
        return float(torch.kthvalue(flat, flat.numel() - k + 1).values)
    return float(threshold)


def binarize_map(values: torch.Tensor, protocol: LocalizationProtocol, gt_area: int = 0) -> torch.Tensor:
    """Binarise a map (already on the evaluation grid) by the protocol.

    Args:
        values (torch.Tensor): Map on the evaluation grid (any range).
        protocol (LocalizationProtocol): Threshold and comparison.
        gt_area (int): Number of GT pixels, for ``threshold='gt_area'``.

    Returns:
        torch.Tensor: Float map with values in {0, 1}; all ones for a constant map.
    """
    if is_constant(values):
        return torch.ones_like(values, dtype=torch.float32)
    normalized = normalize_map(values.float())
    thr = threshold_value(normalized, protocol.threshold, gt_area)
    positive = normalized >= thr if protocol.comparison == '>=' else normalized > thr
    return positive.float()


def binarize_prediction(pred_map, size: Tuple[int, int], protocol: LocalizationProtocol,
                        gt_area: int = 0) -> torch.Tensor:
    """Upsample a feature-resolution ``pred_map`` to ``size`` and binarise it by the protocol.

    Constancy is judged on the raw map (upsampling may add rounding noise to a constant map).
    """
    raw = torch.as_tensor(pred_map).detach().float().cpu()
    if is_constant(raw):
        return torch.ones(size)
    return binarize_map(upsample_map(raw, size, protocol.upsample), protocol, gt_area)
