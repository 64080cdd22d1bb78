"""Fixture factories for the data tests: tiny images, wavs, mp4s and dataset folders in tmp_path."""
import os

import pytest
from av_test_media import HAS_PYAV, write_av_mp4, write_image, write_video_only_mp4, write_wav


def make_frames_root(root, ids=('a', 'b', 'c'), img_hw=(48, 64), seconds=1.0, rate=16000):
    """A frames+audio dataset folder: frames/ID.jpg, audio/ID.wav, train.txt, test.txt."""
    for i, video_id in enumerate(ids):
        write_image(os.path.join(root, 'frames', f'{video_id}.jpg'), *img_hw, seed=i)
        write_wav(os.path.join(root, 'audio', f'{video_id}.wav'), seconds=seconds, rate=rate, freq=200 + 100 * i)
    for name in ('train.txt', 'test.txt'):
        with open(os.path.join(root, name), 'w') as handle:
            handle.write('\n'.join(ids) + '\n')
    return str(root)


def base_pipeline(test=True, size=32):
    """A small frames+audio pipeline ending in PackAVInputs."""
    return [dict(type='LoadAVFrame'), dict(type='LoadAudio', sample_rate=8000),
            dict(type='AudioClip', duration=0.5, offset='center' if test else 'random'),
            dict(type='Resize', scale=(size, size)), dict(type='PackAVInputs')]


@pytest.fixture
def av_media():
    """The writers above, for tests in this folder and below."""
    from types import SimpleNamespace
    return SimpleNamespace(write_image=write_image, write_wav=write_wav, write_video_only_mp4=write_video_only_mp4,
                           write_av_mp4=write_av_mp4, make_frames_root=make_frames_root,
                           base_pipeline=base_pipeline, has_av_writer=HAS_PYAV)
