"""Extended benchmarks (sounding + non-sounding pairs): AP, max-F1, precision at cIoU 0.5.

The extended Flickr / VGG-SS benchmarks (Mo & Morgado, 2022) add pairs whose audio does
not belong to the frame. A localizer must then both *say whether* something sounds
(its per-sample ``confidence``) and *where* (its map's cIoU).

Exact definitions used here (``N`` samples; ``S`` of them sounding):

* At a confidence threshold ``τ`` a sample is *detected* when ``confidence >= τ``.
* A detected sample is a true positive (TP) iff it is sounding **and** its
  ``cIoU >= ciou_thr`` (0.5); every other detected sample is a false positive (FP):
  a non-sounding pair, or a sounding pair localised in the wrong place.
* Recall, ``recall_mode='slavc'`` (default, the benchmark authors' evaluation code):
  ``TP / (TP + FN)`` with FN = sounding samples that are *not detected*, so a detected but
  mislocalised sounding pair is an FP and leaves the recall's denominator.
  ``recall_mode='detection'``: ``TP / S`` (object-detection style: a mislocalised sounding
  pair is both an FP and a missed positive).
* Precision ``TP / (TP + FP)``; 1 when nothing is detected. Recall is 1 when its
  denominator is 0.
* The curve is evaluated at every distinct confidence value (descending), i.e. exactly.
  ``ap`` is the all-point interpolated area: ``Σ_i (R_i − R_{i−1}) · max_{j ≥ i} P_j`` with
  ``R_0 = 0`` (the benchmark code samples at most ~200 thresholds; this is the exact limit).
* ``max_f1`` = ``max_τ 2PR / (P + R)`` over the same thresholds.
* ``precision@0.5`` = the precision when every sample is detected (``τ = −∞``):
  the fraction of all pairs that are sounding and localised with ``cIoU >= 0.5``.
"""
from typing import Dict, Sequence, Tuple

import numpy as np

RECALL_MODES = ('slavc', 'detection')


def precision_recall_curve(confidence: Sequence[float], is_sounding: Sequence[bool], cious: Sequence[float],
                           ciou_thr: float = 0.5, recall_mode: str = 'slavc') -> Tuple[np.ndarray, np.ndarray]:
    """Precision and recall at every distinct confidence threshold, highest threshold first.

    Args:
        confidence (Sequence[float]): Per-sample confidence that something sounds.
        is_sounding (Sequence[bool]): Whether the pair is sounding.
        cious (Sequence[float]): Per-sample cIoU (ignored for non-sounding pairs).
        ciou_thr (float): cIoU a sounding pair needs to count as a true positive.
        recall_mode (str): ``'slavc'`` or ``'detection'`` (see module docstring).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``precision``, ``recall``, one entry per distinct
        confidence value in descending order.
    """
    if recall_mode not in RECALL_MODES:
        raise ValueError(f'recall_mode must be one of {RECALL_MODES}, got {recall_mode!r}')
    confidence = np.asarray(confidence, dtype=np.float64)
    sounding = np.asarray(is_sounding, dtype=bool)
    cious = np.asarray(cious, dtype=np.float64)
    if not confidence.size:
        return np.zeros(0), np.zeros(0)
    good = sounding & (cious >= ciou_thr)

    order = np.argsort(-confidence, kind='stable')
    conf_sorted = confidence[order]
    tp = np.cumsum(good[order])
    fp = np.cumsum(~good[order])
    detected_sounding = np.cumsum(sounding[order])
    # One point per distinct confidence: the last index of each tie group.
    last_of_group = np.r_[conf_sorted[1:] != conf_sorted[:-1], True]
    tp, fp, detected_sounding = tp[last_of_group], fp[last_of_group], detected_sounding[last_of_group]

    precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 1.0)
    if recall_mode == 'detection':
        denominator = np.full_like(tp, sounding.sum())
    else:
        false_neg = sounding.sum() - detected_sounding
        denominator = tp + false_neg
    recall = np.where(denominator > 0, tp / np.maximum(denominator, 1), 1.0)
    return precision.astype(np.float64), recall.astype(np.float64)


def average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """All-point interpolated AP of a curve ordered by decreasing threshold (``nan`` if empty)."""
    if len(precision) == 0:
        return float('nan')
    envelope = np.maximum.accumulate(np.asarray(precision)[::-1])[::-1]
    recall_steps = np.diff(np.r_[0.0, np.asarray(recall)])
    return float(np.sum(recall_steps * envelope))


def max_f1(precision: np.ndarray, recall: np.ndarray) -> float:
    """Best ``2PR / (P + R)`` along the curve (0 where ``P + R == 0``; ``nan`` if empty)."""
    if len(precision) == 0:
        return float('nan')
    precision, recall = np.asarray(precision), np.asarray(recall)
    total = precision + recall
    f1 = np.where(total > 0, 2 * precision * recall / np.where(total > 0, total, 1), 0.0)
    return float(f1.max())


def extended_scores(confidence: Sequence[float], is_sounding: Sequence[bool], cious: Sequence[float],
                    ciou_thr: float = 0.5, recall_mode: str = 'slavc') -> Dict[str, float]:
    """``ap``, ``max_f1`` and ``precision@<ciou_thr>`` of an extended benchmark (module docstring)."""
    precision, recall = precision_recall_curve(confidence, is_sounding, cious, ciou_thr, recall_mode)
    sounding = np.asarray(is_sounding, dtype=bool)
    good = sounding & (np.asarray(cious, dtype=np.float64) >= ciou_thr)
    return {
        'ap': average_precision(precision, recall),
        'max_f1': max_f1(precision, recall),
        f'precision@{ciou_thr:g}': float(good.mean()) if good.size else float('nan'),
    }
