"""Decode media files into the pipeline's conventions, raising :class:`AVLoadError` on bad input.

* images -> uint8 BGR ``H×W×3`` (grayscale/alpha/16-bit/CMYK are all converted to 3 channels);
* audio  -> mono float32 waveform at a requested rate (soundfile for wav/flac/ogg/mp3/...,
  decord for containers such as mp4/mkv/webm/avi/m4a), resampled with torchaudio;
* video  -> one frame (BGR) by index plus the container's audio track.

Every failure names the file and the reason. NaN/Inf audio samples raise by default
(``nonfinite='error'``); ``nonfinite='zero'`` replaces them with 0 and logs a warning.
Nothing here substitutes another sample.
"""
import os
from typing import Dict, Tuple

import cv2
import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as taF
from mmengine.logging import print_log

from icl_av.datasets.errors import AVLoadError

SOUNDFILE_EXTENSIONS = frozenset(
    {'.wav', '.flac', '.ogg', '.oga', '.mp3', '.aiff', '.aif', '.au', '.caf', '.w64', '.rf64'})
NONFINITE_POLICIES = ('error', 'zero')
_JPEG_EOI = b'\xff\xd9'
_PNG_IEND = b'IEND'

# cv2's reduced-size decoding flags: decode directly at 1/2, 1/4 or 1/8 size (much faster for big JPEGs).
_REDUCED_COLOR_FLAGS = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                        8: cv2.IMREAD_REDUCED_COLOR_8}


def read_bytes(path: str) -> bytes:
    """Read a whole file, raising :class:`AVLoadError` if it is missing, unreadable or empty."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except FileNotFoundError:
        raise AVLoadError(path, 'file does not exist') from None
    except OSError as error:
        raise AVLoadError(path, f'cannot read file ({error})') from error
    if not data:
        raise AVLoadError(path, 'file is empty (0 bytes)')
    return data


def _check_image_complete(path: str, data: bytes) -> None:
    """Reject truncated JPEG/PNG files, which cv2 would otherwise decode with a grey tail."""
    if data[:2] == b'\xff\xd8':
        if _JPEG_EOI not in data[-4096:].rstrip(b'\x00\r\n '):
            raise AVLoadError(path, 'truncated JPEG (no end-of-image marker)')
    elif data[:8] == b'\x89PNG\r\n\x1a\n':
        if _PNG_IEND not in data[-32:]:
            raise AVLoadError(path, 'truncated PNG (no IEND chunk)')


def decode_image(path: str, reduce_factor: int = 1) -> np.ndarray:
    """Decode an image file to uint8 BGR ``H×W×3``.

    Args:
        path (str): Image file (JPEG, PNG, BMP, WebP, ... anything cv2 reads).
        reduce_factor (int): 1 (full size), 2, 4 or 8 to decode directly at a reduced size.

    Returns:
        np.ndarray: uint8 BGR image.

    Raises:
        AVLoadError: missing, empty, truncated or undecodable file.
    """
    if reduce_factor not in _REDUCED_COLOR_FLAGS:
        raise ValueError(f'reduce_factor must be one of {sorted(_REDUCED_COLOR_FLAGS)}, got {reduce_factor}')
    data = read_bytes(path)
    _check_image_complete(path, data)
    # IMREAD_COLOR converts grayscale and CMYK to BGR, drops alpha and maps 16-bit to 8-bit.
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), _REDUCED_COLOR_FLAGS[reduce_factor])
    if img is None or img.size == 0:
        raise AVLoadError(path, 'not a decodable image')
    return np.ascontiguousarray(img)


def sanitize_waveform(wave: np.ndarray, path: str, nonfinite: str = 'error') -> np.ndarray:
    """Apply the NaN/Inf policy to a waveform.

    Args:
        wave (np.ndarray): The waveform.
        path (str): Its source, for messages.
        nonfinite (str): ``'error'`` raises :class:`AVLoadError`; ``'zero'`` replaces the
            non-finite samples with 0 and logs a warning.

    Returns:
        np.ndarray: The (possibly cleaned) waveform.
    """
    if nonfinite not in NONFINITE_POLICIES:
        raise ValueError(f'nonfinite must be one of {NONFINITE_POLICIES}, got {nonfinite!r}')
    finite = np.isfinite(wave)
    if finite.all():
        return wave
    count = int((~finite).sum())
    if nonfinite == 'error':
        raise AVLoadError(path, f'{count} NaN/Inf audio samples (set nonfinite="zero" to replace them with 0)')
    print_log(f'{path}: replaced {count} NaN/Inf audio samples with 0', logger='current', level=30)
    return np.where(finite, wave, 0).astype(np.float32)


def resample(wave: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    """Resample a mono float32 waveform with torchaudio (band-limited sinc interpolation)."""
    if orig_rate == new_rate or wave.size == 0:
        return wave.astype(np.float32, copy=False)
    out = taF.resample(torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)), int(orig_rate),
                       int(new_rate))
    return out.numpy()


def _read_with_soundfile(path: str) -> Tuple[np.ndarray, int, int]:
    """Read any libsndfile format as float32 ``(N, C)``; integer PCM is scaled to [-1, 1]."""
    if not os.path.exists(path):
        raise AVLoadError(path, 'file does not exist')
    if os.path.getsize(path) == 0:
        raise AVLoadError(path, 'file is empty (0 bytes)')
    try:
        data, rate = sf.read(path, dtype='float32', always_2d=True)
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError) as error:
        raise AVLoadError(path, f'not a decodable audio file ({error})') from error
    return data, int(rate), int(data.shape[1])


def _read_with_decord(path: str, sample_rate: int) -> np.ndarray:
    """Read a container's audio track as mono float32 at ``sample_rate`` with decord."""
    if not os.path.exists(path):
        raise AVLoadError(path, 'file does not exist')
    if os.path.getsize(path) == 0:
        raise AVLoadError(path, 'file is empty (0 bytes)')
    import decord
    try:
        reader = decord.AudioReader(path, sample_rate=int(sample_rate), mono=True)
        wave = reader[:].asnumpy()
    except Exception as error:  # decord raises its own DECORDError / RuntimeError types
        message = str(error)
        if "Can't find audio stream" in message:
            raise AVLoadError(path, 'the container has no audio track') from None
        raise AVLoadError(path, f'cannot decode audio ({message.splitlines()[0][:200]})') from None
    return np.asarray(wave, dtype=np.float32).reshape(-1)


