"""Map computations of a localizer, as pure tensor functions: no parameters, no state.

* :func:`crop_maps` / :func:`align_to_views` -- whole-frame pseudo-label maps brought to
  the augmented view the model sees (crop window, resampling, horizontal flip);
* :func:`posterior_maps` -- "this sound against the other kinds of sound" maps;
* :func:`familiarity` -- how close a sound lies to the nearest of those kinds.

:class:`~icl_av.models.localizers.AVLocalizer` and its
:class:`~icl_av.models.localizers.PosteriorMaps` call them; keeping them here lets each be
read and tested without building a model.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torchvision.ops import roi_align


def crop_maps(maps: torch.Tensor, windows: Sequence[Optional[Sequence[float]]], map_size) -> torch.Tensor:
    """Cut each whole-frame map to a window of the frame and resample it to ``map_size``.

    Args:
        maps (Tensor): ``B×h×w`` maps of whole frames.
        windows (list): Per map, ``(x1, y1, x2, y2)`` as fractions of the frame, or ``None``
            for the whole frame.
        map_size (tuple[int, int]): Output ``(h, w)``.

    Returns:
        Tensor: ``B×map_size`` maps (bilinear; a window of the whole frame with an equal size
        returns the maps unchanged).
    """
    map_size = tuple(int(v) for v in map_size)
    if all(window is None for window in windows):
        if tuple(maps.shape[-2:]) == map_size:
            return maps
        return F.interpolate(maps[:, None], size=map_size, mode='bilinear', align_corners=False)[:, 0]
    height, width = maps.shape[-2:]
    boxes = torch.tensor([[i, *(window if window is not None else (0.0, 0.0, 1.0, 1.0))]
                          for i, window in enumerate(windows)], dtype=maps.dtype, device=maps.device)
    boxes[:, 1::2] *= width
    boxes[:, 2::2] *= height
    return roi_align(maps[:, None], boxes, output_size=map_size, spatial_scale=1.0, sampling_ratio=1,
                     aligned=True)[:, 0]


def align_to_views(maps: torch.Tensor, windows: Sequence[Optional[Sequence[float]]], flips: Sequence[bool],
                   map_size) -> torch.Tensor:
    """Bring whole-frame maps to the views the model sees: cut to the crop window, resample, mirror.

    Args:
        maps (Tensor): ``B×h×w`` maps computed on whole, un-augmented frames.
        windows (list): Per map, the ``crop_window`` metainfo (fractions of the frame) or ``None``.
        flips (list[bool]): Per map, whether the view is mirrored horizontally.
        map_size (tuple[int, int]): Output ``(h, w)``.

    Returns:
        Tensor: ``B×map_size`` maps aligned with the views.
    """
    maps = crop_maps(maps, windows, map_size)
    flipped = torch.tensor([bool(flip) for flip in flips], device=maps.device)
    if flipped.any():
        maps = torch.where(flipped[:, None, None], maps.flip(-1), maps)
    return maps


def posterior_maps(own_maps: torch.Tensor, visual: torch.Tensor, prototypes: torch.Tensor,
                   tau: float) -> torch.Tensor:
    """At each location, the softmax of its similarity to this sound against the kinds of sound.

    Args:
        own_maps (Tensor): ``B×h×w`` similarity of each frame with its own sound.
        visual (Tensor): ``B×D×h×w`` L2-normalised visual embeddings.
        prototypes (Tensor): ``K×D`` audio cluster centroids (normalised here).
        tau (float): Softmax temperature.

    Returns:
        Tensor: ``B×h×w`` probabilities that a location answers this sound rather than a
        prototype; a silent object answers its own kind of sound more and drops out.
    """
    prototypes = F.normalize(prototypes.to(own_maps.dtype), dim=1)
    others = torch.einsum('bdhw,kd->bkhw', visual, prototypes)
    logits = torch.cat([own_maps[:, None], others], dim=1) / tau
    return torch.softmax(logits, dim=1)[:, 0]


def familiarity(embeddings: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """``N`` cosine similarities of each embedding (``N×D``) with its nearest prototype (``K×D``)."""
    embeddings = F.normalize(embeddings, dim=1)
    return (embeddings @ F.normalize(prototypes.to(embeddings.dtype), dim=1).t()).amax(dim=1)

