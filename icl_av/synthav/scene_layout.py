"""SynthAV scene layout: where the objects go, with exact masks and boxes (drawing: :mod:`.scene_render`).

A scene is a stack of flat objects over a background, one of them the sounding (main) object.

Layout rules (all sizes are *box* areas as a fraction of the frame, boxes clipped to it):

* the main (sounding) object's clipped box covers ``MAIN_AREA_RANGE`` = [0.28, 0.48]
  of the frame, like Flickr-SoundNet's large objects; the upper bound keeps the
  whole-image prediction below cIoU 0.5 by construction, the lower bound keeps the
  median-binarised protocol's ceiling ``min(2a, 1/(2a))`` above 0.5;
* a distractor covers ``DISTRACTOR_AREA_RANGE`` = [0.08, 0.30], or, with probability
  ``PEER_DISTRACTOR_PROB`` = 0.5, the main object's range (a "peer"), so that "the
  largest object" is not a reliable visual-only answer;
* centres are uniform over the whole frame (no centre bias): objects may be cut by
  the border, but at least ``MIN_INSIDE_FRACTION`` = 0.6 of an object's box stays inside;
* objects may overlap in a random depth order, but the main object keeps at least
  ``MIN_MAIN_VISIBLE`` of its in-frame pixels and a distractor ``MIN_DISTRACTOR_VISIBLE``.

Boxes are integer pixel edges ``x1, y1, x2, y2`` (``x2``/``y2`` exclusive), the tight
box of the object's rasterised in-frame mask, so ``mask[y1:y2, x1:x2]`` holds it all.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .classes import SYNTHAV_CLASSES

MAIN_AREA_RANGE = (0.28, 0.48)
DISTRACTOR_AREA_RANGE = (0.08, 0.30)
PEER_DISTRACTOR_PROB = 0.5
MIN_INSIDE_FRACTION = 0.6
MIN_MAIN_VISIBLE = 0.75
MIN_DISTRACTOR_VISIBLE = 0.5
MAX_ROTATION_DEG = 15.0
_ELONGATED_ASPECT = (1.5, 2.0)  # the ellipse family is elongated by definition
_DEFAULT_ASPECT = (0.8, 1.25)
_SUBPIXEL_SHIFT = 4  # cv2.fillPoly fixed-point bits


@dataclass
class PlacedObject:
    """One object of a scene with its exact geometry.

    Attributes:
        class_id (int): Index into ``SYNTHAV_CLASSES``.
        center (tuple): ``(cx, cy)`` in pixels (may lie near or on the border).
        size (tuple): ``(w, h)`` of the unclipped object box in pixels.
        rotation (float): Rotation in radians (texture follows it).
        depth (float): Drawing order key; larger is drawn later (on top).
        mask (np.ndarray): bool ``H×W``, the object's in-frame pixels (before occlusion).
        box (np.ndarray): int64 ``(4,)`` tight box of ``mask``, exclusive right/bottom.
        visible (np.ndarray): bool ``H×W``, ``mask`` minus what objects on top hide
            (filled by ``layout_scene``).
    """

    class_id: int
    center: Tuple[float, float]
    size: Tuple[float, float]
    rotation: float
    depth: float
    mask: np.ndarray
    box: np.ndarray
    visible: Optional[np.ndarray] = None


def _unit_polygon(shape: str) -> np.ndarray:
    """Vertices of a shape family on the unit scale, before rotation and fitting."""
    if shape in ('circle', 'ellipse'):
        angles = np.linspace(0.0, 2 * np.pi, 40, endpoint=False)
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if shape == 'square':
        return np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    if shape == 'diamond':
        return np.array([[0, -1], [1, 0], [0, 1], [-1, 0]], dtype=np.float64)
    if shape == 'triangle':
        return np.array([[0, -1], [1, 1], [-1, 1]], dtype=np.float64)
    if shape == 'hexagon':
        angles = np.arange(6) * np.pi / 3
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if shape == 'star':
        angles = np.arange(10) * np.pi / 5 - np.pi / 2
        radii = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    if shape == 'cross':
        a = 0.36
        return np.array([[-a, -1], [a, -1], [a, -a], [1, -a], [1, a], [a, a], [a, 1], [-a, 1],
                         [-a, a], [-1, a], [-1, -a], [-a, -a]], dtype=np.float64)
    raise ValueError(f'SynthAV scene: unknown shape family {shape!r}')


def _object_polygon(shape: str, center, size, rotation: float) -> np.ndarray:
    """Polygon (pixels, continuous edge coordinates) rotated and fitted to its box."""
    unit = _unit_polygon(shape)
    cos, sin = np.cos(rotation), np.sin(rotation)
    rotated = unit @ np.array([[cos, sin], [-sin, cos]])
    lo, hi = rotated.min(axis=0), rotated.max(axis=0)
    fitted = (rotated - (lo + hi) / 2) / (hi - lo)  # tight box is exactly [-0.5, 0.5]^2
    return fitted * np.asarray(size) + np.asarray(center)


def rasterize_polygon(polygon: np.ndarray, img_size: int) -> np.ndarray:
    """Bool ``img_size×img_size`` mask of the pixels whose centres lie inside ``polygon``."""
    canvas = np.zeros((img_size, img_size), dtype=np.uint8)
    # cv2 puts pixel centres at integer coordinates; ours are at +0.5
    points = np.round((polygon - 0.5) * (1 << _SUBPIXEL_SHIFT)).astype(np.int32)
    cv2.fillPoly(canvas, [points], 1, lineType=cv2.LINE_8, shift=_SUBPIXEL_SHIFT)
    return canvas.astype(bool)


def mask_box(mask: np.ndarray) -> Optional[np.ndarray]:
    """Tight ``x1, y1, x2, y2`` (exclusive end) int64 box of a bool mask, ``None`` if empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.int64)


