"""Fixture factories for the data tests: tiny images, wavs, mp4s and dataset folders in tmp_path."""
import os
import cv2
import numpy as np
import pytest
import soundfile as sf

try:  # PyAV (a test requirement) writes mp4 fixtures with audio tracks; no ffmpeg binary needed.
    import av  # noqa: F401
    HAS_PYAV = True
except ImportError:
    HAS_PYAV = False


def write_image(path, height=48, width=64, value=None, seed=0):
    """Write a small random (or constant) BGR JPEG/PNG and return the array written."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (height, width, 3), dtype=np.uint8) if value is None else \
        np.full((height, width, 3), value, np.uint8)
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    assert cv2.imwrite(str(path), img)
    return img


def write_wav(path, seconds=1.0, rate=16000, channels=1, subtype='PCM_16', freq=440.0, amplitude=0.5):
    """Write a sine WAV (any subtype / channel count) and return the float waveform written."""
    t = np.arange(int(seconds * rate)) / rate
    wave = amplitude * np.sin(2 * np.pi * freq * t)
    data = np.repeat(wave[:, None], channels, axis=1) if channels > 1 else wave
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    sf.write(str(path), data, rate, subtype=subtype)
    return wave.astype(np.float32)


def write_video_only_mp4(path, frames=20, fps=10, height=48, width=64):
    """Video-only mp4 (cv2 'mp4v'): frame i is filled with value 10*i."""
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    for i in range(frames):
        writer.write(np.full((height, width, 3), 10 * i, np.uint8))
    writer.release()


def write_av_mp4(path, seconds=2.0, fps=25, rate=44100, channels=2, size='64x48', freq=440.0):
    """mp4 with a moving-gradient H.264/MPEG-4 video and an AAC sine track, written with PyAV."""
    import av
    width, height = (int(v) for v in size.split('x'))
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    layout = {1: 'mono', 2: 'stereo', 6: '5.1'}[channels]
    with av.open(str(path), 'w') as container:
        codec = 'libx264' if 'libx264' in av.codecs_available else 'mpeg4'
        video = container.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, 'yuv420p'
        audio = container.add_stream('aac', rate=rate, layout=layout)
        for i in range(int(seconds * fps)):
            img = np.zeros((height, width, 3), np.uint8)
            img[..., 0] = (np.arange(width) * 4 + i * 8) % 256
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):
                container.mux(packet)
        t = np.arange(int(seconds * rate)) / rate
        wave = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        chunk = 1024
        for start in range(0, wave.size, chunk):
            block = np.ascontiguousarray(np.repeat(wave[None, start:start + chunk], channels, axis=0))
            frame = av.AudioFrame.from_ndarray(block, format='fltp', layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            for packet in audio.encode(frame):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)


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
