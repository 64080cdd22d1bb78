"""Pure drawing helpers: a feature-resolution map -> an image-sized heatmap -> a coloured overlay.

Shared by the visualizer, the inference API and the demo so a heatmap looks (and is
normalised) the same everywhere. Images are ``H×W×3`` uint8 RGB (MMEngine's visualizer
convention) unless a name says BGR.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from icl_av.structures.map_normalization import FLAT_IS_BACKGROUND, min_max_normalize

COLORMAPS = {
    'jet': cv2.COLORMAP_JET,
    'turbo': cv2.COLORMAP_TURBO,
    'inferno': cv2.COLORMAP_INFERNO,
    'viridis': cv2.COLORMAP_VIRIDIS,
}


def heatmap_to_size(pred_map, size: Tuple[int, int]) -> np.ndarray:
    """Upsample an ``h×w`` map bilinearly to ``size = (H, W)`` and min-max normalise it to [0, 1].

    A constant map (no preference between pixels) becomes all zeros: nothing is
    highlighted, and no division by zero happens.

    Args:
        pred_map (Tensor | ndarray): ``h×w`` (or ``1×h×w``) map, any range.
        size (tuple[int, int]): Output ``(H, W)``.

    Returns:
        np.ndarray: ``H×W`` float32 in [0, 1].
    """
    pred = torch.as_tensor(np.asarray(pred_map) if not isinstance(pred_map, torch.Tensor) else pred_map)
    pred = pred.detach().float().cpu()
    if pred.ndim == 3 and pred.shape[0] == 1:
        pred = pred[0]
    if pred.ndim != 2:
        raise ValueError(f'a heatmap must be an h×w map, got shape {tuple(pred.shape)}')
    height, width = int(size[0]), int(size[1])
    if pred.max() == pred.min():
        return np.zeros((height, width), dtype=np.float32)
    if tuple(pred.shape) != (height, width):
        pred = F.interpolate(pred[None, None], size=(height, width), mode='bilinear', align_corners=False)[0, 0]
    return min_max_normalize(pred, flat_value=FLAT_IS_BACKGROUND).numpy().astype(np.float32)


def colorize_heatmap(heatmap: np.ndarray, colormap: str = 'jet') -> np.ndarray:
    """Map an ``H×W`` [0, 1] heatmap to an ``H×W×3`` uint8 RGB image with a cv2 colormap."""
    if colormap not in COLORMAPS:
        raise ValueError(f'unknown colormap {colormap!r}; choose one of {sorted(COLORMAPS)}')
    levels = np.clip(np.rint(np.asarray(heatmap, dtype=np.float32) * 255), 0, 255).astype(np.uint8)
    return cv2.applyColorMap(levels, COLORMAPS[colormap])[:, :, ::-1].copy()


def overlay_heatmap(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.5, colormap: str = 'jet') -> np.ndarray:
    """Blend a coloured heatmap over an image: ``(1 - alpha) * image + alpha * colour``.

    Args:
        image (np.ndarray): ``H×W×3`` uint8 (RGB, or BGR with a BGR result).
        heatmap (np.ndarray): ``H×W`` float in [0, 1], same size as the image.
        alpha (float): Heatmap opacity in [0, 1].
        colormap (str): A key of :data:`COLORMAPS`.

    Returns:
        np.ndarray: ``H×W×3`` uint8 in the image's channel order.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    if image.shape[:2] != heatmap.shape[:2]:
        raise ValueError(f'heatmap {heatmap.shape[:2]} and image {image.shape[:2]} differ in size')
    colour = colorize_heatmap(heatmap, colormap)
    blended = (1.0 - alpha) * image.astype(np.float32) + alpha * colour.astype(np.float32)
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def draw_boxes(image: np.ndarray, boxes, color: Sequence[int] = (0, 255, 0), thickness: int = 2,
               scale: Optional[Tuple[float, float]] = None) -> np.ndarray:
    """Draw ``N×4`` x1y1x2y2 boxes on a copy of ``image`` (``scale = (sx, sy)`` maps box pixels to it)."""
    out = np.ascontiguousarray(image.copy())
    boxes = np.asarray(boxes.cpu() if isinstance(boxes, torch.Tensor) else boxes, dtype=np.float64).reshape(-1, 4)
    sx, sy = scale or (1.0, 1.0)
    for x1, y1, x2, y2 in boxes:
        top_left = (int(round(x1 * sx)), int(round(y1 * sy)))
        bottom_right = (int(round(x2 * sx)) - 1, int(round(y2 * sy)) - 1)
        cv2.rectangle(out, top_left, bottom_right, tuple(int(c) for c in color), thickness)
    return out


def draw_outline(image: np.ndarray, binary: np.ndarray, color: Sequence[int] = (255, 255, 255),
                 thickness: int = 1) -> np.ndarray:
    """Draw the outline of a binary region (resized to the image with nearest neighbour) on a copy."""
    mask = np.asarray(binary > 0, dtype=np.uint8)
    if mask.shape[:2] != image.shape[:2]:
        mask = cv2.resize(mask, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = np.ascontiguousarray(image.copy())
    cv2.drawContours(out, contours, -1, tuple(int(c) for c in color), thickness)
    return out


def draw_label(image: np.ndarray, text: str, color: Sequence[int] = (255, 255, 255)) -> np.ndarray:
    """Write ``text`` in the top-left corner of a copy, on a dark band so it stays legible."""
    out = np.ascontiguousarray(image.copy())
    scale = max(0.3, min(out.shape[:2]) / 400.0)
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(out, (0, 0), (width + 4, height + baseline + 4), (0, 0, 0), -1)
    cv2.putText(out, text, (2, height + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, tuple(int(c) for c in color), 1,
                cv2.LINE_AA)
    return out
