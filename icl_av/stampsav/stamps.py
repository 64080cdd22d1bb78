"""Reading the stamps package: which stamps are usable, their pictures, their recordings, their classes.

A usable stamp is a ``NAME.png`` with a ``NAME.ogg`` sound effect beside it, anywhere under
the stamps folder except ``symbols/`` (letters and signs, no objects). Spoken
descriptions (``NAME_desc*.ogg``) are not sound effects and are skipped. Dropped, with the
reason recorded in ``meta.json``: stamps without a PNG (SVG-only), stamps whose recording
is silent, and a stamp whose recording equals (correlation > 0.99) that of an earlier
stamp of another class (e.g. two animals sharing one file), since audio could not tell
them apart. The folder is walked in sorted order, so the stamp list, and with it every
index the generator draws, is the same on every machine.

Pictures are cropped to the box of their visible alpha (``>= ALPHA_CUT``), downscaled to
``MAX_STAMP_SIDE`` and kept premultiplied (RGB * alpha); recordings are mono float32 at
the benchmark's rate.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np
import soundfile as sf
from PIL import Image

from icl_av.utils.errors import UserInputError
from .audio import to_sample_rate
from .classes import class_of
from .presets import ALPHA_CUT, MAX_STAMP_SIDE
from .tux_paint import STAMPS_PACKAGE, how_to_get, require_folder

#: Top-level stamp folders left out (letters and signs rather than objects).
SKIPPED_FOLDERS = ('symbols',)


@dataclass
class Stamp:
    """One usable stamp.

    Attributes:
        name (str): File stem, e.g. ``'cow_white'``.
        rel (str): Path below the stamps folder without extension, e.g. ``'animals/mammals/bovines/cow_white'``.
        png (str): Its picture.
        ogg (str): Its sound effect.
        orig_sr (int): The recording's rate in the package.
        wav (np.ndarray): float32 mono recording at the benchmark's rate.
        group (str): Its class (see :mod:`icl_av.stampsav.classes`).
        img (np.ndarray or None): float32 premultiplied RGBA picture, cropped (see module doc).
    """

    name: str
    rel: str
    png: str
    ogg: str
    orig_sr: int
    wav: np.ndarray
    group: str
    img: Optional[np.ndarray] = None


@dataclass
class StampSet:
    """The usable stamps and their classes.

    Attributes:
        stamps (list[Stamp]): Sorted by ``rel``.
        classes (dict): ``{class: [indices into stamps]}``.
        dropped (list[tuple]): ``(rel, reason)`` of every stamp left out.
    """

    stamps: List[Stamp]
    classes: Dict[str, List[int]]
    dropped: List[Tuple[str, str]] = field(default_factory=list)


def load_stamp_picture(png: str) -> np.ndarray:
    """The stamp picture ``png`` as a tight, premultiplied float32 RGBA array (see module doc)."""
    try:
        with Image.open(png) as picture:
            rgba = np.asarray(picture.convert('RGBA')).astype(np.float32) / 255.0
    except OSError as error:
        raise UserInputError(f'StampsAV: cannot read the stamp picture {png!r}: {error}') from error
    alpha = rgba[..., 3].copy()
    alpha[alpha < ALPHA_CUT / 255.0] = 0.0
    ys, xs = np.nonzero(alpha > 0)
    if len(xs) == 0:
        raise UserInputError(f'StampsAV: the stamp picture {png!r} is fully transparent')
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgb = rgba[y0:y1, x0:x1, :3]
    alpha = alpha[y0:y1, x0:x1]
    height, width = alpha.shape
    premultiplied = np.dstack([rgb * alpha[..., None], alpha])
    if max(height, width) > MAX_STAMP_SIDE:
        scale = MAX_STAMP_SIDE / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        premultiplied = cv2.resize(premultiplied, (new_w, new_h), interpolation=cv2.INTER_AREA)
    return premultiplied.astype(np.float32)


def _read_sound(path: str) -> Tuple[np.ndarray, int]:
    """Mono float64 samples of a sound file and its rate."""
    try:
        samples, rate = sf.read(path, always_2d=True)
    except RuntimeError as error:  # soundfile's LibsndfileError
        raise UserInputError(f'StampsAV: cannot read the stamp sound {path!r}: {error}') from error
    return samples.mean(1), rate


def _find_candidates(stamps_root: str, dropped: List[Tuple[str, str]]) -> List[Stamp]:
    """Every stamp with a picture and an audible sound effect, sorted by ``rel`` (see module doc)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(stamps_root):
        rel_dir = osp.relpath(dirpath, stamps_root)
        if rel_dir.split(os.sep)[0] in SKIPPED_FOLDERS:
            continue
        dirnames.sort()
        for filename in sorted(filenames):
            if not filename.endswith('.ogg') or '_desc' in filename:
                continue
            stem = filename[:-4]
            png = osp.join(dirpath, stem + '.png')
            rel = osp.normpath(osp.join(rel_dir, stem))
            if not osp.exists(png):
                dropped.append((rel, 'no .png (svg-only or no image)'))
                continue
            ogg = osp.join(dirpath, filename)
            samples, rate = _read_sound(ogg)
            if samples.size == 0 or np.abs(samples).max() < 1e-3:
                dropped.append((rel, 'silent .ogg'))
                continue
            found.append(Stamp(name=stem, rel=rel, png=png, ogg=ogg, orig_sr=rate,
                               wav=to_sample_rate(samples, rate), group=class_of(stem)))
    found.sort(key=lambda stamp: stamp.rel)
    names = [stamp.name for stamp in found]
    twins = sorted({name for name in names if names.count(name) > 1})
    if twins:
        raise UserInputError(f'StampsAV: stamp names must be unique under {stamps_root!r}, found twice: {twins}')
    return found


