"""LoadAVFrame(min_size=...): JPEGs decoded at the smallest libjpeg scale that keeps the shorter side."""
import cv2
import numpy as np
import pytest

from icl_av.datasets.transforms import LoadAVFrame
from icl_av.datasets.utils.media_io import decode_image, jpeg_size, reduce_factor_for


def _scene(height, width, seed=0):
    """A smooth picture with some texture (JPEG-friendly, resize-friendly)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([128 + 100 * np.sin(x / 23.0 + c) * np.cos(y / 31.0 - c) for c in range(3)], axis=2)
    img += rng.normal(0, 4, img.shape)
    return img.clip(0, 255).astype(np.uint8)


def _jpeg(path, height, width, progressive=False):
    cv2.imwrite(str(path), _scene(height, width), [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
    return str(path)


@pytest.mark.parametrize('progressive', [False, True])
def test_jpeg_size_reads_the_frame_header(tmp_path, progressive):
    path = _jpeg(tmp_path / 'x.jpg', 123, 257, progressive)
    with open(path, 'rb') as handle:
        assert jpeg_size(handle.read()) == (257, 123)
    assert jpeg_size(b'\x89PNG\r\n\x1a\n....') is None
    assert jpeg_size(b'\xff\xd8\xff\xe0\x00') is None  # cut inside a marker


@pytest.mark.parametrize('width, height, min_size, factor', [
    (1920, 1080, 224, 4), (1280, 720, 366, 1), (1920, 1080, 366, 2), (640, 360, 366, 1), (225, 225, 113, 2),
    (225, 225, 114, 1), (4000, 3000, 224, 8), (100, 80, 500, 1)])
def test_reduce_factor_keeps_the_shorter_side(width, height, min_size, factor):
    assert reduce_factor_for(width, height, min_size) == factor


@pytest.mark.parametrize('height, width, min_size', [(480, 640, 100), (480, 640, 240), (481, 643, 120),
                                                     (480, 640, 479), (200, 300, 366)])
def test_decoded_image_is_the_smallest_that_covers_min_size(tmp_path, height, width, min_size):
    path = _jpeg(tmp_path / 'f.jpg', height, width)
    img = LoadAVFrame(min_size=min_size)(dict(img_path=path))['img']
    assert min(img.shape[:2]) >= min(min_size, height, width)
    factor = reduce_factor_for(width, height, min_size)
    assert img.shape[:2] == (-(-height // factor), -(-width // factor))
    if factor < 8:  # the next scale down would be too small
        assert -(-min(height, width) // (factor * 2)) < min_size


def test_reduced_pixels_are_close_to_a_full_decode_and_resize(tmp_path):
    path = _jpeg(tmp_path / 'big.jpg', 720, 1280)
    reduced = LoadAVFrame(min_size=300)(dict(img_path=path))['img']
    assert reduced.shape == (360, 640, 3)
    resized = cv2.resize(decode_image(path), (640, 360), interpolation=cv2.INTER_AREA)
    assert np.abs(reduced.astype(np.int16) - resized.astype(np.int16)).mean() < 3.0


def test_without_min_size_nothing_changes(tmp_path):
    path = _jpeg(tmp_path / 'same.jpg', 720, 1280)
    full = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(LoadAVFrame()(dict(img_path=path))['img'], full)


def test_other_formats_decode_whole(tmp_path):
    path = str(tmp_path / 'x.png')
    cv2.imwrite(path, _scene(480, 640))
    assert LoadAVFrame(min_size=100)(dict(img_path=path))['img'].shape == (480, 640, 3)


def test_full_frame_pixel_boxes_follow_the_reduction(tmp_path):
    path = _jpeg(tmp_path / 'boxes.jpg', 480, 642)
    boxes = np.array([[64, 48, 320, 240]], np.float32)
    reduced = LoadAVFrame(min_size=120)(dict(img_path=path, gt_bboxes=boxes.copy()))
    assert reduced['img'].shape[:2] == (120, 161)
    np.testing.assert_allclose(reduced['gt_bboxes'], boxes * np.array([161 / 642, 120 / 480] * 2), rtol=1e-5)
    normalised = LoadAVFrame(min_size=120)(dict(img_path=path, gt_bboxes=np.array([[0.5, 0.5, 1, 1]], np.float32),
                                                 bbox_frame_size=(1, 1)))
    np.testing.assert_allclose(normalised['gt_bboxes'], [[80.5, 60, 161, 120]])


def test_min_size_is_validated():
    with pytest.raises(ValueError, match='min_size'):
        LoadAVFrame(min_size=0)
    with pytest.raises(ValueError, match='reduce_factor'):
        LoadAVFrame(reduce_factor=2, min_size=100)
    assert 'min_size=224' in repr(LoadAVFrame(min_size=224))


def test_exif_rotated_jpeg_scales_boxes_in_the_turned_frame(tmp_path):
    image_module = pytest.importorskip('PIL.Image')
    path = str(tmp_path / 'turned.jpg')
    picture = image_module.fromarray(_scene(480, 640)[:, :, ::-1].copy())
    exif = picture.getexif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise on display
    picture.save(path, exif=exif.tobytes(), quality=95)
    full = LoadAVFrame()(dict(img_path=path))['img']
    assert full.shape[:2] == (640, 480)  # cv2 applies the orientation
    boxes = np.array([[48, 64, 240, 320]], np.float32)  # pixels of the turned full-size frame
    reduced = LoadAVFrame(min_size=120)(dict(img_path=path, gt_bboxes=boxes.copy()))
    assert reduced['img'].shape[:2] == (160, 120)
    np.testing.assert_allclose(reduced['gt_bboxes'], boxes / 4)