def load_audio(path: str, sample_rate: int, nonfinite: str = 'error',
               backend: str = 'auto') -> Tuple[np.ndarray, Dict]:
    """Load an audio file (or a container's audio track) as mono float32 at ``sample_rate``.

    Channels are averaged (stereo, 5.1, ... -> mono); integer PCM of any width and float
    files are scaled to [-1, 1] by the decoder.

    Args:
        path (str): Audio file or media container.
        sample_rate (int): Output rate in Hz.
        nonfinite (str): NaN/Inf policy, see :func:`sanitize_waveform`.
        backend (str): ``'auto'`` (soundfile for audio formats, decord otherwise),
            ``'soundfile'`` or ``'decord'``.

    Returns:
        tuple: ``(waveform (N,), meta)`` with meta keys ``rate``, ``orig_rate``,
        ``orig_channels`` (``None`` when decord mixed the channels), ``duration``, ``source``.

    Raises:
        AVLoadError: missing, empty, truncated, undecodable or audio-less file, zero
            samples, or NaN/Inf samples under ``nonfinite='error'``.
    """
    if backend not in ('auto', 'soundfile', 'decord'):
        raise ValueError(f"backend must be 'auto', 'soundfile' or 'decord', got {backend!r}")
    use_soundfile = backend == 'soundfile' or (
        backend == 'auto' and os.path.splitext(path)[1].lower() in SOUNDFILE_EXTENSIONS)
    if use_soundfile:
        data, orig_rate, channels = _read_with_soundfile(path)
        wave = data.mean(axis=1) if channels > 1 else data[:, 0]
        wave = sanitize_waveform(np.ascontiguousarray(wave, dtype=np.float32), path, nonfinite)
        wave = resample(wave, orig_rate, sample_rate)
    else:
        wave = sanitize_waveform(_read_with_decord(path, sample_rate), path, nonfinite)
        orig_rate, channels = None, None
    if wave.size == 0:
        raise AVLoadError(path, 'audio has no samples')
    meta = dict(rate=int(sample_rate), orig_rate=orig_rate, orig_channels=channels,
                duration=wave.size / float(sample_rate), offset=0.0, source=str(path))
    return wave, meta


def open_video(path: str, width: int = -1, height: int = -1):
    """Open a video with ``decord.VideoReader`` (optionally decoding at ``width×height``).

    Raises:
        AVLoadError: missing, empty, truncated or undecodable file, or one without frames.
    """
    if not os.path.exists(path):
        raise AVLoadError(path, 'file does not exist')
    if os.path.getsize(path) == 0:
        raise AVLoadError(path, 'file is empty (0 bytes)')
    import decord
    try:
        reader = decord.VideoReader(path, width=width, height=height, num_threads=1)
    except Exception as error:
        raise AVLoadError(path, f'cannot open video ({str(error).splitlines()[0][:200]})') from None
    if len(reader) == 0:
        raise AVLoadError(path, 'video has no frames')
    return reader


def read_video_frame(reader, path: str, index: int) -> np.ndarray:
    """Decode frame ``index`` of an open decord reader as uint8 BGR ``H×W×3``."""
    try:
        rgb = reader[int(index)].asnumpy()
    except Exception as error:
        raise AVLoadError(path, f'cannot decode frame {index} ({str(error).splitlines()[0][:200]})') from None
    # decord returns row-padded 4-channel frames for some widths (e.g. 48 px H.264); keep RGB.
    return np.ascontiguousarray(rgb[:, :, 2::-1])


def frame_index_at(time: float, fps: float, num_frames: int) -> int:
    """Index of the frame shown at ``time`` seconds, clamped to the last frame."""
    return min(int(float(time) * fps), num_frames - 1)


def video_fps(reader, path: str) -> float:
    """Average frame rate of an open decord reader (error when the container reports none)."""
    fps = float(reader.get_avg_fps())
    if not np.isfinite(fps) or fps <= 0:
        raise AVLoadError(path, f'video reports an invalid frame rate ({fps})')
    return fps


def load_video_audio(path: str, sample_rate: int, nonfinite: str = 'error') -> Tuple[np.ndarray, Dict]:
    """Load the audio track of a video container (see :func:`load_audio`)."""
    return load_audio(path, sample_rate, nonfinite=nonfinite, backend='decord')


__all__ = ['read_bytes', 'decode_image', 'load_audio', 'load_video_audio', 'open_video', 'read_video_frame',
           'video_fps', 'resample', 'sanitize_waveform']
