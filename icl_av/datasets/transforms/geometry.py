"""Geometric image transforms that carry the ground truth along.

Each transform changes ``results['img']``, updates ``results['img_shape']`` and moves
``gt_bboxes`` / ``gt_map`` / ``gt_masks`` through
:mod:`icl_av.datasets.utils.annotation_geometry`, so the metric always sees annotations
in the geometry of the image the model saw.
"""
import math
import random
from typing import Dict, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from icl_av.registry import TRANSFORMS

from ..utils.annotation_geometry import crop_annotations, hflip_annotations, image_hw, resize_annotations, \
    vflip_annotations

_INTERPOLATIONS = ('nearest', 'bilinear', 'bicubic', 'area', 'lanczos')


def _check_interpolation(name: str) -> str:
    if name not in _INTERPOLATIONS:
        raise ValueError(f'interpolation must be one of {_INTERPOLATIONS}, got {name!r}')
    return name


def _resize_image_and_annotations(results: Dict, new_w: int, new_h: int, interpolation: str) -> None:
    """Resize ``results['img']`` to ``(new_h, new_w)`` and move the annotations with it."""
    old_h, old_w = image_hw(results['img'])
    results.setdefault('img_shape', (old_h, old_w))
    results['img'] = mmcv.imresize(results['img'], (new_w, new_h), interpolation=interpolation)
    resize_annotations(results, new_w, new_h)
    sx, sy = new_w / old_w, new_h / old_h
    prev = results.get('scale_factor', (1.0, 1.0))
    results['scale_factor'] = (prev[0] * sx, prev[1] * sy)
    results['img_shape'] = (new_h, new_w)


def _crop_image_and_annotations(results: Dict, x1: int, y1: int, x2: int, y2: int) -> None:
    """Crop ``results['img']`` to ``[x1, x2) × [y1, y2)`` and move the annotations with it."""
    results['img'] = np.ascontiguousarray(results['img'][y1:y2, x1:x2])
    crop_annotations(results, x1, y1, x2, y2)
    results['img_shape'] = (y2 - y1, x2 - x1)