def sample_object(class_id: int, area_range: Sequence[float], img_size: int,
                  rng: np.random.Generator, depth: float = 0.0,
                  max_tries: int = 100) -> Optional[PlacedObject]:
    """Place one object with its clipped box area (fraction of the frame) in ``area_range``.

    The centre is uniform over the whole frame; a draw is rejected when less than
    ``MIN_INSIDE_FRACTION`` of its box is inside the frame or the clipped box area
    falls outside ``area_range``.

    Args:
        class_id (int): The object's class.
        area_range (tuple): Allowed clipped box area, fraction of the frame.
        img_size (int): Frame side in pixels.
        rng (np.random.Generator): Random source.
        depth (float): Drawing order key.
        max_tries (int): Rejection-sampling budget.

    Returns:
        PlacedObject or None: ``None`` when no draw was accepted.
    """
    shape = SYNTHAV_CLASSES[class_id].shape
    aspect_range = _ELONGATED_ASPECT if shape == 'ellipse' else _DEFAULT_ASPECT
    lo, hi = area_range
    frame_area = float(img_size * img_size)
    for _ in range(max_tries):
        full_area = rng.uniform(lo, min(hi / MIN_INSIDE_FRACTION, 0.95)) * frame_area
        aspect = np.exp(rng.uniform(np.log(aspect_range[0]), np.log(aspect_range[1])))
        if shape == 'ellipse' and rng.random() < 0.5:
            aspect = 1.0 / aspect
        w, h = np.sqrt(full_area * aspect), np.sqrt(full_area / aspect)
        if w > img_size or h > img_size:
            continue
        cx, cy = rng.uniform(0.0, img_size, size=2)
        clipped_w = min(cx + w / 2, img_size) - max(cx - w / 2, 0.0)
        clipped_h = min(cy + h / 2, img_size) - max(cy - h / 2, 0.0)
        if clipped_w * clipped_h < MIN_INSIDE_FRACTION * w * h:
            continue
        rotation = np.deg2rad(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
        mask = rasterize_polygon(_object_polygon(shape, (cx, cy), (w, h), rotation), img_size)
        box = mask_box(mask)
        if box is None:
            continue
        box_area = float((box[2] - box[0]) * (box[3] - box[1])) / frame_area
        if lo <= box_area <= hi:
            return PlacedObject(class_id, (float(cx), float(cy)), (float(w), float(h)),
                                float(rotation), depth, mask, box)
    return None


def _update_visibility(objects: List[PlacedObject]) -> None:
    """Set each object's ``visible`` mask: its pixels not covered by objects drawn later."""
    covered = None
    for obj in sorted(objects, key=lambda o: o.depth, reverse=True):
        obj.visible = obj.mask if covered is None else obj.mask & ~covered
        covered = obj.mask.copy() if covered is None else covered | obj.mask


def _visibility_ok(objects: List[PlacedObject]) -> bool:
    main = objects[0]
    if main.visible.sum() < MIN_MAIN_VISIBLE * main.mask.sum():
        return False
    return all(o.visible.sum() >= MIN_DISTRACTOR_VISIBLE * o.mask.sum() for o in objects[1:])


def layout_scene(main_class: int, distractor_classes: Sequence[int], img_size: int,
                 rng: np.random.Generator, peer_prob: float = PEER_DISTRACTOR_PROB,
                 max_tries: int = 12) -> List[PlacedObject]:
    """Place the main object and the distractors with the occlusion limits of the module doc.

    Args:
        main_class (int): Class of the main (sounding, or silent in the extended
            split) object.
        distractor_classes (Sequence[int]): Classes of the distractors, in order.
        img_size (int): Frame side in pixels.
        rng (np.random.Generator): Random source.
        peer_prob (float): Probability that a distractor is as large as the main object.
        max_tries (int): Placements tried per distractor before it is dropped (a peer
            that does not fit falls back to the small range half-way).

    Returns:
        list[PlacedObject]: The main object first, then the distractors that fit,
        each with its ``visible`` mask set.

    Raises:
        RuntimeError: If the main object cannot be placed (should not happen for the
            module's ranges; it names the class and the frame size).
    """
    main = sample_object(main_class, MAIN_AREA_RANGE, img_size, rng, depth=rng.random())
    if main is None:
        raise RuntimeError(f'SynthAV: could not place a {SYNTHAV_CLASSES[main_class].name!r} '
                           f'object of area {MAIN_AREA_RANGE} in a {img_size}px frame')
    objects = [main]
    _update_visibility(objects)
    for class_id in distractor_classes:
        is_peer = rng.random() < peer_prob
        for attempt in range(max_tries):
            # a peer that does not fit after half the budget becomes a small distractor
            area_range = MAIN_AREA_RANGE if is_peer and attempt < max_tries // 2 else DISTRACTOR_AREA_RANGE
            candidate = sample_object(class_id, area_range, img_size, rng,
                                      depth=rng.random(), max_tries=20)
            if candidate is None:
                continue
            _update_visibility(objects + [candidate])
            if _visibility_ok(objects + [candidate]):
                objects.append(candidate)
                break
        _update_visibility(objects)
    return objects
