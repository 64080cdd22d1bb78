"""Ground-truth maps on the evaluation grid, from Flickr consensus maps, COCO-RLE masks or boxes."""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from icl_av.structures.masks import decode_rle


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
