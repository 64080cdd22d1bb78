"""LoadAudio(lazy=True) + AudioClip: only the clip's window is read, and it is the clip a whole-file read gives.

For each file and clip setting, the same random seed goes through ``LoadAudio → AudioClip``
with and without ``lazy``: the clip must be bit-identical, ``audio_meta`` equal, and the
random stream left in the same state (the same draws were made).
"""
import random

import numpy as np
import pytest
import soundfile as sf

from icl_av.datasets.errors import AVLoadError
from icl_av.datasets.transforms import AudioClip, ComputeAudioFeature, LoadAudio
from icl_av.datasets.utils import media_io
from icl_av.datasets.utils.media_io import AudioSource


def _write(path, seconds, rate=16000, channels=1, subtype='PCM_16', seed=0):
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal((int(seconds * rate), channels)) * 0.2).clip(-1, 1).astype(np.float32)
    sf.write(str(path), data, rate, subtype=subtype)
    return str(path)


@pytest.fixture(scope='module')
def audio_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp('audio')
    return {
        'wav16_mono_10s': _write(folder / 'a.wav', 10.0),
        'wav_float_stereo': _write(folder / 'b.wav', 7.3, channels=2, subtype='FLOAT', seed=1),
        'flac24_6ch': _write(folder / 'c.flac', 5.0, channels=6, subtype='PCM_24', seed=2),
        'wav_short_1s': _write(folder / 'd.wav', 1.0, seed=3),
        'wav_8k_resampled': _write(folder / 'e.wav', 6.0, rate=8000, seed=4),
        'ogg_whole': _write(folder / 'f.ogg', 4.0, subtype='VORBIS', seed=5),
    }


CLIPS = [dict(offset='random'), dict(offset='center'), dict(offset='random', jitter=0.5),
         dict(offset='random', pad_mode='zeros'), dict(offset='center', duration=2.5)]


def _clip(path, lazy, clip_cfg, seed, center=None):
    random.seed(seed)
    results = dict(audio_path=path)
    if center is not None:
        results['audio_center'] = center
    results = LoadAudio(sample_rate=16000, lazy=lazy)(results)
    results = AudioClip(**clip_cfg)(results)
    return results, random.getstate()


@pytest.mark.parametrize('name', ['wav16_mono_10s', 'wav_float_stereo', 'flac24_6ch', 'wav_short_1s',
                                  'wav_8k_resampled', 'ogg_whole'])
@pytest.mark.parametrize('clip_cfg', CLIPS)
def test_lazy_clip_is_bit_identical_to_the_whole_file_read(audio_files, name, clip_cfg):
    path = audio_files[name]
    for seed in range(6):
        for center in (None, 1.7):
            lazy, lazy_state = _clip(path, True, clip_cfg, seed, center)
            whole, whole_state = _clip(path, False, clip_cfg, seed, center)
            assert lazy['audio'].dtype == np.float32 and lazy['audio'].flags['C_CONTIGUOUS']
            assert np.array_equal(lazy['audio'], whole['audio']), (name, clip_cfg, seed, center)
            assert lazy['audio_meta'] == whole['audio_meta']
            assert lazy_state == whole_state  # the same random draws


def test_only_the_window_is_read(audio_files, monkeypatch):
    reads = []
    original = sf.SoundFile.read

    def spy(self, frames=-1, *args, **kwargs):
        data = original(self, frames, *args, **kwargs)
        reads.append(len(data))
        return data

    monkeypatch.setattr(sf.SoundFile, 'read', spy)
    monkeypatch.setattr(media_io, '_read_with_soundfile',
                        lambda path: pytest.fail('the whole file was decoded'))
    results = LoadAudio(sample_rate=16000, lazy=True)(dict(audio_path=audio_files['wav16_mono_10s']))
    assert isinstance(results['audio'], AudioSource) and results['audio'].windowed
    AudioClip(duration=3.0, offset='random')(results)
    assert reads == [48000]  # 3 s of a 10 s file


@pytest.mark.parametrize('name', ['wav_8k_resampled', 'ogg_whole'])
def test_files_that_cannot_be_read_by_window_are_decoded_in_loadaudio(audio_files, name):
    results = LoadAudio(sample_rate=16000, lazy=True)(dict(audio_path=audio_files[name]))
    assert isinstance(results['audio'], np.ndarray)


def test_source_reports_its_whole_waveform_to_numpy_consumers(audio_files):
    path = audio_files['wav_float_stereo']
    source = LoadAudio(sample_rate=16000, lazy=True)(dict(audio_path=path))['audio']
    whole = LoadAudio(sample_rate=16000)(dict(audio_path=path))['audio']
    assert np.array_equal(np.asarray(source), whole)
    # A feature computed straight from the source (no AudioClip in between) is the whole file's.
    feature = ComputeAudioFeature(dict(type='LogMelFrontend', sample_rate=16000, n_mels=16))
    lazy = feature(dict(audio=source, audio_sample_rate=16000))['audio']
    eager = feature(dict(audio=whole, audio_sample_rate=16000))['audio']
    assert np.array_equal(lazy, eager)


def test_nan_policy_applies_to_the_window(tmp_path):
    data = np.zeros((16000 * 4, 1), np.float32)
    data[100] = np.nan  # in the first second only
    path = str(tmp_path / 'nan.wav')
    sf.write(path, data, 16000, subtype='FLOAT')
    with pytest.raises(AVLoadError, match='NaN'):
        LoadAudio(sample_rate=16000)(dict(audio_path=path))
    clip = AudioClip(duration=1.0, offset='center')(LoadAudio(sample_rate=16000, lazy=True)(dict(audio_path=path)))
    assert np.isfinite(clip['audio']).all()  # the centre second holds no NaN
    source = AudioSource(path, 16000)
    with pytest.raises(AVLoadError, match='NaN'):
        source.read_window(0, 16000)


@pytest.mark.parametrize('make, reason', [
    (lambda p: None, 'does not exist'),
    (lambda p: open(p, 'wb').close(), 'empty'),
    (lambda p: open(p, 'wb').write(b'RIFF not really a wav file'), 'not a decodable audio file'),
])
def test_bad_files_fail_in_loadaudio_with_lazy(tmp_path, make, reason):
    path = tmp_path / 'bad.wav'
    make(path)
    with pytest.raises(AVLoadError, match=reason):
        LoadAudio(sample_rate=16000, lazy=True)(dict(audio_path=str(path)))


def test_empty_audio_fails_in_loadaudio_with_lazy(tmp_path):
    path = str(tmp_path / 'silent.wav')
    sf.write(path, np.zeros((0, 1), np.float32), 16000)
    with pytest.raises(AVLoadError, match='no samples'):
        LoadAudio(sample_rate=16000, lazy=True)(dict(audio_path=path))


def test_window_outside_the_file_is_a_programming_error(audio_files):
    source = AudioSource(audio_files['wav_short_1s'], 16000)
    with pytest.raises(ValueError, match='outside'):
        source.read_window(16000, 10)
    assert len(source.read_window(15990, 100)) == 10  # clipped to the file


def test_repr_names_lazy():
    assert 'lazy=True' in repr(LoadAudio(lazy=True))
