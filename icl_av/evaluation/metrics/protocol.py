"""The localization evaluation protocol as pure functions: GT maps, binarisation, cIoU, AUC.

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
"""
import math
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from icl_av.structures.map_normalization import FLAT_IS_EVERYWHERE, min_max_normalize
from icl_av.structures.masks import decode_rle, encode_rle  # noqa: F401  (the one RLE codec; names kept here)

#: Upsampling modes: name -> (torch mode, align_corners).
UPSAMPLE_MODES: Dict[str, Tuple[str, Optional[bool]]] = {
    'bilinear': ('bilinear', False),
    'bilinear_ac': ('bilinear', True),
    'bicubic': ('bicubic', False),
    'area': ('area', None),
    'nearest': ('nearest', None),
}
COMPARISONS = ('>=', '>')
NAMED_THRESHOLDS = ('median', 'gt_area')

#: Protocol presets. ``lvs``: the LVS / EZ-VSL protocol most papers report (224×224,
#: bilinear, median threshold, ``>=``). ``adaptive``: same grid, threshold at the GT area
#: (top-k, k = GT pixels) so the score no longer rewards maps that happen to cover half
#: the image; its ceiling is 1 for binary GT. ``native``: the LVS rules in each sample's
#: own ``img_shape`` (no resizing of GT boxes/masks; for non-224 test pipelines).
PRESETS: Dict[str, Dict] = {
    'lvs': dict(eval_size=(224, 224), upsample='bilinear', threshold='median', comparison='>='),
    'adaptive': dict(eval_size=(224, 224), upsample='bilinear', threshold='gt_area', comparison='>='),
    'native': dict(eval_size='img_shape', upsample='bilinear', threshold='median', comparison='>='),
}

#: Success-curve thresholds for the AUC: 0, 0.05, ..., 1.
AUC_THRESHOLDS = np.linspace(0.0, 1.0, 21)

EvalSize = Union[str, Tuple[int, int]]


@dataclass(frozen=True)
class LocalizationProtocol:
    """The resolved knobs of one evaluation protocol (see the module docstring).

    Attributes:
        eval_size (tuple[int, int] | str): ``(H, W)`` grid or ``'img_shape'``.
        upsample (str): A key of :data:`UPSAMPLE_MODES`.
        threshold (str | float): ``'median'``, ``'gt_area'`` or a float in [0, 1].
        comparison (str): ``'>='`` or ``'>'``.
    """
    eval_size: EvalSize = (224, 224)
    upsample: str = 'bilinear'
    threshold: Union[str, float] = 'median'
    comparison: str = '>='

    @property
    def rank_based(self) -> bool:
        """Whether the threshold depends on the ranking of pixels (median/gt_area), not their values."""
        return isinstance(self.threshold, str)

    def size_for(self, img_shape: Optional[Sequence[int]]) -> Tuple[int, int]:
        """The evaluation grid ``(H, W)`` for a sample whose image has ``img_shape``."""
        if self.eval_size == 'img_shape':
            if img_shape is None:
                raise ValueError("eval_size='img_shape' needs the sample's img_shape metainfo")
            return int(img_shape[0]), int(img_shape[1])
        return self.eval_size


def _normalise_eval_size(eval_size) -> EvalSize:
    if eval_size == 'img_shape':
        return eval_size
    if isinstance(eval_size, int):
        eval_size = (eval_size, eval_size)
    if (not isinstance(eval_size, (tuple, list)) or len(eval_size) != 2
            or not all(isinstance(v, int) and v > 0 for v in eval_size)):
        raise ValueError(f"eval_size must be a positive int, an (H, W) pair or 'img_shape', got {eval_size!r}")
    return int(eval_size[0]), int(eval_size[1])


def resolve_protocol(preset: str = 'lvs', eval_size=None, upsample: Optional[str] = None,
                     threshold=None, comparison: Optional[str] = None) -> LocalizationProtocol:
    """Build a :class:`LocalizationProtocol` from a preset and explicit overrides.

    Args:
        preset (str): A key of :data:`PRESETS`.
        eval_size (int | tuple | str, optional): Overrides the preset's grid.
        upsample (str, optional): Overrides the preset's upsampling mode.
        threshold (str | float, optional): Overrides the preset's threshold.
        comparison (str, optional): Overrides the preset's comparison.

    Returns:
        LocalizationProtocol: The validated protocol.

    Raises:
        ValueError: An unknown preset or an invalid knob value (the message names it).
    """
    if preset not in PRESETS:
        raise ValueError(f'unknown localization protocol preset {preset!r}; choose one of {sorted(PRESETS)}')
    knobs = dict(PRESETS[preset])
    overrides = dict(eval_size=eval_size, upsample=upsample, threshold=threshold, comparison=comparison)
    knobs.update({key: value for key, value in overrides.items() if value is not None})

    if knobs['upsample'] not in UPSAMPLE_MODES:
        raise ValueError(f"unknown upsample mode {knobs['upsample']!r}; choose one of {sorted(UPSAMPLE_MODES)}")
    if knobs['comparison'] not in COMPARISONS:
        raise ValueError(f"unknown comparison {knobs['comparison']!r}; choose one of {list(COMPARISONS)}")
    thr = knobs['threshold']
    if isinstance(thr, str):
        if thr not in NAMED_THRESHOLDS:
            raise ValueError(f"unknown threshold {thr!r}; use one of {list(NAMED_THRESHOLDS)} or a float in [0, 1]")
    elif isinstance(thr, (int, float)) and not isinstance(thr, bool) and 0.0 <= float(thr) <= 1.0:
        knobs['threshold'] = float(thr)
    else:
        raise ValueError(f'threshold must be {list(NAMED_THRESHOLDS)} or a float in [0, 1], got {thr!r}')
    knobs['eval_size'] = _normalise_eval_size(knobs['eval_size'])
    return LocalizationProtocol(**knobs)