@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resize the image (and its annotations).

    Boxes are scaled; the map and masks are resized with nearest neighbour, so consensus
    levels and binary masks stay exact.

    Required Keys:

        - img
        - img_shape (optional; the image's when absent)
        - scale_factor (optional; an earlier resize's, composed with this one)
        - gt_bboxes (optional; ``N×4`` x1y1x2y2 pixels)
        - gt_map (optional; ``H×W`` float32)
        - gt_masks (optional; COCO RLE)

    Added Keys:

        - scale_factor (``(w_scale, h_scale)`` from the loaded frame)

    Modified Keys:

        - img
        - img_shape (``(new_h, new_w)``)
        - gt_bboxes (scaled and clipped; float32)
        - gt_map, gt_masks (resized)

    Args:
        scale (int | tuple[int, int]): Target size. A tuple is ``(width, height)`` (mmcv's order).
            With ``keep_ratio=False`` the image is squashed to exactly that size (an int means a
            square). With ``keep_ratio=True`` an int sets the *short* side, and a tuple gives the
            largest size that fits within ``(long edge, short edge)`` limits as in ``mmcv.imrescale``.
        keep_ratio (bool): Keep the aspect ratio (see ``scale``). Default False (squash), the
            setting of the public sound-localization anchors (224×224).
        interpolation (str): cv2 interpolation name. Default ``'bilinear'``.
    """

    def __init__(self, scale: Union[int, Tuple[int, int]], keep_ratio: bool = False,
                 interpolation: str = 'bilinear'):
        if isinstance(scale, int):
            if scale <= 0:
                raise ValueError(f'Resize scale must be positive, got {scale}')
        elif not (isinstance(scale, (tuple, list)) and len(scale) == 2 and min(scale) > 0):
            raise ValueError(f'Resize scale must be an int or a (width, height) pair, got {scale!r}')
        self.scale = scale if isinstance(scale, int) else tuple(int(s) for s in scale)
        self.keep_ratio = keep_ratio
        self.interpolation = _check_interpolation(interpolation)

    def target_size(self, height: int, width: int) -> Tuple[int, int]:
        """Return the ``(new_w, new_h)`` this transform produces for an ``height×width`` image."""
        if not self.keep_ratio:
            return (self.scale, self.scale) if isinstance(self.scale, int) else self.scale
        if isinstance(self.scale, int):
            factor = self.scale / min(height, width)
        else:
            long_edge, short_edge = max(self.scale), min(self.scale)
            factor = min(long_edge / max(height, width), short_edge / min(height, width))
        return max(1, int(round(width * factor))), max(1, int(round(height * factor)))

    def transform(self, results: Dict) -> Dict:
        """Resize ``results['img']`` and the annotations; sets ``img_shape`` and ``scale_factor``."""
        height, width = image_hw(results['img'])
        new_w, new_h = self.target_size(height, width)
        _resize_image_and_annotations(results, new_w, new_h, self.interpolation)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, keep_ratio={self.keep_ratio}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class CenterCrop(BaseTransform):
    """Crop the centre ``crop_size`` window (clamped to the image when the image is smaller).

    Required Keys:

        - img
        - img_shape (optional; the image's when absent)
        - gt_bboxes (optional; ``N×4`` x1y1x2y2 pixels)
        - gt_map (optional; ``H×W`` float32)
        - gt_masks (optional; COCO RLE)

    Modified Keys:

        - img
        - img_shape (the window's ``(H, W)``)
        - gt_bboxes (shifted and clipped; boxes left without area are dropped)
        - gt_map, gt_masks (cropped)

    Args:
        crop_size (int | tuple[int, int]): ``(width, height)`` or a square side.
    """

    def __init__(self, crop_size: Union[int, Tuple[int, int]]):
        size = (crop_size, crop_size) if isinstance(crop_size, int) else tuple(crop_size)
        if len(size) != 2 or min(size) <= 0:
            raise ValueError(f'CenterCrop crop_size must be positive, got {crop_size!r}')
        self.crop_size = (int(size[0]), int(size[1]))

    def transform(self, results: Dict) -> Dict:
        """Crop the image and the annotations to the centre window."""
        height, width = image_hw(results['img'])
        results.setdefault('img_shape', (height, width))
        crop_w, crop_h = min(self.crop_size[0], width), min(self.crop_size[1], height)
        x1, y1 = (width - crop_w) // 2, (height - crop_h) // 2
        _crop_image_and_annotations(results, x1, y1, x1 + crop_w, y1 + crop_h)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size})'


def compose_windows(outer, inner):
    """A normalised window ``inner`` of an image that is itself the window ``outer`` of the frame.

    Windows are ``(x1, y1, x2, y2)`` fractions of their image's width and height; ``outer``
    may be ``None`` (the whole frame). Returns ``inner`` in the frame's fractions.
    """
    if outer is None:
        return tuple(float(v) for v in inner)
    ox1, oy1, ox2, oy2 = outer
    ow, oh = ox2 - ox1, oy2 - oy1
    return (ox1 + inner[0] * ow, oy1 + inner[1] * oh, ox1 + inner[2] * ow, oy1 + inner[3] * oh)


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Crop a random window of random area and aspect ratio, then resize it to ``scale``.

    Records the window as ``results['crop_window']``: ``(x1, y1, x2, y2)`` as fractions of
    the loaded frame (composed with an earlier crop's window), so that per-frame labels
    computed on the whole frame (ICL's pseudo maps) can be cut to what the model sees.
    Keep it before ``RandomFlip`` (the flip is applied to the cropped frame).

    Required Keys:

        - img
        - img_shape (optional; the image's when absent)
        - crop_window (optional; an earlier crop's window, composed with this one)
        - scale_factor (optional; an earlier resize's, composed with this one)
        - gt_bboxes (optional; ``N×4`` x1y1x2y2 pixels)
        - gt_map (optional; ``H×W`` float32)
        - gt_masks (optional; COCO RLE)

    Added Keys:

        - crop_window (``(x1, y1, x2, y2)`` fractions of the loaded frame)
        - scale_factor (``(w_scale, h_scale)`` of the resize after the crop)

    Modified Keys:

        - img
        - img_shape (``scale``'s ``(H, W)``)
        - gt_bboxes (cropped, then scaled; boxes left without area are dropped)
        - gt_map, gt_masks (cropped, then resized with nearest neighbour)

    Args:
        scale (int | tuple[int, int]): Output ``(width, height)`` or a square side.
        crop_ratio_range (tuple[float, float]): Range of the window's area as a fraction of
            the image area. Default ``(0.08, 1.0)``.
        aspect_ratio_range (tuple[float, float]): Range of the window's width/height ratio
            (sampled log-uniformly). Default ``(3/4, 4/3)``.
        max_attempts (int): Tries before falling back to the largest centred window that
            fits the ratio range.
        interpolation (str): cv2 interpolation name. Default ``'bilinear'``.
    """

    def __init__(self, scale: Union[int, Tuple[int, int]], crop_ratio_range: Sequence[float] = (0.08, 1.0),
                 aspect_ratio_range: Sequence[float] = (3. / 4., 4. / 3.), max_attempts: int = 10,
                 interpolation: str = 'bilinear'):
        size = (scale, scale) if isinstance(scale, int) else tuple(scale)
        if len(size) != 2 or min(size) <= 0:
            raise ValueError(f'RandomResizedCrop scale must be positive, got {scale!r}')
        if not 0 < crop_ratio_range[0] <= crop_ratio_range[1] <= 1:
            raise ValueError(f'crop_ratio_range must satisfy 0 < lo <= hi <= 1, got {crop_ratio_range}')
        if not 0 < aspect_ratio_range[0] <= aspect_ratio_range[1]:
            raise ValueError(f'aspect_ratio_range must satisfy 0 < lo <= hi, got {aspect_ratio_range}')
        self.scale = (int(size[0]), int(size[1]))
        self.crop_ratio_range = tuple(crop_ratio_range)
        self.aspect_ratio_range = tuple(aspect_ratio_range)
        self.max_attempts = max_attempts
        self.interpolation = _check_interpolation(interpolation)

    def sample_window(self, height: int, width: int) -> Tuple[int, int, int, int]:
        """Sample a crop window ``(x1, y1, x2, y2)`` inside an ``height×width`` image."""
        area = height * width
        log_lo, log_hi = math.log(self.aspect_ratio_range[0]), math.log(self.aspect_ratio_range[1])
        for _ in range(self.max_attempts):
            target_area = random.uniform(*self.crop_ratio_range) * area
            ratio = math.exp(random.uniform(log_lo, log_hi))
            crop_w = int(round(math.sqrt(target_area * ratio)))
            crop_h = int(round(math.sqrt(target_area / ratio)))
            if 0 < crop_w <= width and 0 < crop_h <= height:
                x1 = random.randint(0, width - crop_w)
                y1 = random.randint(0, height - crop_h)
                return x1, y1, x1 + crop_w, y1 + crop_h
        # Fallback: the whole image, trimmed to the closest allowed aspect ratio, centred.
        ratio = width / height
        if ratio < self.aspect_ratio_range[0]:
            crop_w, crop_h = width, int(round(width / self.aspect_ratio_range[0]))
        elif ratio > self.aspect_ratio_range[1]:
            crop_w, crop_h = int(round(height * self.aspect_ratio_range[1])), height
        else:
            crop_w, crop_h = width, height
        crop_w, crop_h = max(1, min(crop_w, width)), max(1, min(crop_h, height))
        x1, y1 = (width - crop_w) // 2, (height - crop_h) // 2
        return x1, y1, x1 + crop_w, y1 + crop_h

    def transform(self, results: Dict) -> Dict:
        """Crop a random window and resize it; annotations follow."""
        height, width = image_hw(results['img'])
        results.setdefault('img_shape', (height, width))
        x1, y1, x2, y2 = self.sample_window(height, width)
        results['crop_window'] = compose_windows(results.get('crop_window'),
                                                 (x1 / width, y1 / height, x2 / width, y2 / height))
        _crop_image_and_annotations(results, x1, y1, x2, y2)
        _resize_image_and_annotations(results, self.scale[0], self.scale[1], self.interpolation)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, crop_ratio_range={self.crop_ratio_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range})')


@TRANSFORMS.register_module()
class RandomFlip(BaseTransform):
    """Flip the image (and annotations) with probability ``prob``; records ``results['flip']``.

    Required Keys:

        - img
        - img_shape (optional; the image's when absent)
        - flip (optional; an earlier flip, which this one undoes when it flips again)
        - gt_bboxes (optional; ``N×4`` x1y1x2y2 pixels)
        - gt_map (optional; ``H×W`` float32)
        - gt_masks (optional; COCO RLE)

    Added Keys:

        - flip (bool: whether the image is mirrored in the end)
        - flip_direction (only when this transform flips)

    Modified Keys:

        - img, gt_bboxes, gt_map, gt_masks (mirrored when this transform flips)

    Args:
        prob (float): Flip probability in ``[0, 1]``. Default 0.5.
        direction (str): ``'horizontal'`` (default) or ``'vertical'``.
    """

    def __init__(self, prob: float = 0.5, direction: str = 'horizontal'):
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomFlip prob must be in [0, 1], got {prob}')
        if direction not in ('horizontal', 'vertical'):
            raise ValueError(f"RandomFlip direction must be 'horizontal' or 'vertical', got {direction!r}")
        self.prob = prob
        self.direction = direction

    def transform(self, results: Dict) -> Dict:
        """Flip or not; always sets ``flip`` (bool) and, when flipped, ``flip_direction``."""
        results.setdefault('img_shape', image_hw(results['img']))
        flip = random.random() < self.prob
        if flip:
            results['img'] = mmcv.imflip(results['img'], direction=self.direction)
            if self.direction == 'horizontal':
                hflip_annotations(results)
            else:
                vflip_annotations(results)
            results['flip_direction'] = self.direction
        results['flip'] = bool(results.get('flip', False)) ^ flip
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob}, direction={self.direction!r})'


__all__ = ['Resize', 'CenterCrop', 'RandomResizedCrop', 'RandomFlip', 'compose_windows']
