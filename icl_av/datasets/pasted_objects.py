"""Labelled pictures made by pasting a cut-out object on a background: the data that pretrains a visual tower.

Nothing here is an audio-visual sample. :class:`PastedObjects` is a classification set for
``tools/misc/pretrain_standin_encoder.py``: each item is one object cut-out, pasted at a random size,
place and flip on a background, colour-jittered and normalised like the AV data preprocessor, with the
index of its class as the label. Every item is fully determined by ``(seed, index)``, so a training
stream and a held-out stream are two seeds, and any worker count gives the same pictures.

Backgrounds are smooth random textures, and, where given, random crops of photos and "scenery" (a
large cut-out seen through the frame, blurred, over a texture); optional clutter cut-outs are pasted
smaller under the object. Two sources feed it:

* the honest one, clip art that is not the benchmark's (:mod:`icl_av.datasets.clipart_pictures`):
  textures, scenery and clutter made of clip art, no photo;
* the StampsAV source material itself (:func:`load_benchmark_sources`: the benchmark's stamp pictures on
  its background photos), which only measures how much pretraining on the test objects would flatter.

Cut-outs are premultiplied RGBA arrays, tightly cropped: float32 in [0, 1] or uint8 (stored 4x smaller,
turned into float when pasted).
"""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch

from icl_av.utils import UserInputError

MAX_PICTURE_SIDE = 256  # benchmark stamps are kept at most this large (they are drawn at <= the frame size)
OBJECT_SIDE = (0.35, 1.0)  # the object's long side, as a fraction of the frame
CLUTTER_SIDE = (0.2, 0.5)  # a clutter cut-out's long side, as a fraction of the frame
PHOTO_PROBABILITY = 0.6  # background from a photo, when photos are given
SCENERY_PROBABILITY = 0.5  # background from scenery, when there are scenery pictures and no photo is drawn


def premultiplied_cutout(rgba: np.ndarray, alpha_cut: int, max_side: int, dtype=np.float32) -> np.ndarray:
    """An RGBA uint8 picture as a tightly cropped premultiplied cut-out, at most ``max_side`` on its long side.

    Alpha below ``alpha_cut`` (0-255) counts as transparent, as the benchmark's scenes cut it. Returns
    float32 in [0, 1] or, with ``dtype=np.uint8``, the same scaled to 0-255. Returns an empty array when
    nothing is visible.
    """
    picture = rgba.astype(np.float32) / 255.0
    alpha = np.where(picture[..., 3] * 255.0 < alpha_cut, 0.0, picture[..., 3])
    rows, cols = np.nonzero(alpha)
    if rows.size == 0:
        return np.zeros((0, 0, 4), dtype)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    alpha = alpha[top:bottom, left:right]
    picture = np.dstack([picture[top:bottom, left:right, :3] * alpha[..., None], alpha])
    scale = max_side / max(picture.shape[:2])
    if scale < 1:
        size = (max(1, round(picture.shape[1] * scale)), max(1, round(picture.shape[0] * scale)))
        picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    if dtype == np.uint8:
        return np.clip(np.rint(picture * 255.0), 0, 255).astype(np.uint8)
    return picture.astype(np.float32)


def read_cutout(path: str, alpha_cut: int) -> np.ndarray:
    """A stamp picture file as a tightly cropped premultiplied RGBA float array in [0, 1], long side <= 256 px.

    Alpha below ``alpha_cut`` (0-255) counts as transparent, as the benchmark's scenes cut it.

    Raises:
        UserInputError: not a picture with an alpha channel, or fully transparent (the message names the file).
    """
    rgba = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise UserInputError(f'{path}: not a picture with an alpha channel')
    cutout = premultiplied_cutout(cv2.cvtColor(rgba, cv2.COLOR_BGRA2RGBA), alpha_cut, MAX_PICTURE_SIDE)
    if cutout.size == 0:
        raise UserInputError(f'{path}: fully transparent')
    return cutout


