"""Laying stamps out in a frame: size, mirroring, position, truncation, z-order and boxes.

Every stamp of a scene, sounding or silent, is drawn from the same distributions, so that
nothing but the audio tells them apart:

* size: long side ``scale_min``-``scale_max`` of the frame side, mirrored with
  probability 1/2, alpha quantised to 8 bit so that ``alpha > 0`` (the box) is well defined;
* position: placed one by one in random order (placing the sounding stamp first would push
  the distractors to the free borders); with ``max_trunc > 0`` the centre may be anywhere
  in the frame and at most ``max_trunc`` of the alpha may fall outside; a position is
  redrawn (up to 100 times) until the stamp's box overlaps no placed box by IoU > ``max_iou``;
* z-order: random, back to front; every stamp must keep ``min_visible`` of its alpha
  visible after truncation and occlusion, else the whole layout is redrawn (up to 50 times).

The box of a stamp is the tight box of its in-frame ``alpha > 0`` pixels (amodal: it
ignores occlusion), in pixels, right/bottom exclusive.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

Box = Tuple[int, int, int, int]

#: Tries to place one stamp, and to lay out a whole scene.
PLACEMENT_TRIES = 100
LAYOUT_TRIES = 50


class LayoutError(RuntimeError):
    """No layout met the constraints within :data:`LAYOUT_TRIES` tries."""


@dataclass
class Layout:
    """Stamps laid out in a ``size``×``size`` frame; index 0 is the sounding one.

    Attributes:
        layers (list[np.ndarray]): float32 ``size×size×4`` premultiplied RGBA per stamp (in-frame part).
        total_alpha (list[float]): Each rendered stamp's alpha sum (before truncation).
        boxes (list[tuple]): Each stamp's tight box ``(x1, y1, x2, y2)`` in pixels.
        flips (list[bool]): Whether each stamp is mirrored.
        in_canvas (list[float]): Fraction of each stamp's alpha inside the frame.
        visible (list[float]): Fraction of each stamp's alpha visible (truncation and occlusion).
        z_order (list[int]): Stamp indices from back to front.
    """

    layers: List[np.ndarray]
    total_alpha: List[float]
    boxes: List[Box]
    flips: List[bool]
    in_canvas: List[float]
    visible: List[float]
    z_order: List[int]


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two ``(x1, y1, x2, y2)`` boxes (0 when both are empty)."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def render_stamp(picture: np.ndarray, rng: np.random.Generator, size: int, scale_min: float,
                 scale_max: float) -> Tuple[np.ndarray, bool]:
    """The premultiplied RGBA ``picture`` at a random scale, maybe mirrored, and whether it is."""
    height, width = picture.shape[:2]
    long_side = rng.uniform(scale_min, scale_max) * size
    scale = long_side / max(height, width)
    new_w, new_h = max(2, int(round(width * scale))), max(2, int(round(height * scale)))
    new_w, new_h = min(new_w, size), min(new_h, size)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    rendered = cv2.resize(picture, (new_w, new_h), interpolation=interpolation)
    rendered[..., 3] = np.clip(rendered[..., 3], 0, 1)
    rendered[..., :3] = np.clip(rendered[..., :3], 0, rendered[..., 3:4])
    flip = bool(rng.random() < 0.5)
    if flip:
        rendered = rendered[:, ::-1]
    rendered[..., 3] = np.round(rendered[..., 3] * 255) / 255
    return np.ascontiguousarray(rendered), flip


def clip_to_canvas(stamp: np.ndarray, x: int, y: int, size: int) -> Tuple[Optional[np.ndarray], int, int]:
    """The in-frame part of ``stamp`` placed with its top-left corner at ``(x, y)``, and its corner.

    Returns ``(None, x0, y0)`` when nothing of the stamp is inside the frame.
    """
    height, width = stamp.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(size, x + width), min(size, y + height)
    if x1 <= x0 or y1 <= y0:
        return None, x0, y0
    return stamp[y0 - y:y1 - y, x0 - x:x1 - x], x0, y0


def tight_box(alpha: np.ndarray, x0: int, y0: int) -> Optional[Box]:
    """Box of ``alpha > 0`` shifted by ``(x0, y0)``, right/bottom exclusive; ``None`` if empty."""
    ys, xs = np.nonzero(alpha > 0)
    if len(xs) == 0:
        return None
    return (int(x0 + xs.min()), int(y0 + ys.min()), int(x0 + xs.max() + 1), int(y0 + ys.max() + 1))


def draw_position(rng: np.random.Generator, size: int, width: int, height: int, max_trunc: float) -> Tuple[int, int]:
    """A random top-left corner for a ``width``×``height`` stamp.

    With ``max_trunc <= 0`` the stamp lies fully inside the frame; otherwise its centre is
    anywhere in the frame and the caller rejects corners that cut off too much.
    """
    if max_trunc <= 0:
        return int(rng.integers(0, size - width + 1)), int(rng.integers(0, size - height + 1))
    return int(rng.integers(0, size)) - width // 2, int(rng.integers(0, size)) - height // 2


def to_layer(part: np.ndarray, x0: int, y0: int, size: int) -> np.ndarray:
    """A ``size×size×4`` layer holding ``part`` at ``(x0, y0)``, empty elsewhere."""
    layer = np.zeros((size, size, 4), np.float32)
    height, width = part.shape[:2]
    layer[y0:y0 + height, x0:x0 + width] = part
    return layer


def _place_all(rng, rendered, size, max_trunc, max_iou):
    """Place the rendered stamps in random order; ``None`` when one of them finds no place."""
    count = len(rendered)
    layers, totals, boxes, in_canvas = [None] * count, [None] * count, [None] * count, [None] * count
    for k in [int(i) for i in rng.permutation(count)]:
        stamp = rendered[k]
        height, width = stamp.shape[:2]
        total = float(stamp[..., 3].sum())
        for _ in range(PLACEMENT_TRIES):
            x, y = draw_position(rng, size, width, height, max_trunc)
            part, x0, y0 = clip_to_canvas(stamp, x, y, size)
            if part is None:
                continue
            inside = float(part[..., 3].sum()) / total
            if inside < 1 - max_trunc - 1e-6:
                continue
            box = tight_box(part[..., 3], x0, y0)
            if box is not None and all(box_iou(box, other) <= max_iou for other in boxes if other is not None):
                break
        else:
            return None
        layers[k], totals[k], boxes[k], in_canvas[k] = to_layer(part, x0, y0, size), total, box, inside
    return layers, totals, boxes, in_canvas


def _visible_fractions(layers: List[np.ndarray], totals: List[float], z_order: List[int]) -> List[float]:
    """Fraction of each stamp's alpha left visible by the frame and the stamps in front of it."""
    fractions = []
    for j in range(len(layers)):
        visible = layers[j][..., 3].copy()
        for k in z_order[z_order.index(j) + 1:]:
            visible *= (1 - layers[k][..., 3])
        fractions.append(float(visible.sum() / totals[j]))
    return fractions


