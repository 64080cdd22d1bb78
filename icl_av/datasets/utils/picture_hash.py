"""Cut-out pictures read alike whatever their file, and perceptual hashes that find copies of one among thousands.

A copy of a clip-art picture may be stored at another size, mirrored, with a wider or narrower
transparent margin, with its transparency flattened on a plain colour, or re-rendered from the same
drawing with slightly different anti-aliasing. A byte checksum misses all of these; these hashes do not:

1. :func:`read_visible` decodes any colour model (grey, RGB, RGBA, palette, 16-bit; an SVG drawing is
   drawn 512 px wide with ``cairosvg``, an optional dependency) to RGBA, gives a
   picture without transparency a transparent background (its plain border, flood-filled from the
   corners), and **trims** it to its visible part (alpha at least ``alpha_cut``), so margins and
   flattening do not count; pictures far larger than needed are shrunk as they are read (a few clip-art
   files hold 600 million pixels);
2. :func:`flattened_luma` composites the visible part on a fixed mid-grey (a black and a white drawing
   both stay visible) and keeps its luminance, so colour models and the colour of thin fringes do not count;
3. :func:`picture_hashes` squeezes it to a square and hashes it **at a few sizes**: the signs of the
   lowest DCT frequencies (against their median) of its 32 px square (8x8 of them, 64 bits) and of its
   64 px square (16x16, 256 bits), so the stored size does not count either.

Mirroring is the comparer's part: hash the reference pictures in both orientations (``flips=True``).
Distances are Hamming distances in bits (:func:`hamming`); the caller picks thresholds.
"""
import re
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from icl_av.utils import UserInputError

ALPHA_CUT = 32  # 0-255: alpha below this counts as transparent (the StampsAV scenes cut it there too)
HASH_BACKGROUND = 0.5  # the fixed grey every picture is flattened on
HASH_SIZES: Tuple[Tuple[int, int], ...] = ((32, 8), (64, 16))  # (square side, frequencies kept per side)
WORK_SIDE = 512  # pictures are trimmed and hashed at most this large (the hashes look at 64 px)
SVG_WIDTH = 512  # SVG drawings are drawn this wide (the hashes do not depend on it)
BORDER_TOLERANCE = 8  # 0-255: how far a background pixel of an opaque picture may be from its corner's colour
# Names the recipe for stored hashes: change it whenever a change here would change a hash.
HASH_RECIPE = 'rgba-svg512-border-fill-trim32-grey50-dct32x8-dct64x16-work512-v1'


_ENTITY = re.compile(rb'<!ENTITY\s+([\w.-]+)\s+(?:"([^"]*)"|\'([^\']*)\')\s*>')
_DOCTYPE = re.compile(rb'<!DOCTYPE[^\[>]*(\[.*?\])?\s*>', re.DOTALL)


def svg_without_doctype(text: bytes) -> bytes:
    """An SVG's bytes with its DOCTYPE removed and the plain text entities it declared written out.

    Drawing programs declare namespace entities there (``<!ENTITY ns_svg "http://www.w3.org/2000/svg">``);
    cairosvg refuses every entity, so they are expanded here, where a declaration can only be plain text.
    """
    doctype = _DOCTYPE.search(text)
    if not doctype:
        return text
    entities = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                for m in _ENTITY.finditer(doctype.group(0))}
    text = text[:doctype.start()] + text[doctype.end():]
    for name, value in entities.items():
        text = text.replace(b'&' + name + b';', value)
    return text


