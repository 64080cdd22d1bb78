"""SynthAV scene rendering: a textured, desaturated background and the placed objects, drawn bottom to top.

Every object of every class is drawn with the same saturation, brightness and texture
contrast, so each is as salient as the others: looking at the picture alone one cannot
tell which object makes the sound. The layout comes from :mod:`.scene_layout`.
"""
import colorsys
from functools import lru_cache
from typing import Sequence

import numpy as np

from .classes import SYNTHAV_CLASSES
from .scene_layout import PlacedObject

_BACKGROUND_GRID = 4  # coarse colour grid of the background


def _class_colour(hue_deg: float, rng: np.random.Generator) -> np.ndarray:
    """BGR colour in [0, 1] of a class hue with a little per-object jitter."""
    hue = ((hue_deg + rng.uniform(-6.0, 6.0)) % 360.0) / 360.0
    sat = float(np.clip(0.78 + rng.uniform(-0.08, 0.08), 0.0, 1.0))
    val = float(np.clip(0.9 + rng.uniform(-0.06, 0.06), 0.0, 1.0))
    r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
    return np.array([b, g, r], dtype=np.float32)


def _texture(texture: str, u: np.ndarray, v: np.ndarray, period: float,
             rng: np.random.Generator) -> np.ndarray:
    """Binary pattern (float32 0/1) of a texture at object-aligned coordinates ``u, v``."""
    phase = rng.uniform(0.0, 1.0)
    if texture == 'hstripes':
        return (np.mod(v / period + phase, 1.0) < 0.5).astype(np.float32)
    if texture == 'vstripes':
        return (np.mod(u / period + phase, 1.0) < 0.5).astype(np.float32)
    if texture == 'diagonal':
        return (np.mod((u + v) / (period * np.sqrt(2.0)) + phase, 1.0) < 0.5).astype(np.float32)
    if texture == 'checker':
        cells = np.floor(u / period + phase) + np.floor(v / period + phase)
        return (np.mod(cells, 2.0) == 0).astype(np.float32)
    if texture == 'rings':
        return (np.mod(np.hypot(u, v) / period + phase, 1.0) < 0.5).astype(np.float32)
    if texture == 'dots':
        du = np.mod(u / period + phase, 1.0) - 0.5
        dv = np.mod(v / period + phase, 1.0) - 0.5
        return (du * du + dv * dv < 0.33 ** 2).astype(np.float32)
    raise ValueError(f'SynthAV scene: unknown texture {texture!r}')


@lru_cache(maxsize=8)
def _smooth_upsampler(img_size: int, grid: int = _BACKGROUND_GRID) -> np.ndarray:
    """``img_size × grid`` weights that smoothly interpolate a coarse grid (Gaussian kernel,
    rows sum to 1); ``W @ coarse @ W.T`` is a smooth full-size field. Cached per size."""
    centres = (np.arange(grid) + 0.5) / grid
    positions = (np.arange(img_size) + 0.5) / img_size
    weights = np.exp(-0.5 * ((positions[:, None] - centres[None, :]) * grid / 0.55) ** 2)
    weights /= weights.sum(axis=1, keepdims=True)
    weights.setflags(write=False)
    return weights.astype(np.float32)


def render_background(img_size: int, rng: np.random.Generator) -> np.ndarray:
    """Desaturated, smoothly varying background with a faint random ripple texture.

    Returns:
        np.ndarray: float32 ``H×W×3`` BGR in [0, 1].
    """
    grey = rng.uniform(0.25, 0.65, size=(_BACKGROUND_GRID, _BACKGROUND_GRID, 1))
    tint = rng.uniform(-0.06, 0.06, size=(_BACKGROUND_GRID, _BACKGROUND_GRID, 3))
    coarse = (grey + tint).astype(np.float32)
    weights = _smooth_upsampler(img_size)
    background = np.einsum('yi,ijc,xj->yxc', weights, coarse, weights, optimize=True)
    # ripple sin(a x + b y) as a sum of two outer products (cheap at any size)
    coords = np.arange(img_size, dtype=np.float64)
    angle, period = rng.uniform(0.0, np.pi), rng.uniform(5.0, 14.0)
    phase_x = 2 * np.pi * np.cos(angle) * coords / period
    phase_y = 2 * np.pi * np.sin(angle) * coords / period
    ripple = (np.outer(np.cos(phase_y), np.sin(phase_x)) + np.outer(np.sin(phase_y), np.cos(phase_x)))
    background += (0.04 * ripple).astype(np.float32)[:, :, None]
    return np.ascontiguousarray(background, dtype=np.float32)


def render_scene(objects: Sequence[PlacedObject], img_size: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Draw the background and the objects (bottom to top) into a BGR uint8 image.

    Args:
        objects (Sequence[PlacedObject]): Placed objects (any order; drawn by depth).
        img_size (int): Frame side in pixels.
        rng (np.random.Generator): Random source (colours, texture phase, noise).

    Returns:
        np.ndarray: uint8 ``H×W×3`` BGR image.
    """
    image = render_background(img_size, rng)
    for obj in sorted(objects, key=lambda o: o.depth):
        spec = SYNTHAV_CLASSES[obj.class_id]
        x1, y1, x2, y2 = (int(c) for c in obj.box)
        dx = np.arange(x1, x2, dtype=np.float32)[None, :] + (0.5 - obj.center[0])
        dy = np.arange(y1, y2, dtype=np.float32)[:, None] + (0.5 - obj.center[1])
        cos, sin = np.float32(np.cos(obj.rotation)), np.float32(np.sin(obj.rotation))
        u, v = cos * dx + sin * dy, cos * dy - sin * dx
        period = max(obj.size) * rng.uniform(0.18, 0.26)
        shade = 1.0 - 0.5 * _texture(spec.texture, u, v, period, rng)
        colour = _class_colour(spec.hue, rng)
        crop_mask = obj.mask[y1:y2, x1:x2]
        image[y1:y2, x1:x2][crop_mask] = shade[crop_mask][:, None] * colour[None, :]
    image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(0.015)
    image *= np.float32(255.0)
    image += np.float32(0.5)
    np.clip(image, 0.0, 255.0, out=image)
    return image.astype(np.uint8)
