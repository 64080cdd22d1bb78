"""Scene backgrounds: a crop of a Tux Paint photo, or a procedural texture.

Photos come from the ``templates/`` folder of ``tuxpaint-data`` plus two full-frame
backgrounds of ``starters/``. Photos that show a stamp class (sheep, a spider web) are
left out, since a silent object in the background would be an unlabelled source; black
letterbox bars are cut off; photos are downscaled once to a 640 px long side.

A photo background is a random square crop (50-100 % of the short side), maybe mirrored,
with jittered saturation, contrast and brightness. A procedural background is a colour
gradient with smooth low-frequency noise and 3-8 blurred ellipses, rectangles and
polygons, plus fine pixel noise: textured enough that a flat-background prior does not
find the objects.
"""
import os
import os.path as osp
from typing import List, Tuple

import cv2
import numpy as np
from PIL import Image

from icl_av.utils.errors import UserInputError
from .tux_paint import DATA_PACKAGE, require_folder

#: Template photos left out, with the reason (written to ``meta.json``).
EXCLUDED_PHOTOS = {
    'sheep.jpg': 'photo shows sheep (a stamp class)',
    'spiders_web.jpg': 'photo shows a spider web (spider is a stamp class)',
}
#: Full-frame backgrounds taken from ``starters/`` besides the templates.
STARTER_PHOTOS = ('skyline-sf-dusk-back.jpeg', 'reef-back.png')
#: Photos with black letterbox bars to cut off.
LETTERBOXED_PHOTOS = ('mossy_bark.jpg',)
PHOTO_MAX_SIDE = 640
_PHOTO_SUFFIXES = ('.jpg', '.jpeg', '.png')


def _read_photo(path: str) -> np.ndarray:
    """float32 RGB in [0, 1] of the picture ``path``."""
    try:
        with Image.open(path) as picture:
            return np.asarray(picture.convert('RGB')).astype(np.float32) / 255.0
    except OSError as error:
        raise UserInputError(f'StampsAV: cannot read the background photo {path!r}: {error}') from error


def load_background_photos(templates_root: str) -> Tuple[List[np.ndarray], List[str]]:
    """The background photos of the unpacked ``tuxpaint-data`` package and their file names.

    Args:
        templates_root (str): Its ``usr/share/tuxpaint`` folder (holding ``templates/`` and
            ``starters/``); ``''`` for none (procedural backgrounds only).

    Returns:
        tuple: float32 RGB photos in [0, 1] and their base names, in a fixed order.
    """
    if not templates_root:
        return [], []
    require_folder(templates_root, DATA_PACKAGE, 'data folder')
    templates = require_folder(osp.join(templates_root, 'templates'), DATA_PACKAGE, 'templates folder')
    # Paths relative to templates/, sorted, then the starters' backgrounds.
    candidates = sorted(name for name in os.listdir(templates) if name.lower().endswith(_PHOTO_SUFFIXES))
    starters = osp.join(templates_root, 'starters')
    for name in STARTER_PHOTOS:
        if osp.exists(osp.join(starters, name)):
            candidates.append(osp.join('..', 'starters', name))
    photos, names = [], []
    for candidate in candidates:
        name = osp.basename(candidate)
        if name in EXCLUDED_PHOTOS:
            continue
        photo = _read_photo(osp.join(templates, candidate))
        if name in LETTERBOXED_PHOTOS:
            rows = np.nonzero(photo.mean((1, 2)) > 0.03)[0]
            photo = photo[rows.min():rows.max() + 1]
        height, width = photo.shape[:2]
        scale = PHOTO_MAX_SIDE / max(height, width)
        if scale < 1:
            photo = cv2.resize(photo, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        photos.append(photo)
        names.append(name)
    return photos, names


def procedural_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A ``size``×``size`` float32 RGB texture in [0, 1] (see module doc)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xx + np.sin(angle) * yy
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min() + 1e-6)
    colour1, colour2 = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    img = colour1[None, None] * (1 - ramp[..., None]) + colour2[None, None] * ramp[..., None]
    cells = int(rng.integers(3, 9))
    low = cv2.resize(rng.normal(0, 1, (cells, cells, 3)).astype(np.float32), (size, size),
                     interpolation=cv2.INTER_CUBIC)
    img = img + rng.uniform(0.03, 0.12) * low
    for _ in range(int(rng.integers(3, 9))):
        mask = np.zeros((size, size), np.float32)
        kind = rng.integers(0, 3)
        cx, cy = rng.uniform(-0.1, 1.1, 2) * size
        r1, r2 = rng.uniform(0.05, 0.4, 2) * size
        if kind == 0:
            cv2.ellipse(mask, (int(cx), int(cy)), (int(r1), int(r2)), float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        elif kind == 1:
            cv2.rectangle(mask, (int(cx - r1), int(cy - r2)), (int(cx + r1), int(cy + r2)), 1.0, -1)
        else:
            corners = int(rng.integers(3, 7))
            points = np.stack([
                cx + r1 * rng.uniform(0.3, 1, corners) * np.cos(np.sort(rng.uniform(0, 2 * np.pi, corners))),
                cy + r2 * rng.uniform(0.3, 1, corners) * np.sin(np.sort(rng.uniform(0, 2 * np.pi, corners)))], 1)
            cv2.fillPoly(mask, [points.astype(np.int32)], 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), float(rng.uniform(2, 14)))
        alpha = rng.uniform(0.25, 0.8) * mask[..., None]
        img = img * (1 - alpha) + rng.uniform(0, 1, 3)[None, None] * alpha
    img = img + rng.normal(0, rng.uniform(0.005, 0.03), (size, size, 1 if rng.random() < 0.5 else 3))
    return np.clip(img, 0, 1).astype(np.float32)


def photo_background(rng: np.random.Generator, size: int, photos: List[np.ndarray]) -> Tuple[np.ndarray, int]:
    """A ``size``×``size`` float32 RGB crop of a random photo, and the photo's index (see module doc)."""
    index = int(rng.integers(len(photos)))
    photo = photos[index]
    height, width = photo.shape[:2]
    side = int(rng.uniform(0.5, 1.0) * min(height, width))
    x0, y0 = int(rng.integers(0, width - side + 1)), int(rng.integers(0, height - side + 1))
    img = cv2.resize(photo[y0:y0 + side, x0:x0 + side], (size, size), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        img = img[:, ::-1]
    gray = img.mean(2, keepdims=True)
    img = gray + (img - gray) * rng.uniform(0.7, 1.3)
    img = (img - 0.5) * rng.uniform(0.8, 1.2) + 0.5 + rng.uniform(-0.1, 0.1)
    return np.clip(img, 0, 1).astype(np.float32), index
