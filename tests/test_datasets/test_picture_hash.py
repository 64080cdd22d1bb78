"""icl_av.datasets.utils.picture_hash reads pictures alike whatever their file and hashes them so that an
altered copy (rescaled, mirrored, re-margined, flattened) stays close and an unrelated picture does not."""
import numpy as np
import pytest
from clipart_test_pictures import altered_copy, drawing, flattened_copy, write

from icl_av.datasets.utils.picture_hash import (clear_plain_border, hamming, picture_hashes, read_visible,
                                                svg_without_doctype, trim)
from icl_av.utils import UserInputError


def distance(first, second, bits=256):
    """The smaller distance of ``first`` to ``second`` as stored or mirrored."""
    reference = picture_hashes(second, flips=True)[bits]
    return int(hamming(picture_hashes(first)[bits][:1], reference).min())


def test_a_rescaled_mirrored_remargined_copy_stays_close_and_an_unrelated_drawing_does_not(tmp_path):
    stamp = read_visible(write(tmp_path / 'stamp.png', drawing(1)))
    copy = read_visible(write(tmp_path / 'copy.png', altered_copy(drawing(1))))
    other = read_visible(write(tmp_path / 'other.png', drawing(2)))
    assert distance(copy, stamp) <= 40
    assert distance(other, stamp) >= 80


def test_a_copy_flattened_on_a_plain_colour_gets_its_transparency_back(tmp_path):
    rgba = drawing(3)
    flat = read_visible(write(tmp_path / 'flat.png', flattened_copy(rgba)))
    assert flat.shape == trim(rgba).shape
    assert flat[0, 0, 3] == 0 and flat[flat.shape[0] // 2, flat.shape[1] // 2, 3] == 255
    assert distance(flat, read_visible(write(tmp_path / 'stamp.png', rgba))) <= 40


def test_grey_palette_and_16_bit_files_read_as_rgba(tmp_path):
    grey = np.zeros((20, 30), np.uint8)
    grey[5:15, 10:20] = 200
    visible = read_visible(write(tmp_path / 'grey.png', grey))
    assert visible.shape == (10, 10, 4) and visible.dtype == np.uint8
    deep = (drawing(4).astype(np.uint16) * 257)
    bgra_to_rgba = [2, 1, 0, 3]  # the file holds the drawing's channels as OpenCV writes them: BGRA
    assert np.array_equal(read_visible(write(tmp_path / 'deep.png', deep)), trim(drawing(4))[..., bgra_to_rgba])


def test_one_plain_colour_is_kept_whole_and_a_blank_picture_is_named(tmp_path):
    plain = np.full((8, 8, 4), 255, np.uint8)
    assert clear_plain_border(plain) is plain
    with pytest.raises(UserInputError, match=r'blank\.png: fully transparent'):
        read_visible(write(tmp_path / 'blank.png', np.zeros((8, 8, 4), np.uint8)))
    with pytest.raises(UserInputError, match=r'broken\.png: missing or not a decodable picture'):
        (tmp_path / 'broken.png').write_bytes(b'not a png')
        read_visible(str(tmp_path / 'broken.png'))


def test_hamming_counts_differing_bits():
    first = np.array([[0b1111_0000, 0], [0, 0]], np.uint8)
    second = np.array([[0b1111_0000, 1], [0xFF, 0xFF]], np.uint8)
    assert hamming(first, second).tolist() == [[1, 12], [5, 16]]


def test_doctype_entities_of_an_svg_are_written_out():
    text = (b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd" [\n'
            b'\t<!ENTITY ns_svg "http://www.w3.org/2000/svg">\n]>\n<svg xmlns="&ns_svg;"/>')
    assert svg_without_doctype(text) == b'<?xml version="1.0"?>\n\n<svg xmlns="http://www.w3.org/2000/svg"/>'


def test_an_svg_drawing_hashes_like_its_png_rendering(tmp_path):
    pytest.importorskip('cairosvg')
    svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg [ <!ENTITY ns "http://www.w3.org/2000/svg"> ]>\n'
           '<svg xmlns="&ns;" width="40" height="60"><ellipse cx="20" cy="30" rx="18" ry="28" fill="#c03020"/>'
           '<rect x="8" y="10" width="12" height="9" fill="#2040f0"/><circle cx="26" cy="42" r="6" fill="#f0e020"/>'
           '</svg>')
    (tmp_path / 'stamp.svg').write_text(svg)
    drawn = read_visible(str(tmp_path / 'stamp.svg'))
    assert max(drawn.shape[:2]) > 400  # drawn 512 px wide, at most 512 px (the work size) tall, then trimmed
    import cv2
    small = cv2.resize(drawn, (40, 58), interpolation=cv2.INTER_AREA)
    assert distance(read_visible(write(tmp_path / 'copy.png', small[:, ::-1])), drawn) <= 40