def find_files(root: str, names) -> Dict[str, str]:
    """``{name: path}`` for every file name in ``names`` found anywhere under ``root`` (the first found wins)."""
    wanted, found = set(names), {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name in wanted and name not in found:
                found[name] = osp.join(dirpath, name)
    return found


def load_benchmark_sources(meta: dict, stamps_root: str, templates_root: str, classes: str):
    """The StampsAV source material: class names, each class's stamp cut-outs and the background photos.

    Args:
        meta (dict): The benchmark's ``meta.json`` (``classes``, ``heard``, ``background_photos``, ``alpha_cut``).
        stamps_root (str): The Tux Paint stamps folder (``<root>/<stamp>.png``).
        templates_root (str): The folder searched for the background photos.
        classes (str): ``'all'`` (every class of ``meta.json``) or ``'heard'``.

    Returns:
        tuple: ``(names, cutouts, photos)``: sorted class names, one list of float cut-outs per class, and
        the photos as RGB float arrays in [0, 1].
    """
    names = sorted(meta['classes']) if classes == 'all' else sorted(meta['heard'])
    cutouts = []
    for name in names:
        pictures = []
        for stamp in meta['classes'][name]:
            path = osp.join(stamps_root, stamp + '.png')
            if not osp.isfile(path):
                raise UserInputError(f'{path}: missing (stamp {stamp!r} of class {name!r}); is --stamps-root the '
                                     f'folder the benchmark was made from?')
            pictures.append(read_cutout(path, int(meta.get('alpha_cut', 32))))
        cutouts.append(pictures)
    found = find_files(templates_root, meta['background_photos'])
    missing = sorted(set(meta['background_photos']) - set(found))
    if missing:
        raise UserInputError(f'{templates_root}: background photos not found: {missing}')
    photos = []
    for name in meta['background_photos']:
        image = cv2.imread(found[name], cv2.IMREAD_COLOR)
        if image is None:
            raise UserInputError(f'{found[name]}: not a decodable image')
        photos.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0)
    return names, cutouts, photos


# --------------------------------------------------------------------------- pictures

def as_float(cutout: np.ndarray) -> np.ndarray:
    """A cut-out as float32 in [0, 1] (uint8 ones are scaled)."""
    if cutout.dtype == np.uint8:
        return cutout.astype(np.float32) / 255.0
    return cutout


def texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth random colour field (2-8 control points a side, bicubic) with a random amount of grain."""
    coarse = rng.uniform(0, 1, (int(rng.integers(2, 9)),) * 2 + (3,)).astype(np.float32)
    image = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    image += rng.normal(0, rng.uniform(0.0, 0.08), (size, size, 3)).astype(np.float32)
    return image


def scenery(rng: np.random.Generator, size: int, cutout: np.ndarray) -> np.ndarray:
    """A texture seen behind a cut-out enlarged past the frame (1-2.5x the frame's side) and blurred."""
    image = np.clip(texture(rng, size), 0, 1)
    picture = as_float(cutout)
    scale = rng.uniform(1.0, 2.5) * size / min(picture.shape[:2])
    width, height = max(size, round(picture.shape[1] * scale)), max(size, round(picture.shape[0] * scale))
    picture = cv2.resize(picture, (width, height), interpolation=cv2.INTER_LINEAR)
    top, left = int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))
    piece = picture[top:top + size, left:left + size]
    image = piece[..., :3] + image * (1.0 - piece[..., 3:4])
    sigma = rng.uniform(0.0, 1.5)
    return cv2.GaussianBlur(image, (0, 0), sigma) if sigma > 0.3 else image


def background(rng: np.random.Generator, size: int, photos: Sequence[np.ndarray],
               scenery_pictures: Sequence[np.ndarray] = ()) -> np.ndarray:
    """A ``size``² RGB background in [0, 1], randomly mirrored.

    A random square crop of a photo (probability 0.6, when ``photos`` are given), else scenery made of one
    of ``scenery_pictures`` (probability 0.5, when given), else a smooth random texture.
    """
    if len(photos) and rng.random() < PHOTO_PROBABILITY:
        photo = photos[int(rng.integers(len(photos)))]
        side = int(rng.uniform(0.4, 1.0) * min(photo.shape[:2]))
        top = int(rng.integers(0, photo.shape[0] - side + 1))
        left = int(rng.integers(0, photo.shape[1] - side + 1))
        image = cv2.resize(photo[top:top + side, left:left + side], (size, size), interpolation=cv2.INTER_AREA)
    elif len(scenery_pictures) and rng.random() < SCENERY_PROBABILITY:
        image = scenery(rng, size, scenery_pictures[int(rng.integers(len(scenery_pictures)))])
    else:
        image = texture(rng, size)
    if rng.random() < 0.5:
        image = image[:, ::-1]
    return np.clip(image, 0, 1)


