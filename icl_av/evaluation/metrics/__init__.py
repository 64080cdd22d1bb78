"""Localization metrics: the protocol (pure functions), extended AP/F1, the metric, the table.

The protocol turns a prediction map and its ground truth into a score (GT maps,
binarisation, cIoU, AUC). Everything a cIoU number depends on is a named knob, because
published numbers differ by these details more than by methods:

* ``eval_size`` -- the grid both maps are compared on (LVS/EZ-VSL: 224×224).
* ``upsample`` -- how the feature-resolution ``pred_map`` reaches that grid.
* ``threshold`` -- which pixels of the min-max normalised map count as "sounding":
  ``'median'`` (the value at ascending sorted index ``N // 2``, i.e. about half the
  image, as LVS/EZ-VSL compute it), ``'gt_area'`` (the value of the k-th largest pixel with
  k = number of GT pixels > 0, the "adaptive cIoU" whose ceiling is 1) or a float in [0, 1].
* ``comparison`` -- ``'>='`` (EZ-VSL's ``infer >= thr``) or ``'>'``.

Conventions shared by every scorer (model, baselines, ceiling):

* A constant map expresses no preference; it is scored as covering the whole image
  (the LVS reference code reaches the same result through its ``thr == 0`` path) and no
  division by zero happens in the normalisation.
* ``cIoU = Σ(P·G) / (ΣG + Σ P·[G == 0])`` with a binary prediction ``P`` and a GT map ``G``
  (binary, or Flickr's consensus values 0.5/1); ``0`` when the denominator is 0.
* ``auc`` integrates the success curve ``t -> fraction(cIoU >= t)`` over
  ``t = 0, 0.05, ..., 1`` (21 points, ``t_i = i / 20``) with the trapezoid rule.

The protocol's single-purpose modules (import their names from them):

* :mod:`.protocol_presets` -- the knobs, the presets and their validation;
* :mod:`.gt_maps` -- GT maps on the evaluation grid (boxes, masks, consensus maps);
* :mod:`.map_binarization` -- upsampling, normalisation, thresholds, binarisation;
* :mod:`.reference_maps` -- the centre prior and the protocol's ceiling;
* :mod:`.ciou_scores` -- cIoU, success rate, AUC.

RLE masks are decoded and encoded by :mod:`icl_av.structures.masks`.
"""
from .extended import average_precision, extended_scores, max_f1, precision_recall_curve
from .localization_metric import BASELINES, LocalizationMetric
from .protocol_presets import PRESETS, LocalizationProtocol, resolve_protocol
from .report import format_localization_table

__all__ = [
    'LocalizationMetric', 'BASELINES', 'PRESETS', 'LocalizationProtocol', 'resolve_protocol',
    'precision_recall_curve', 'average_precision', 'max_f1', 'extended_scores', 'format_localization_table'
]