# --------------------------------------------------------------------------- GT maps
def _resize_nearest(array: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Resize a 2-D map to ``size`` keeping its values (nearest neighbour)."""
    if tuple(array.shape) == tuple(size):
        return array
    return F.interpolate(array[None, None].float(), size=size, mode='nearest')[0, 0]


def gt_map_from_bboxes(bboxes, img_shape: Sequence[int], size: Tuple[int, int]) -> torch.Tensor:
    """Union of boxes as a binary map on the evaluation grid (the VGG-SS convention).

    Box corners (pixels of ``img_shape``) are scaled to ``size`` and truncated to
    integers, and ``map[y1:y2, x1:x2] = 1`` -- the reference code's rasterisation.

    Args:
        bboxes (Tensor | ndarray): ``N×4`` ``x1, y1, x2, y2`` pixels in ``img_shape``.
        img_shape (Sequence[int]): ``(H, W)`` of the geometry the boxes live in.
        size (tuple[int, int]): ``(H, W)`` of the evaluation grid.

    Returns:
        torch.Tensor: ``size`` float32 map with values in {0, 1}.
    """
    height, width = size
    gt = torch.zeros(height, width)
    boxes = torch.as_tensor(bboxes, dtype=torch.float64).reshape(-1, 4)
    scale_x, scale_y = width / float(img_shape[1]), height / float(img_shape[0])
    for x1, y1, x2, y2 in boxes.tolist():
        c1, c2 = (min(max(int(x * scale_x), 0), width) for x in (x1, x2))
        r1, r2 = (min(max(int(y * scale_y), 0), height) for y in (y1, y2))
        gt[r1:r2, c1:c2] = 1.0
    return gt


def gt_map_from_masks(masks: Sequence[dict], size: Tuple[int, int]) -> torch.Tensor:
    """Union of COCO-RLE masks, resized (nearest) to the evaluation grid; values in {0, 1}."""
    union = None
    for rle in masks:
        mask = decode_rle(rle)
        union = mask if union is None else np.maximum(union, mask)
    if union is None:
        return torch.zeros(size)
    return _resize_nearest(torch.from_numpy((union > 0).astype(np.float32)), size)


def build_gt_map(sample: dict, size: Tuple[int, int], source: str = 'auto') -> Optional[torch.Tensor]:
    """The GT map of one sample on the evaluation grid.

    Sources, in the ``'auto'`` priority order: ``gt_map`` (Flickr consensus, already in
    the sample's geometry; resized with nearest neighbour so 0.5/1 values survive),
    ``gt_masks`` (union of COCO RLE), non-empty ``gt_bboxes`` (union of boxes).

    Args:
        sample (dict): Predicted sample as a dict (``AVDataSample.to_dict()``).
        size (tuple[int, int]): Evaluation grid ``(H, W)``.
        source (str): ``'auto'``, ``'map'``, ``'masks'`` or ``'bboxes'``.

    Returns:
        torch.Tensor | None: ``size`` float32 map, or ``None`` when the sample has no annotation.
    """
    if source not in ('auto', 'map', 'masks', 'bboxes'):
        raise ValueError(f"gt_source must be 'auto', 'map', 'masks' or 'bboxes', got {source!r}")
    gt_map = sample.get('gt_map')
    if source in ('auto', 'map') and gt_map is not None:
        return _resize_nearest(torch.as_tensor(gt_map, dtype=torch.float32).cpu(), size)
    masks = sample.get('gt_masks')
    if source in ('auto', 'masks') and masks:
        return gt_map_from_masks(masks, size)
    bboxes = sample.get('gt_bboxes')
    if source in ('auto', 'bboxes') and bboxes is not None and len(bboxes) > 0:
        img_shape = sample.get('img_shape')
        if img_shape is None:
            raise ValueError(f"sample {sample.get('video_id')!r} has gt_bboxes but no img_shape metainfo")
        return gt_map_from_bboxes(torch.as_tensor(bboxes).cpu(), img_shape, size)
    return None


# --------------------------------------------------------------------------- predictions
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


# --------------------------------------------------------------------------- baselines
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


# --------------------------------------------------------------------------- scores
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

