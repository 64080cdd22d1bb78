"""The localization protocol's knobs and presets: what a cIoU number depends on, validated.

The knobs (``eval_size``, ``upsample``, ``threshold``, ``comparison``) are described in
:mod:`icl_av.evaluation.metrics`; the maths that applies them lives in
:mod:`.gt_maps`, :mod:`.map_binarization` and :mod:`.ciou_scores`.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple, Union

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
#: (top-k, k = GT pixels) so the score does not reward maps that happen to cover half
#: the image; its ceiling is 1 for binary GT. ``native``: the LVS rules in each sample's
#: own ``img_shape`` (no resizing of GT boxes/masks; for non-224 test pipelines).
PRESETS: Dict[str, Dict] = {
    'lvs': dict(eval_size=(224, 224), upsample='bilinear', threshold='median', comparison='>='),
    'adaptive': dict(eval_size=(224, 224), upsample='bilinear', threshold='gt_area', comparison='>='),
    'native': dict(eval_size='img_shape', upsample='bilinear', threshold='median', comparison='>='),
}



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
