"""One loudness on every path: the same stereo signal loads equally loud from wav, flac, mp4, webm and raw videos.

The two channels differ (0.8 and 0.2 times one sine), so a mix other than the mean shows: decord's
(L+R)/sqrt(2) would read 3 dB louder than the wav.
"""
import numpy as np
import pytest
import soundfile as sf
from av_test_media import HAS_PYAV, write_av_container

from icl_av.datasets.transforms import LoadAudio, LoadVideoFrameAndAudio
from icl_av.datasets.video_extraction import extract_video

RATE = 48000  # Opus (webm) only takes 48 kHz; the loaders resample to 16 kHz
LOAD_RATE = 16000
TOLERANCE_DB = 0.5


def stereo_signal(seconds=2.0, left=0.8, right=0.2):
    t = np.arange(int(seconds * RATE)) / RATE
    sine = np.sin(2 * np.pi * 440 * t)
    return np.stack([left * sine, right * sine]).astype(np.float32)


def level_db(wave):
    """RMS level in dB of the steady middle (codec priming and resampler edges cut off)."""
    middle = wave[LOAD_RATE // 4:-LOAD_RATE // 4]
    return 20 * np.log10(np.sqrt(np.mean(np.square(middle, dtype=np.float64))))


@pytest.fixture(scope='module')
def media(tmp_path_factory):
    """The same stereo signal as wav, flac, mp4 (AAC) and webm (Opus)."""
    if not HAS_PYAV:
        pytest.skip('PyAV (a test requirement) writes the mp4/webm files')
    folder = tmp_path_factory.mktemp('loudness')
    signal = stereo_signal()
    paths = {}
    for ext, subtype in (('wav', 'PCM_16'), ('flac', 'PCM_24')):
        paths[ext] = str(folder / f'tone.{ext}')
        sf.write(paths[ext], signal.T, RATE, subtype=subtype)
    paths['mp4'] = str(folder / 'tone.mp4')
    write_av_container(paths['mp4'], signal, RATE, audio_codec='aac')
    paths['webm'] = str(folder / 'tone.webm')
    write_av_container(paths['webm'], signal, RATE, audio_codec='libopus')
    return paths


def expected_db():
    return level_db(np.mean(stereo_signal(), axis=0)[::RATE // LOAD_RATE])


@pytest.mark.parametrize('ext', ['wav', 'flac', 'mp4', 'webm'])
def test_load_audio_mixes_stereo_as_the_mean(media, ext):
    results = LoadAudio(sample_rate=LOAD_RATE)(dict(audio_path=media[ext]))
    assert results['audio_meta']['orig_channels'] == 2
    assert abs(level_db(results['audio']) - expected_db()) < TOLERANCE_DB


@pytest.mark.parametrize('ext', ['mp4', 'webm'])
def test_raw_video_audio_is_as_loud_as_the_wav(media, ext):
    wav = LoadAudio(sample_rate=LOAD_RATE)(dict(audio_path=media['wav']))['audio']
    video = LoadVideoFrameAndAudio(sample_rate=LOAD_RATE)(dict(video_path=media[ext]))['audio']
    assert abs(level_db(video) - level_db(wav)) < TOLERANCE_DB


def test_extracted_wav_keeps_the_loudness_and_is_not_clipped(media, tmp_path):
    result = extract_video(media['mp4'], 'tone', str(tmp_path), sample_rate=LOAD_RATE)
    assert result.status == 'done', result.reason
    written, rate = sf.read(str(tmp_path / 'audio' / 'tone.wav'), dtype='float32')
    assert rate == LOAD_RATE and written.ndim == 1
    assert abs(level_db(written) - expected_db()) < TOLERANCE_DB
    assert np.mean(np.abs(written) >= 32767 / 32768) < 1e-3


def test_extraction_scales_audio_beyond_full_scale_instead_of_clipping(tmp_path):
    if not HAS_PYAV:
        pytest.skip('PyAV (a test requirement) writes the mp4 file')
    t = np.arange(2 * RATE) / RATE
    square = np.sign(np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # AAC overshoots a full-scale square wave
    write_av_container(str(tmp_path / 'loud.mp4'), np.stack([square, square]), RATE, audio_codec='aac')
    result = extract_video(str(tmp_path / 'loud.mp4'), 'loud', str(tmp_path / 'out'), sample_rate=LOAD_RATE)
    assert result.status == 'done' and result.audio_gain < 1
    written, _ = sf.read(str(tmp_path / 'out' / 'audio' / 'loud.wav'), dtype='int16')
    assert np.sum(np.abs(written.astype(np.int32)) >= 32767) <= 2  # only the peak itself reaches full scale


def test_fit_to_pcm16_leaves_audio_that_fits_alone():
    from icl_av.datasets.video_extraction import fit_to_pcm16
    wave = np.array([0.5, -0.9], np.float32)
    assert fit_to_pcm16(wave)[1] == 1.0 and fit_to_pcm16(wave)[0] is wave
    scaled, gain = fit_to_pcm16(np.array([2.0, -1.0], np.float32))
    assert gain == pytest.approx(32767 / 32768 / 2) and np.abs(scaled).max() <= 32767 / 32768