def _drop_same_recordings(candidates: List[Stamp], dropped: List[Tuple[str, str]]) -> List[Stamp]:
    """``candidates`` without the stamps whose recording equals an earlier one of another class."""
    kept: List[Stamp] = []
    for stamp in candidates:
        same_as = None
        for other in kept:
            if len(other.wav) == len(stamp.wav) and other.group != stamp.group:
                if np.corrcoef(other.wav, stamp.wav)[0, 1] > 0.99:
                    same_as = other.rel
                    break
        if same_as:
            dropped.append((stamp.rel, f'audio identical to {same_as}'))
        else:
            kept.append(stamp)
    return kept


def load_stamps(stamps_root: str, log: Callable[[str], None] = print) -> StampSet:
    """Read the usable stamps of the unpacked ``tuxpaint-stamps-default`` package.

    Args:
        stamps_root (str): Its ``usr/share/tuxpaint/stamps`` folder.
        log (callable): Receives one summary line.

    Returns:
        StampSet: The stamps (pictures loaded), their classes and the dropped ones.
    """
    require_folder(stamps_root, STAMPS_PACKAGE, 'stamps folder')
    dropped: List[Tuple[str, str]] = []
    stamps = _drop_same_recordings(_find_candidates(stamps_root, dropped), dropped)
    if not stamps:
        raise UserInputError(f'StampsAV: no stamp with a .png picture and an .ogg sound under {stamps_root!r} '
                             f'(expected the stamps folder of the Debian package {STAMPS_PACKAGE}; '
                             f'{how_to_get(STAMPS_PACKAGE)})')
    for stamp in stamps:
        stamp.img = load_stamp_picture(stamp.png)
    classes: Dict[str, List[int]] = {}
    for index, stamp in enumerate(stamps):
        classes.setdefault(stamp.group, []).append(index)
    log(f'StampsAV: {len(stamps)} stamps in {len(classes)} classes ({len(dropped)} dropped) from {stamps_root}')
    return StampSet(stamps=stamps, classes=classes, dropped=dropped)
