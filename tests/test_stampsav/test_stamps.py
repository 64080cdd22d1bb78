"""Reading the stamps package: usable stamps, merged classes, dropped ones, pictures, recordings, errors."""
import numpy as np
import pytest
from fake_tux_paint import CLASSES, USABLE_STAMPS

from icl_av.stampsav import class_of, load_stamps
from icl_av.stampsav.presets import SAMPLE_RATE
from icl_av.stampsav.stamps import load_stamp_picture
from icl_av.utils import UserInputError


@pytest.fixture(scope='module')
def stamp_set(fake_tux):
    return load_stamps(fake_tux.stamps_root, log=lambda line: None)


def test_usable_stamps_and_their_classes(stamp_set):
    assert [s.rel for s in stamp_set.stamps] == sorted(f'{folder}/{name}' for folder, name, *_ in USABLE_STAMPS)
    assert sorted(stamp_set.classes) == CLASSES
    cows = [stamp_set.stamps[i].name for i in stamp_set.classes['cow']]
    assert cows == ['cow', 'cow_white'] and class_of('cow_white') == 'cow' and class_of('cat') == 'cat'


def test_dropped_and_skipped_stamps(stamp_set):
    reasons = dict(stamp_set.dropped)
    assert reasons == {
        'animals/quiet': 'silent .ogg',
        'animals/vector': 'no .png (svg-only or no image)',
        'animals/wildcat': 'audio identical to animals/cat',
    }
    names = {s.name for s in stamp_set.stamps}
    assert 'star' not in names  # symbols/ is left out
    assert not any('_desc' in s.name for s in stamp_set.stamps)


def test_recordings_are_mono_float32_at_the_benchmark_rate(stamp_set):
    seconds = {s[1]: s[4] for s in USABLE_STAMPS}
    for stamp in stamp_set.stamps:
        assert stamp.wav.dtype == np.float32 and stamp.wav.ndim == 1
        assert abs(len(stamp.wav) - seconds[stamp.name] * SAMPLE_RATE) <= 2, stamp.name


def test_pictures_are_tight_premultiplied_and_drop_faint_halos(stamp_set):
    sizes = {s[1]: (s[5], s[6]) for s in USABLE_STAMPS}
    for stamp in stamp_set.stamps:
        pic = stamp.img
        assert pic.dtype == np.float32 and pic.shape[2] == 4
        alpha = pic[..., 3]
        # the halo (alpha 10/255) is cut, so the crop is the ellipse's box
        assert abs(pic.shape[0] - sizes[stamp.name][0]) <= 2 and abs(pic.shape[1] - sizes[stamp.name][1]) <= 2
        for edge in (alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]):
            assert edge.max() > 0
        assert (pic[..., :3] <= alpha[..., None] + 1e-6).all()


def test_large_pictures_are_downscaled(tmp_path):
    from PIL import Image
    rgba = np.full((500, 250, 4), 255, np.uint8)
    Image.fromarray(rgba).save(tmp_path / 'big.png')
    assert load_stamp_picture(str(tmp_path / 'big.png')).shape == (400, 200, 4)


def test_missing_stamps_folder_is_a_one_line_error(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'stamps')
    with pytest.raises(UserInputError) as info:
        load_stamps(missing)
    message = str(info.value)
    assert '\n' not in message and repr(missing) in message
    assert 'apt-get download tuxpaint-stamps-default' in message and 'dpkg -x' in message


def test_a_folder_without_stamps_is_an_error(tmp_path):
    (tmp_path / 'stamps' / 'animals').mkdir(parents=True)
    with pytest.raises(UserInputError, match='no stamp with a .png picture'):
        load_stamps(str(tmp_path / 'stamps'))


def test_an_unreadable_folder_is_an_error(tmp_path, monkeypatch):
    import icl_av.stampsav.tux_paint as tux_paint
    (tmp_path / 'stamps').mkdir()
    monkeypatch.setattr(tux_paint.os, 'access', lambda path, mode: False)
    with pytest.raises(UserInputError, match='is not readable.*apt-get download tuxpaint-stamps-default'):
        load_stamps(str(tmp_path / 'stamps'))