def lay_out_stamps(rng: np.random.Generator, pictures: Sequence[np.ndarray], size: int, scale_min: float,
                   scale_max: float, max_trunc: float, max_iou: float, min_visible: float) -> Layout:
    """Lay out ``pictures`` (the sounding stamp first) in a frame (see module doc).

    Raises:
        LayoutError: When no layout met the constraints within :data:`LAYOUT_TRIES` tries.
    """
    for _ in range(LAYOUT_TRIES):
        rendered = [render_stamp(picture, rng, size, scale_min, scale_max) for picture in pictures]
        placed = _place_all(rng, [stamp for stamp, _ in rendered], size, max_trunc, max_iou)
        if placed is None:
            continue
        layers, totals, boxes, in_canvas = placed
        z_order = [int(i) for i in rng.permutation(len(rendered))]
        visible = _visible_fractions(layers, totals, z_order)
        if min(visible) >= min_visible:
            return Layout(layers=layers, total_alpha=totals, boxes=boxes, flips=[flip for _, flip in rendered],
                          in_canvas=in_canvas, visible=visible, z_order=z_order)
    raise LayoutError(f'no layout of {len(pictures)} stamps met the constraints in {LAYOUT_TRIES} tries '
                      f'(max_iou={max_iou}, min_visible={min_visible}, scale {scale_min}-{scale_max})')


def composite(background: np.ndarray, layout: Layout) -> np.ndarray:
    """The stamps of ``layout`` drawn over the float32 RGB ``background``, back to front."""
    img = background
    for k in layout.z_order:
        layer = layout.layers[k]
        img = img * (1 - layer[..., 3:4]) + layer[..., :3]
    return img
