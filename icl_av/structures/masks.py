"""The one COCO-RLE codec (on pycocotools) for every mask that travels with a sample.

Masks travel as COCO RLE dicts ``{'size': [H, W], 'counts': str}``: compact, JSON-ready
and collate-friendly. The dataset side (annotation files, geometry transforms, SynthAV)
encodes, the evaluation side decodes; both go through these functions so there is one
convention for the ``counts`` type and one check of the input.
"""
from typing import Any, Dict

import numpy as np
import pycocotools.mask as mask_utils


def _checked_size(rle: Any) -> tuple:
    """``(H, W)`` of a COCO RLE dict, or a ValueError that shows what was passed instead."""
    size = rle.get('size') if isinstance(rle, dict) else None
    if (not isinstance(rle, dict) or 'counts' not in rle or not isinstance(size, (list, tuple))
            or len(size) != 2):
        raise ValueError(f"expected a COCO RLE dict {{'size': [H, W], 'counts': ...}}, got {rle!r:.80}")
    return int(size[0]), int(size[1])


def encode_rle(mask: np.ndarray) -> Dict:
    """Encode an ``H×W`` binary mask (bool or 0/1) as a COCO RLE with ``counts`` as ``str``."""
    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {'size': [int(v) for v in rle['size']], 'counts': rle['counts'].decode('ascii')}


def compress_rle(rle: Dict) -> Dict:
    """The compressed form ``{'size': [H, W], 'counts': str}`` of a COCO RLE.

    Accepts compressed ``counts`` (``str`` or ``bytes``) and uncompressed ones (a ``list``
    of run lengths, as COCO writes for crowd annotations).

    Raises:
        ValueError: ``rle`` is not a COCO RLE dict.
    """
    height, width = _checked_size(rle)
    counts = rle['counts']
    if isinstance(counts, list):
        counts = mask_utils.frPyObjects({'size': [height, width], 'counts': counts}, height, width)['counts']
    if isinstance(counts, bytes):
        counts = counts.decode('ascii')
    if not isinstance(counts, str):
        raise ValueError(f'COCO RLE counts must be a str, bytes or list, got {type(counts).__name__}')
    return {'size': [height, width], 'counts': counts}


def decode_rle(rle: Dict) -> np.ndarray:
    """Decode one COCO RLE (compressed or uncompressed ``counts``) to an ``H×W`` uint8 mask.

    Raises:
        ValueError: ``rle`` is not a COCO RLE dict.
    """
    compressed = compress_rle(rle)
    return np.asarray(mask_utils.decode(dict(size=compressed['size'], counts=compressed['counts'].encode('ascii'))),
                      dtype=np.uint8)
