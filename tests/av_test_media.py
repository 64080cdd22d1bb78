"""Small media files for tests, written with cv2, soundfile and PyAV (no ffmpeg binary needed)."""
import os

import cv2
import numpy as np
import soundfile as sf

try:  # PyAV (a test requirement) writes mp4 fixtures with audio tracks.
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


def write_mp4(path, frames_bgr, fps=10, audio=None, rate=16000):
    """Write BGR frames (and a mono float waveform, if given) as an mp4 with PyAV.

    Args:
        path: Output file.
        frames_bgr (list[np.ndarray]): uint8 H×W×3 BGR frames (H, W even).
        fps (int): Frame rate.
        audio (np.ndarray, optional): Mono float waveform in [-1, 1]; None = no audio track.
        rate (int): Audio sample rate.
    """
    import av
    height, width = frames_bgr[0].shape[:2]
    os.makedirs(os.path.dirname(str(path)) or '.', exist_ok=True)
    with av.open(str(path), 'w') as container:
        codec = 'libx264' if 'libx264' in av.codecs_available else 'mpeg4'
        video = container.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, 'yuv420p'
        if codec == 'libx264':
            video.options = {'crf': '10'}
        stream = container.add_stream('aac', rate=rate, layout='mono') if audio is not None else None
        for img in frames_bgr:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[..., ::-1]), format='rgb24')
            for packet in video.encode(frame):
                container.mux(packet)
        if stream is not None:
            wave = np.asarray(audio, np.float32)
            for start in range(0, wave.size, 1024):
                block = np.ascontiguousarray(wave[None, start:start + 1024])
                frame = av.AudioFrame.from_ndarray(block, format='fltp', layout='mono')
                frame.sample_rate, frame.pts = rate, start
                for packet in stream.encode(frame):
                    container.mux(packet)
        for s in ([video, stream] if stream is not None else [video]):
            for packet in s.encode(None):
                container.mux(packet)


def write_av_container(path, channels_wave, rate, audio_codec='aac', video_codec=None, fps=10, size=(64, 48)):
    """Write a video container whose audio track holds ``channels_wave`` (C×N float) unchanged per channel.

    Used to push the *same* multi-channel signal through mp4 (AAC) and webm (Opus) files.

    Args:
        path: Output file (.mp4 or .webm).
        channels_wave (np.ndarray): C×N float waveform in [-1, 1], C in (1, 2).
        rate (int): Audio sample rate (Opus needs 48000).
        audio_codec (str): PyAV encoder name ('aac', 'libopus', ...).
        video_codec (str, optional): Video encoder; default libx264/mpeg4 for mp4, libvpx-vp9 for webm.
        fps (int): Video frame rate; the video lasts as long as the audio.
        size (tuple): (width, height) of the grey video frames.
    """
    import av
    wave = np.asarray(channels_wave, np.float32)
    layout = {1: 'mono', 2: 'stereo'}[wave.shape[0]]
    if video_codec is None:
        if str(path).endswith('.webm'):
            video_codec = 'libvpx-vp9'
        else:
            video_codec = 'libx264' if 'libx264' in av.codecs_available else 'mpeg4'
    os.makedirs(os.path.dirname(str(path)) or '.', exist_ok=True)
    with av.open(str(path), 'w') as container:
        video = container.add_stream(video_codec, rate=fps)
        video.width, video.height, video.pix_fmt = size[0], size[1], 'yuv420p'
        audio = container.add_stream(audio_codec, rate=rate, layout=layout)
        for i in range(max(1, int(wave.shape[1] / rate * fps))):
            img = np.full((size[1], size[0], 3), 8 * i % 256, np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):
                container.mux(packet)
        chunk = audio.codec_context.frame_size or 1024
        for start in range(0, wave.shape[1], chunk):
            block = np.ascontiguousarray(wave[:, start:start + chunk])
            if block.shape[1] < chunk:
                block = np.pad(block, ((0, 0), (0, chunk - block.shape[1])))
            frame = av.AudioFrame.from_ndarray(block, format='fltp', layout=layout)
            frame.sample_rate, frame.pts = rate, start
            for packet in audio.encode(frame):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)