def render_svg(path: str, width: int = SVG_WIDTH) -> np.ndarray:
    """An SVG drawing drawn ``width`` pixels wide, as the BGRA array ``cv2.imread`` would give.

    Raises:
        UserInputError: cairosvg (or the cairo library under it) is missing, or the file is not a drawable SVG.
    """
    try:
        import cairosvg
    except (ImportError, OSError) as error:
        raise UserInputError(f'{path}: an SVG drawing, and drawing it needs cairosvg, which cannot be imported '
                             f'({error}); pip install cairosvg') from None
    try:
        with open(path, 'rb') as f:
            text = svg_without_doctype(f.read())
        png = cairosvg.svg2png(bytestring=text, output_width=width)
    except OSError as error:
        raise UserInputError(f'{path}: unreadable ({error})') from None
    except Exception as error:  # noqa: BLE001 - cairosvg raises many kinds of parse errors
        raise UserInputError(f'{path}: not a drawable SVG ({type(error).__name__}: {error})') from None
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise UserInputError(f'{path}: the SVG drew nothing')
    return image


def decode_rgba(path: str) -> np.ndarray:
    """A picture file as an ``H×W×4`` uint8 RGBA array, whatever its stored colour model.

    Grey and RGB pictures come out opaque; 16-bit ones are scaled to 8 bits; an ``.svg`` file is drawn
    (:func:`render_svg`).

    Raises:
        UserInputError: the file is missing or not a decodable picture (the message names the file).
    """
    if path.lower().endswith('.svg'):
        image = render_svg(path)
    else:
        image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise UserInputError(f'{path}: missing or not a decodable picture')
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise UserInputError(f'{path}: unsupported pixel type {image.dtype}')
    if image.ndim == 2:
        image = image[..., None]
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGBA)
    if channels == 2:  # grey + alpha
        grey = cv2.cvtColor(np.ascontiguousarray(image[..., 0]), cv2.COLOR_GRAY2RGB)
        return np.dstack([grey, image[..., 1]])
    if channels == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGBA)
    return cv2.cvtColor(np.ascontiguousarray(image[..., :4]), cv2.COLOR_BGRA2RGBA)


def shrink(rgba: np.ndarray, long_side: int) -> np.ndarray:
    """``rgba`` area-averaged down to ``long_side`` on its longer side, or itself when it is not larger."""
    height, width = rgba.shape[:2]
    if max(height, width) <= long_side:
        return rgba
    scale = long_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgba, size, interpolation=cv2.INTER_AREA)


