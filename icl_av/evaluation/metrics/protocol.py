"""The localization evaluation protocol (GT maps, binarisation, cIoU, AUC): its conventions and public names.

Everything a cIoU number depends on is a named knob here, because published numbers
differ by these details more than by methods:

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

This module is the protocol's front door: it re-exports the names of the single-purpose
modules that implement it, so ``from icl_av.evaluation.metrics.protocol import ...`` keeps
working:

* :mod:`.protocol_presets` -- the knobs, the presets and their validation;
* :mod:`.gt_maps` -- GT maps on the evaluation grid (boxes, masks, consensus maps);
* :mod:`.map_binarization` -- upsampling, normalisation, thresholds, binarisation;
* :mod:`.reference_maps` -- the centre prior and the protocol's ceiling;
* :mod:`.ciou_scores` -- cIoU, success rate, AUC.
"""
from icl_av.structures.masks import decode_rle, encode_rle  # noqa: F401  (the one RLE codec; names kept here)
from .ciou_scores import AUC_THRESHOLDS, ciou, ciou_auc, success_rate, summarize_cious  # noqa: F401
from .gt_maps import build_gt_map, gt_map_from_bboxes, gt_map_from_masks  # noqa: F401
from .map_binarization import (binarize_map, binarize_prediction, is_constant, normalize_map,  # noqa: F401
                               threshold_value, upsample_map)
from .protocol_presets import (COMPARISONS, NAMED_THRESHOLDS, PRESETS, UPSAMPLE_MODES,  # noqa: F401
                               EvalSize, LocalizationProtocol, resolve_protocol)
from .reference_maps import center_prior_map, gt_rank_map, perfect_prediction  # noqa: F401
