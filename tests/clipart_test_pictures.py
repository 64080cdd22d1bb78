"""Tiny RGBA drawings for the clip-art and picture-hash tests, and the altered copies de-duplication must catch."""
import os

import cv2
import numpy as np


def drawing(seed: int, height: int = 60, width: int = 44, margin: int = 6) -> np.ndarray:
    """An RGBA uint8 drawing: an opaque ellipse of random colour with random coloured shapes on it, on a
    transparent canvas with a ``margin``. Different seeds give unrelated drawings."""
    rng = np.random.default_rng(seed)
    rgba = np.zeros((height + 2 * margin, width + 2 * margin, 4), np.uint8)
    centre = (margin + width // 2, margin + height // 2)

    def colour():
        return tuple(int(v) for v in rng.integers(0, 256, 3)) + (255,)

    cv2.ellipse(rgba, centre, (width // 2 - 1, height // 2 - 1), 0, 0, 360, colour(), -1)
    body = rgba[..., 3] > 0
    for _ in range(6):
        x, y = int(rng.integers(margin, margin + width - 8)), int(rng.integers(margin, margin + height - 8))
        shape = np.zeros_like(rgba)
        if rng.random() < 0.5:
            cv2.rectangle(shape, (x, y), (x + int(rng.integers(4, 16)), y + int(rng.integers(4, 16))), colour(), -1)
        else:
            cv2.circle(shape, (x, y), int(rng.integers(3, 9)), colour(), -1)
        inside = (shape[..., 3] > 0) & body
        rgba[inside] = shape[inside]
    return rgba


def altered_copy(rgba: np.ndarray, scale: float = 2.3, pad=(3, 17, 25, 9)) -> np.ndarray:
    """``rgba`` rescaled, mirrored left-right and given another transparent margin (top, bottom, left, right)."""
    copy = cv2.resize(rgba, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)[:, ::-1]
    top, bottom, left, right = pad
    return np.pad(copy, ((top, bottom), (left, right), (0, 0)))


def flattened_copy(rgba: np.ndarray, colour=(255, 255, 255)) -> np.ndarray:
    """``rgba`` composited on a plain colour, without transparency (3 channels)."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + np.array(colour, np.float32) * (1.0 - alpha)
    return np.rint(rgb).astype(np.uint8)


def write(path, image: np.ndarray) -> str:
    """Write ``image`` (channels as given) to ``path``, making its folder."""
    path = str(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, image), path
    return path
