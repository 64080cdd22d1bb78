"""A tiny fake of the two unpacked Tux Paint packages, so StampsAV's tests need no Debian download.

``stamps/`` holds eight usable stamps in seven classes (``cow`` and ``cow_white`` merge),
plus one stamp of each kind the reader must drop or skip: a silent sound, a stamp
without a PNG, a stamp whose recording is another class's, a ``symbols/`` stamp and
spoken descriptions (``*_desc*.ogg``). ``templates/`` holds two photos and one excluded
photo, ``starters/`` one of the two full-frame backgrounds.
"""
import os
import shutil
from dataclasses import dataclass

import cv2
import numpy as np
import soundfile as sf
from PIL import Image

# (folder, stamp, tone Hz, sound rate, sound seconds, picture height, width)
USABLE_STAMPS = [
    ('animals', 'cat', 440, 22050, 1.2, 70, 90),
    ('animals', 'cow', 180, 44100, 3.5, 80, 120),
    ('animals', 'cow_white', 190, 44100, 2.0, 80, 110),
    ('animals/birds', 'tit', 2400, 16000, 0.7, 50, 50),
    ('hobbies', 'drum', 90, 22050, 4.0, 100, 100),
    ('hobbies', 'bell', 1300, 16000, 2.5, 90, 60),
    ('vehicles', 'car', 260, 48000, 3.1, 60, 140),
    ('vehicles', 'tractor', 120, 22050, 1.8, 90, 120),
]
CLASSES = ['bell', 'car', 'cat', 'cow', 'drum', 'tit', 'tractor']


@dataclass(frozen=True)
class FakeTuxPaint:
    """Paths of the fake unpacked packages."""

    stamps_root: str
    templates_root: str


def _picture(height: int, width: int, seed: int) -> np.ndarray:
    """RGBA uint8: an opaque ellipse with a faint halo (alpha below the cut) on a transparent canvas."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height + 20, 0:width + 20]
    inside = ((yy - (height + 20) / 2) / (height / 2)) ** 2 + ((xx - (width + 20) / 2) / (width / 2)) ** 2
    rgba = np.zeros((height + 20, width + 20, 4), np.uint8)
    rgba[..., :3] = rng.integers(0, 256, 3)
    rgba[..., 3] = np.where(inside <= 1, 255, np.where(inside <= 1.3, 10, 0))  # halo: alpha 10 < ALPHA_CUT
    return rgba


def _photo(height: int, width: int, seed: int) -> np.ndarray:
    """RGB uint8: smooth colour blobs (a photo-like, low-frequency picture)."""
    coarse = np.random.default_rng(seed).integers(0, 256, (4, 6, 3)).astype(np.float32)
    return np.clip(cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def _tone(freq: float, rate: int, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
            + 0.02 * rng.normal(size=t.shape)).astype(np.float32)


def build_fake_tux_paint(root: str) -> FakeTuxPaint:
    """Write the fake packages under ``root`` (see module doc)."""
    stamps = os.path.join(root, 'usr', 'share', 'tuxpaint', 'stamps')
    share = os.path.join(root, 'usr', 'share', 'tuxpaint')
    for seed, (folder, name, freq, rate, seconds, height, width) in enumerate(USABLE_STAMPS):
        path = os.path.join(stamps, folder)
        os.makedirs(path, exist_ok=True)
        Image.fromarray(_picture(height, width, seed)).save(os.path.join(path, name + '.png'))
        sf.write(os.path.join(path, name + '.ogg'), _tone(freq, rate, seconds, seed), rate)
        with open(os.path.join(path, name + '.txt'), 'w') as handle:
            handle.write(f'A {name}.\n')
        # a spoken description: not a sound effect
        sf.write(os.path.join(path, name + '_desc_fr.ogg'), _tone(300, 16000, 0.5, 99), 16000)
    animals = os.path.join(stamps, 'animals')
    Image.fromarray(_picture(40, 40, 50)).save(os.path.join(animals, 'quiet.png'))
    sf.write(os.path.join(animals, 'quiet.ogg'), np.zeros(8000, np.float32), 16000)
    sf.write(os.path.join(animals, 'vector.ogg'), _tone(700, 16000, 1.0, 51), 16000)  # SVG-only stamp
    with open(os.path.join(animals, 'vector.svg'), 'w') as handle:
        handle.write('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    # 'wildcat' shares the cat's recording: dropped (audio cannot tell them apart)
    Image.fromarray(_picture(60, 60, 52)).save(os.path.join(animals, 'wildcat.png'))
    shutil.copy(os.path.join(animals, 'cat.ogg'), os.path.join(animals, 'wildcat.ogg'))
    symbols = os.path.join(stamps, 'symbols')
    os.makedirs(symbols)
    Image.fromarray(_picture(40, 40, 53)).save(os.path.join(symbols, 'star.png'))
    sf.write(os.path.join(symbols, 'star.ogg'), _tone(900, 16000, 1.0, 53), 16000)

    templates = os.path.join(share, 'templates')
    starters = os.path.join(share, 'starters')
    os.makedirs(templates)
    os.makedirs(starters)
    for seed, (folder, name, height, width) in enumerate([
            (templates, 'meadow.jpg', 300, 800), (templates, 'beach.png', 200, 240),
            (templates, 'sheep.jpg', 100, 100), (starters, 'reef-back.png', 180, 180)]):
        Image.fromarray(_photo(height, width, seed)).save(os.path.join(folder, name))
    return FakeTuxPaint(stamps_root=stamps, templates_root=share)