def paste(image: np.ndarray, cutout: np.ndarray, rng: np.random.Generator,
          long_side: Tuple[float, float] = OBJECT_SIDE) -> None:
    """Draw ``cutout`` into ``image`` (in place), randomly mirrored, its long side a random fraction (in
    ``long_side``) of the frame, at a random place that cuts at most ~35 % of it off."""
    size = image.shape[0]
    cutout = as_float(cutout)
    scale = rng.uniform(*long_side) * size / max(cutout.shape[:2])
    width, height = max(2, round(cutout.shape[1] * scale)), max(2, round(cutout.shape[0] * scale))
    picture = cv2.resize(cutout, (width, height), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        picture = picture[:, ::-1]
    left = int(rng.integers(-int(0.35 * width), size - int(0.65 * width) + 1))
    top = int(rng.integers(-int(0.35 * height), size - int(0.65 * height) + 1))
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + width, size), min(top + height, size)
    piece = picture[y0 - top:y1 - top, x0 - left:x1 - left]
    region = image[y0:y1, x0:x1]
    image[y0:y1, x0:x1] = piece[..., :3] + region * (1.0 - piece[..., 3:4])


class PastedObjects(torch.utils.data.Dataset):
    """``length`` labelled pictures, each fully determined by ``(seed, index)``.

    Each item: a background (:func:`background`), up to ``max_clutter`` clutter cut-outs pasted small, the
    object of a uniformly drawn class pasted on top, then saturation, contrast and brightness jitter and the
    AV data preprocessor's normalisation. Returns ``(CHW float tensor, class index)``.

    Args:
        cutouts (list[list[ndarray]]): Each class's cut-outs.
        photos (list[ndarray]): Background photos (RGB float in [0, 1]); may be empty.
        size (int): The picture side in pixels.
        length (int): The number of items.
        seed (int): The stream's seed.
        mean, std (sequence): The data preprocessor's RGB mean and std, on the 0-255 scale.
        scenery (list[ndarray]): Cut-outs that may fill the background (:func:`scenery`); may be empty.
        clutter (list[ndarray]): Cut-outs pasted small under the object; may be empty.
        max_clutter (int): At most this many clutter cut-outs (0 to that number, uniformly).
    """

    def __init__(self, cutouts: List[List[np.ndarray]], photos: Sequence[np.ndarray], size: int, length: int,
                 seed: int, mean, std, scenery: Sequence[np.ndarray] = (), clutter: Sequence[np.ndarray] = (),
                 max_clutter: int = 2):
        self.cutouts, self.photos, self.size, self.length, self.seed = cutouts, photos, size, length, seed
        self.scenery, self.clutter, self.max_clutter = scenery, clutter, max_clutter
        self.mean = np.asarray(mean, np.float32) / 255.0
        self.std = np.asarray(std, np.float32) / 255.0

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, index])
        label = int(rng.integers(len(self.cutouts)))
        pictures = self.cutouts[label]
        image = np.ascontiguousarray(background(rng, self.size, self.photos, self.scenery))
        if len(self.clutter) and self.max_clutter > 0:
            for _ in range(int(rng.integers(0, self.max_clutter + 1))):
                paste(image, self.clutter[int(rng.integers(len(self.clutter)))], rng, CLUTTER_SIDE)
        paste(image, pictures[int(rng.integers(len(pictures)))], rng)
        gray = image.mean(2, keepdims=True)
        image = gray + (image - gray) * rng.uniform(0.7, 1.3)  # saturation
        image = (image - 0.5) * rng.uniform(0.8, 1.2) + 0.5 + rng.uniform(-0.1, 0.1)  # contrast, brightness
        image = (np.clip(image, 0, 1) - self.mean) / self.std  # the AV data preprocessor's normalisation (RGB)
        return torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32)), label



__all__ = ['MAX_PICTURE_SIDE', 'premultiplied_cutout', 'read_cutout', 'find_files', 'load_benchmark_sources',
           'texture', 'scenery', 'background', 'paste', 'PastedObjects']
