"""Background photos from the data package, and the two kinds of background."""
import numpy as np
import pytest

from icl_av.stampsav.backgrounds import load_background_photos, photo_background, procedural_background
from icl_av.utils import UserInputError


def test_photos_are_read_sorted_excluded_and_downscaled(fake_tux):
    photos, names = load_background_photos(fake_tux.templates_root)
    assert names == ['beach.png', 'meadow.jpg', 'reef-back.png']  # sheep.jpg excluded; starters last
    shapes = [p.shape for p in photos]
    assert shapes == [(200, 240, 3), (240, 640, 3), (180, 180, 3)]  # 800 px long side -> 640
    assert all(p.dtype == np.float32 and 0 <= p.min() and p.max() <= 1 for p in photos)


def test_no_templates_root_means_procedural_only():
    assert load_background_photos('') == ([], [])


def test_missing_data_package_is_a_one_line_error(tmp_path):
    with pytest.raises(UserInputError) as info:
        load_background_photos(str(tmp_path / 'tuxpaint'))
    message = str(info.value)
    assert '\n' not in message and str(tmp_path / 'tuxpaint') in message
    assert 'apt-get download tuxpaint-data' in message
    (tmp_path / 'tuxpaint').mkdir()
    with pytest.raises(UserInputError, match=r"templates folder .*templates' not found"):
        load_background_photos(str(tmp_path / 'tuxpaint'))


@pytest.mark.parametrize('kind', ['procedural', 'photo'])
def test_backgrounds_are_deterministic_frames_in_range(kind, fake_tux):
    photos, _ = load_background_photos(fake_tux.templates_root)

    def draw(seed):
        rng = np.random.default_rng(seed)
        if kind == 'procedural':
            return procedural_background(rng, 48)
        img, index = photo_background(rng, 48, photos)
        assert 0 <= index < len(photos)
        return img

    first, again, other = draw(0), draw(0), draw(1)
    assert first.shape == (48, 48, 3) and first.dtype == np.float32
    assert 0 <= first.min() and first.max() <= 1
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert first.std() > 0.01  # textured, not flat
