"""Min-max normalisation of localization maps: the one implementation the package uses.

Each ``h×w`` map is rescaled so that its minimum becomes 0 and its maximum 1. A *flat*
map (every location equal) has nothing to rescale, and what it should become depends on
the reader, so every caller names its convention:

* :data:`FLAT_IS_BACKGROUND` (0): nothing stands out. Used for pseudo-labels (an
  uninformative map marks no foreground) and for drawn heatmaps (nothing highlighted).
* :data:`FLAT_IS_EVERYWHERE` (1): the evaluation protocol's convention: a flat
  prediction is read as "the whole frame", which is what thresholding a map whose every
  value equals its maximum selects.

It lives beside the data structures, at the bottom of the package, so that models,
evaluation, visualization and the engine all import it without importing each other.
"""
import torch

#: A flat map becomes all zeros (nothing is foreground).
FLAT_IS_BACKGROUND = 0.0
#: A flat map becomes all ones (every location is selected).
FLAT_IS_EVERYWHERE = 1.0

#: Maps whose ``max - min`` is at most this are flat (no division by a vanishing range).
FLAT_SPAN = 1e-12


def min_max_normalize(maps: torch.Tensor, *, flat_value: float) -> torch.Tensor:
    """Rescale each map (the last two dims) to ``[0, 1]``.

    Args:
        maps (Tensor): ``h×w`` or ``...×h×w`` maps of any range. Integer maps are
            converted to float32; floating maps keep their dtype.
        flat_value (float): The value every location of a flat map takes, normally
            :data:`FLAT_IS_BACKGROUND` or :data:`FLAT_IS_EVERYWHERE`. Keyword-only so
            that every call site states its convention.

    Returns:
        Tensor: Maps of the input's shape with per-map minimum 0 and maximum 1, or
        ``flat_value`` everywhere for a flat map.

    Raises:
        ValueError: ``maps`` has fewer than two dims.
    """
    if maps.dim() < 2:
        raise ValueError(f'min_max_normalize: expected h×w or ...×h×w maps, got shape {tuple(maps.shape)}')
    values = maps if maps.is_floating_point() else maps.float()
    flat = values.flatten(-2)
    low = flat.amin(dim=-1, keepdim=True)
    span = flat.amax(dim=-1, keepdim=True) - low
    normalised = ((flat - low) / span.clamp_min(FLAT_SPAN)).clamp(0.0, 1.0)
    normalised = torch.where(span > FLAT_SPAN, normalised, torch.full_like(normalised, float(flat_value)))
    return normalised.view(values.shape)