def clear_plain_border(rgba: np.ndarray, alpha_cut: int = ALPHA_CUT) -> np.ndarray:
    """``rgba`` with the background of an opaque picture made transparent (a copy; others are returned as they are).

    A picture with no transparent pixel is a drawing flattened on a plain colour: every pixel connected
    to a corner whose colour is within ``BORDER_TOLERANCE`` of that corner's becomes transparent.
    """
    if rgba[..., 3].min() < alpha_cut:
        return rgba
    height, width = rgba.shape[:2]
    rgb = np.ascontiguousarray(rgba[..., :3])
    mask = np.zeros((height + 2, width + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    tolerance = (BORDER_TOLERANCE,) * 3
    for x, y in ((0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)):
        if not mask[y + 1, x + 1]:
            cv2.floodFill(rgb, mask, (x, y), 0, tolerance, tolerance, flags)
    background = mask[1:-1, 1:-1].astype(bool)
    if background.all():
        return rgba  # one plain colour: nothing but background, keep it whole
    out = rgba.copy()
    out[background, 3] = 0
    return out


def visible_box(rgba: np.ndarray, alpha_cut: int = ALPHA_CUT) -> Optional[Tuple[int, int, int, int]]:
    """``(top, bottom, left, right)`` of the pixels with alpha at least ``alpha_cut``, or ``None`` if there are none."""
    mask = (rgba[..., 3] >= alpha_cut).astype(np.uint8)
    left, top, width, height = cv2.boundingRect(mask)
    if width == 0 or height == 0:
        return None
    return top, top + height, left, left + width


def trim(rgba: np.ndarray, alpha_cut: int = ALPHA_CUT) -> np.ndarray:
    """The visible part of ``rgba`` (an empty ``0×0×4`` array when nothing is visible)."""
    box = visible_box(rgba, alpha_cut)
    if box is None:
        return np.zeros((0, 0, 4), np.uint8)
    top, bottom, left, right = box
    return rgba[top:bottom, left:right]


def read_visible(path: str, alpha_cut: int = ALPHA_CUT, work_side: int = WORK_SIDE) -> np.ndarray:
    """The visible part of a picture file as uint8 RGBA, at most ``work_side`` on its longer side.

    Decoded (:func:`decode_rgba`), shrunk to twice ``work_side`` (so giant files cost memory only while
    decoded), its plain background cleared if it has no transparency (:func:`clear_plain_border`),
    trimmed (:func:`trim`) and shrunk to ``work_side``.

    Raises:
        UserInputError: the file is not a decodable picture or shows nothing (the message names the file).
    """
    rgba = clear_plain_border(shrink(decode_rgba(path), 2 * work_side), alpha_cut)
    visible = trim(rgba, alpha_cut)
    if visible.size == 0:
        raise UserInputError(f'{path}: fully transparent (no alpha at or above {alpha_cut})')
    return np.ascontiguousarray(shrink(visible, work_side))


def flattened_luma(rgba: np.ndarray, alpha_cut: int = ALPHA_CUT) -> np.ndarray:
    """The visible part of an RGBA uint8 picture on ``HASH_BACKGROUND`` grey, as float32 luminance in [0, 1].

    Returns a ``0×0`` array when nothing is visible.
    """
    piece = trim(rgba, alpha_cut).astype(np.float32) / 255.0
    if piece.size == 0:
        return np.zeros((0, 0), np.float32)
    alpha = np.where(piece[..., 3] * 255.0 < alpha_cut, 0.0, piece[..., 3])[..., None]
    rgb = piece[..., :3] * alpha + HASH_BACKGROUND * (1.0 - alpha)
    return np.ascontiguousarray(rgb @ np.array([0.299, 0.587, 0.114], np.float32), dtype=np.float32)


def dct_hash(luma: np.ndarray, side: int, keep: int) -> np.ndarray:
    """``keep²`` bits, packed in uint8: the signs of the ``keep×keep`` lowest DCT frequencies of ``luma``
    squeezed to a ``side``-pixel square, against their median (the constant term left out of the median)."""
    height, width = luma.shape
    shrinking = height >= side and width >= side
    square = cv2.resize(luma, (side, side), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    low = cv2.dct(square.astype(np.float32))[:keep, :keep].ravel()
    return np.packbits(low > np.median(low[1:]))


def picture_hashes(rgba: np.ndarray, alpha_cut: int = ALPHA_CUT, flips: bool = False) -> Dict[int, np.ndarray]:
    """The picture's hashes, ``{bits: array}`` for each size in ``HASH_SIZES`` (64 and 256 bits).

    Each array is ``(orientations, bits // 8)`` uint8: one row, or with ``flips`` two (as stored, then
    mirrored left-right). A picture with no visible pixel hashes to all-zero rows.
    """
    luma = flattened_luma(rgba, alpha_cut)
    views = [luma, np.ascontiguousarray(luma[:, ::-1])] if flips else [luma]
    hashes = {}
    for side, keep in HASH_SIZES:
        rows = [dct_hash(view, side, keep) if view.size else np.zeros(keep * keep // 8, np.uint8) for view in views]
        hashes[keep * keep] = np.stack(rows)
    return hashes


def hamming(first: np.ndarray, second: np.ndarray, chunk: int = 512) -> np.ndarray:
    """``(N, M)`` Hamming distances in bits (uint16) between packed hashes ``first`` (N×B) and ``second`` (M×B)."""
    first, second = np.asarray(first, np.uint8), np.asarray(second, np.uint8)
    out = np.empty((len(first), len(second)), np.uint16)
    for start in range(0, len(first), chunk):
        block = np.bitwise_xor(first[start:start + chunk, None, :], second[None, :, :])
        out[start:start + chunk] = np.bitwise_count(block).sum(axis=2, dtype=np.uint16)
    return out
