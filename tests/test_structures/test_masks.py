"""The one COCO-RLE codec: round trips, both counts forms, and clear errors."""
import numpy as np
import pycocotools.mask as mask_utils
import pytest

from icl_av.structures.masks import compress_rle, decode_rle, encode_rle


def sample_mask(height=7, width=5) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[1:4, 2:5] = True
    mask[6, 0] = True
    return mask


def test_encode_gives_json_ready_rle_that_decodes_back():
    mask = sample_mask()
    rle = encode_rle(mask)
    assert rle['size'] == [7, 5] and isinstance(rle['counts'], str)
    assert all(type(v) is int for v in rle['size'])
    decoded = decode_rle(rle)
    assert decoded.dtype == np.uint8 and decoded.shape == (7, 5)
    assert np.array_equal(decoded, mask.astype(np.uint8))


def test_encode_accepts_uint8_and_non_contiguous_input():
    mask = sample_mask(8, 6)
    assert encode_rle(mask.astype(np.uint8)) == encode_rle(mask)
    transposed = sample_mask(7, 9).T  # a Fortran-ordered view
    assert np.array_equal(decode_rle(encode_rle(transposed)), transposed.astype(np.uint8))


def test_decode_and_compress_take_bytes_and_uncompressed_counts():
    mask = sample_mask()
    reference = encode_rle(mask)
    as_bytes = dict(size=reference['size'], counts=reference['counts'].encode('ascii'))
    # Uncompressed COCO RLE: run lengths in column-major order, starting with zeros.
    flat = mask.astype(np.uint8).flatten(order='F')
    runs, value, length = [], 0, 0
    for pixel in flat:
        if pixel == value:
            length += 1
        else:
            runs.append(length)
            value, length = pixel, 1
    runs.append(length)
    uncompressed = dict(size=[7, 5], counts=runs)
    for rle in (as_bytes, uncompressed):
        assert compress_rle(rle) == reference
        assert np.array_equal(decode_rle(rle), mask.astype(np.uint8))


def test_matches_pycocotools_on_a_random_mask():
    mask = np.random.default_rng(0).random((13, 11)) > 0.5
    expected = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    assert encode_rle(mask)['counts'] == expected['counts'].decode('ascii')


@pytest.mark.parametrize('bad', [None, [1, 2], {'size': [2, 2]}, {'counts': 'abc'}, {'size': [2], 'counts': 'a'},
                                 {'size': [2, 2], 'counts': 3.5}])
def test_bad_input_is_a_value_error_that_shows_it(bad):
    with pytest.raises(ValueError, match='COCO RLE'):
        decode_rle(bad)
