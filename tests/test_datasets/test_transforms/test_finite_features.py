"""Features are always finite: any finite waveform gives finite features or an error naming the file."""
import numpy as np
import pytest
import soundfile as sf
import torch

from icl_av.datasets.errors import AVLoadError
from icl_av.datasets.transforms import ComputeAudioFeature, LoadAudio
from icl_av.datasets.utils.media_io import MAX_AUDIO_AMPLITUDE
from icl_av.models.audio_frontends import LogMelFrontend


@pytest.mark.parametrize('peak', [1e19, 3e38])
def test_huge_float_wav_is_rejected_naming_the_file(tmp_path, peak):
    path = tmp_path / 'huge.wav'
    wave = np.sin(np.linspace(0, 200, 8000)).astype(np.float32) * np.float32(peak)
    sf.write(str(path), np.stack([wave, wave], axis=1), 8000, subtype='FLOAT')
    with pytest.raises(AVLoadError, match='huge.wav.*far beyond full scale'):
        LoadAudio(sample_rate=8000)(dict(audio_path=str(path)))


def test_loud_but_sane_float_wav_gives_finite_features(tmp_path):
    path = tmp_path / 'loud.wav'
    wave = np.sin(np.linspace(0, 2000, 16000)).astype(np.float32) * MAX_AUDIO_AMPLITUDE
    sf.write(str(path), wave, 16000, subtype='FLOAT')
    results = LoadAudio(sample_rate=16000)(dict(audio_path=str(path)))
    features = LogMelFrontend(sample_rate=16000)(torch.from_numpy(results['audio'])[None, None])
    assert torch.isfinite(features).all()


def test_feature_transform_refuses_non_finite_features():
    results = dict(audio=np.full(16000, 3e38, np.float32), audio_sample_rate=16000, audio_path='/data/x.wav')
    with pytest.raises(AVLoadError, match='/data/x.wav.*non-finite'):
        ComputeAudioFeature(dict(type='LogMelFrontend', sample_rate=16000))(results)
