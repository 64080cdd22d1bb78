"""Scores of binarised predictions: per-sample cIoU, success rate at a cIoU threshold and the AUC."""
from typing import Dict, Sequence

import numpy as np
import torch

#: Success-curve thresholds for the AUC: 0, 0.05, ..., 1.
AUC_THRESHOLDS = np.linspace(0.0, 1.0, 21)


def ciou(binary: torch.Tensor, gt: torch.Tensor) -> float:
    """Consensus IoU ``Σ(P·G) / (ΣG + Σ P·[G == 0])`` of a binary prediction and a GT map (0 if 0/0)."""
    binary, gt = binary.double(), gt.double()
    intersection = (binary * gt).sum()
    denominator = gt.sum() + (binary * (gt == 0)).sum()
    return float(intersection / denominator) if denominator > 0 else 0.0


def success_rate(cious: Sequence[float], threshold: float = 0.5) -> float:
    """Fraction of samples whose cIoU is ``>= threshold`` (``nan`` for no samples)."""
    cious = np.asarray(cious, dtype=np.float64)
    return float(np.mean(cious >= threshold)) if cious.size else float('nan')


def ciou_auc(cious: Sequence[float]) -> float:
    """Area under the success curve over :data:`AUC_THRESHOLDS` (trapezoid rule; ``nan`` if empty)."""
    cious = np.asarray(cious, dtype=np.float64)
    if cious.size == 0:
        return float('nan')
    rates = np.array([np.mean(cious >= t) for t in AUC_THRESHOLDS])
    return float(np.sum((rates[1:] + rates[:-1]) * np.diff(AUC_THRESHOLDS) / 2.0))


def summarize_cious(cious: Sequence[float], ciou_thr: float = 0.5) -> Dict[str, float]:
    """``ciou@0.5``, ``auc`` and ``mean_ciou`` of a list of per-sample cIoUs."""
    cious = np.asarray(cious, dtype=np.float64)
    return {
        f'ciou@{ciou_thr:g}': success_rate(cious, ciou_thr),
        'auc': ciou_auc(cious),
        'mean_ciou': float(cious.mean()) if cious.size else float('nan'),
    }
