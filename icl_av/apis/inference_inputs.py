"""Reading inference inputs: a frame, an audio waveform or a video, from files or arrays.

The decoding itself is the datasets' media library (:mod:`icl_av.datasets.utils.media_io`),
imported when first needed so that ``import icl_av.apis`` stays cheap.
"""
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

ArrayOrPath = Union[str, Path, np.ndarray]


def read_frame(frame: ArrayOrPath) -> np.ndarray:
    """A frame as uint8 BGR ``H×W×3`` from an image file or an array (gray ``H×W`` is expanded)."""
    if isinstance(frame, (str, Path)):
        from icl_av.datasets.utils.media_io import decode_image
        return decode_image(str(frame))
    array = np.asarray(frame)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f'frame must be an H×W×3 BGR image array, got shape {array.shape}')
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array)


def read_audio(audio: ArrayOrPath, target_rate: int, sample_rate: Optional[int] = None) -> np.ndarray:
    """A mono float32 waveform at ``target_rate`` from an audio/video file or an array.

    Arrays may be ``(N,)`` or 2-D with channels on the shorter axis; they need ``sample_rate``.
    """
    from icl_av.datasets.utils.media_io import load_audio, resample
    if isinstance(audio, (str, Path)):
        wave, _ = load_audio(str(audio), target_rate)
        return wave
    if sample_rate is None:
        raise ValueError('audio given as an array needs sample_rate (Hz)')
    wave = np.asarray(audio, dtype=np.float32)
    if wave.ndim == 2:
        wave = wave.mean(axis=0 if wave.shape[0] <= wave.shape[1] else 1)
    if wave.ndim != 1 or wave.size == 0:
        raise ValueError(f'audio must be a non-empty (N,) waveform or (C, N) array, got shape {np.shape(audio)}')
    if not np.all(np.isfinite(wave)):
        raise ValueError('audio array contains NaN/Inf samples')
    return resample(wave, int(sample_rate), int(target_rate))


def read_video(video: str, times: Optional[Sequence[float]], target_rate: int
               ) -> Tuple[List[np.ndarray], List[float], np.ndarray, float]:
    """Decode the frames at ``times`` (seconds; ``None`` = the centre) and the audio track of a video.

    Returns:
        tuple: ``(frames (BGR), frame times, waveform at target_rate, duration in s)``.

    Raises:
        AVLoadError: Unreadable video, or a video without an audio track.
    """
    from icl_av.datasets.utils.media_io import (frame_index_at, load_video_audio, open_video,
                                                     read_video_frame, video_fps)
    path = str(video)
    reader = open_video(path)
    fps = video_fps(reader, path)
    num_frames = len(reader)
    duration = num_frames / fps
    wave, _ = load_video_audio(path, target_rate)
    if times is None:
        times = [duration / 2.0]
    frames, stamps = [], []
    for t in times:
        if not 0 <= float(t) <= duration:
            raise ValueError(f'time {t} s is outside the video {path} (duration {duration:.2f} s)')
        frames.append(read_video_frame(reader, path, frame_index_at(t, fps, num_frames)))
        stamps.append(float(t))
    del reader
    return frames, stamps, wave, duration
