"""Decode media files into the pipeline's conventions, raising :class:`AVLoadError` on bad input.

* images -> uint8 BGR ``H×W×3`` (grayscale/alpha/16-bit/CMYK are all converted to 3 channels);
* audio  -> mono float32 waveform at a requested rate (soundfile for wav/flac/ogg/mp3/...,
  PyAV for containers such as mp4/mkv/webm/avi/m4a), resampled with torchaudio;
* video  -> one frame (BGR) by index (decord) plus the container's audio track.

One loudness on every path: every decoder hands over all channels and the channels are
*averaged* here, so the same stereo signal loads identically from a wav, a flac, an mp4
or a webm. (decord's own audio reader mixes stereo as (L+R)/sqrt(2), 3 dB louder than the
mean, and its multi-channel output holds garbage samples; it is no longer used for audio.)

Every failure names the file and the reason. NaN/Inf audio samples raise by default
(``nonfinite='error'``); ``nonfinite='zero'`` replaces them with 0 and logs a warning.
Finite samples beyond ``±MAX_AUDIO_AMPLITUDE`` (float files written without scaling,
values like 1e19 or 3e38) raise too: their spectrograms would overflow to ``inf``.
Nothing here substitutes another sample.
"""
import os
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as taF
from mmengine.logging import print_log

from icl_av.datasets.errors import AVLoadError

SOUNDFILE_EXTENSIONS = frozenset(
    {'.wav', '.flac', '.ogg', '.oga', '.mp3', '.aiff', '.aif', '.au', '.caf', '.w64', '.rf64'})
ISO_MEDIA_EXTENSIONS = frozenset({'.mp4', '.m4a', '.mov', '.3gp', '.m4v'})
NONFINITE_POLICIES = ('error', 'zero')
AUDIO_BACKENDS = ('auto', 'soundfile', 'container', 'decord')
# Full scale is ±1; a waveform 60 dB beyond it is a broken file, not a loud one. Below this bound
# every spectrogram the front ends compute stays far inside float32's range.
MAX_AUDIO_AMPLITUDE = 1e3
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
    """Apply the NaN/Inf policy to a waveform, then reject absurd amplitudes.

    Args:
        wave (np.ndarray): The waveform (any shape, e.g. ``(N,)`` or ``(N, C)``).
        path (str): Its source, for messages.
        nonfinite (str): ``'error'`` raises :class:`AVLoadError`; ``'zero'`` replaces the
            non-finite samples with 0 and logs a warning.

    Returns:
        np.ndarray: The (possibly cleaned) waveform.

    Raises:
        AVLoadError: NaN/Inf samples under ``nonfinite='error'``, or finite samples beyond
            ``±MAX_AUDIO_AMPLITUDE`` (whatever the policy: their features would be ``inf``).
    """
    if nonfinite not in NONFINITE_POLICIES:
        raise ValueError(f'nonfinite must be one of {NONFINITE_POLICIES}, got {nonfinite!r}')
    finite = np.isfinite(wave)
    if not finite.all():
        count = int((~finite).sum())
        if nonfinite == 'error':
            raise AVLoadError(path, f'{count} NaN/Inf audio samples (set nonfinite="zero" to replace them with 0)')
        print_log(f'{path}: replaced {count} NaN/Inf audio samples with 0', logger='current', level=30)
        wave = np.where(finite, wave, 0).astype(np.float32)
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    if peak > MAX_AUDIO_AMPLITUDE:
        raise AVLoadError(path, f'audio samples reach {peak:.3g}, far beyond full scale ±1 (limit '
                                f'{MAX_AUDIO_AMPLITUDE:g}; a float file written without scaling?): its features '
                                'would overflow')
    return wave


def mix_to_mono(data: np.ndarray) -> np.ndarray:
    """Average the channels of ``(N, C)`` float32 audio into a contiguous float32 ``(N,)`` waveform.

    Run after :func:`sanitize_waveform`, whose amplitude bound keeps the float32 sum far from overflow.
    """
    wave = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return np.ascontiguousarray(wave, dtype=np.float32)


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


def diagnose_container(path: str) -> Optional[str]:
    """Why an MP4/MOV (ISO media) file cannot be opened, read from its top-level boxes.

    FFmpeg prints the reason of a failed open ("moov atom not found") on stderr only; this
    finds it again so the error can name it. Returns ``None`` for other formats or when the
    box structure looks intact.
    """
    if os.path.splitext(path)[1].lower() not in ISO_MEDIA_EXTENSIONS:
        return None
    size = os.path.getsize(path)
    found, offset = [], 0
    try:
        with open(path, 'rb') as handle:
            while offset + 8 <= size:
                handle.seek(offset)
                header = handle.read(16)
                length, kind = int.from_bytes(header[:4], 'big'), header[4:8]
                if length == 1 and len(header) >= 16:
                    length = int.from_bytes(header[8:16], 'big')
                elif length == 0:
                    length = size - offset
                if length < 8 or not kind.isalnum():
                    return None if found else 'not an MP4/MOV file (no valid box structure)'
                found.append(kind.decode('ascii', 'replace'))
                if offset + length > size:
                    missing = '; moov atom not found' if 'moov' not in found else ''
                    return (f'truncated: the {found[-1]!r} box runs {offset + length - size} bytes past the end of '
                            f'the file{missing} (an unfinished download?)')
                offset += length
    except OSError:
        return None
    if 'moov' not in found:
        return 'moov atom not found (an unfinished or truncated download?)'
    return None


def _container_failure(path: str, what: str, error: Exception) -> AVLoadError:
    """An :class:`AVLoadError` for a container that failed to open, with the best reason known."""
    detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    diagnosis = diagnose_container(path)
    if diagnosis:
        return AVLoadError(path, f'cannot {what}: {diagnosis} ({detail})')
    return AVLoadError(path, f'cannot {what} ({detail})')


def _read_with_pyav(path: str) -> Tuple[np.ndarray, int, int]:
    """Read a container's first audio track as float32 ``(N, C)`` at its own rate with PyAV."""
    if not os.path.exists(path):
        raise AVLoadError(path, 'file does not exist')
    if os.path.getsize(path) == 0:
        raise AVLoadError(path, 'file is empty (0 bytes)')
    try:
        import av
    except ImportError:
        raise AVLoadError(path, 'reading audio from a container needs PyAV (pip install av)') from None
    try:
        container = av.open(path)
    except Exception as error:  # av.error.FFmpegError and OSError subclasses
        raise _container_failure(path, 'open the container', error) from None
    with container:
        if not container.streams.audio:
            # FFmpeg opens some truncated MP4s as if they had no streams: name the real reason then.
            raise AVLoadError(path, diagnose_container(path) or 'the container has no audio track')
        stream = container.streams.audio[0]
        # Planar float keeps every channel apart; integer formats are scaled to [-1, 1].
        converter = av.AudioResampler(format='fltp')
        blocks, rate = [], None
        try:
            for frame in container.decode(stream):
                rate = rate or frame.sample_rate
                blocks.extend(converted.to_ndarray() for converted in converter.resample(frame))
            blocks.extend(converted.to_ndarray() for converted in converter.resample(None))
        except Exception as error:  # av.error.FFmpegError: corrupt packets
            raise AVLoadError(path, f'cannot decode audio ({str(error).splitlines()[0][:200]})') from None
    if not blocks or rate is None:
        raise AVLoadError(path, 'audio has no samples')
    data = np.concatenate(blocks, axis=1).T
    return np.ascontiguousarray(data, dtype=np.float32), int(rate), int(data.shape[1])


def load_audio(path: str, sample_rate: int, nonfinite: str = 'error',
               backend: str = 'auto') -> Tuple[np.ndarray, Dict]:
    """Load an audio file (or a container's audio track) as mono float32 at ``sample_rate``.

    Channels are averaged (stereo, 5.1, ... -> mono) on every path; integer PCM of any
    width and float files are scaled to [-1, 1] by the decoder; the result is resampled
    with torchaudio.

    Args:
        path (str): Audio file or media container.
        sample_rate (int): Output rate in Hz.
        nonfinite (str): NaN/Inf policy, see :func:`sanitize_waveform`.
        backend (str): ``'auto'`` (soundfile for audio formats, PyAV otherwise),
            ``'soundfile'`` or ``'container'`` (PyAV). ``'decord'`` is the old name of
            ``'container'``, kept so configs keep working.

    Returns:
        tuple: ``(waveform (N,), meta)`` with meta keys ``rate``, ``orig_rate``,
        ``orig_channels``, ``duration``, ``offset``, ``source``.

    Raises:
        AVLoadError: missing, empty, truncated, undecodable or audio-less file, zero
            samples, NaN/Inf samples under ``nonfinite='error'``, or samples beyond
            ``±MAX_AUDIO_AMPLITUDE``.
    """
    if backend not in AUDIO_BACKENDS:
        raise ValueError(f'backend must be one of {AUDIO_BACKENDS}, got {backend!r}')
    use_soundfile = backend == 'soundfile' or (
        backend == 'auto' and os.path.splitext(path)[1].lower() in SOUNDFILE_EXTENSIONS)
    data, orig_rate, channels = _read_with_soundfile(path) if use_soundfile else _read_with_pyav(path)
    data = sanitize_waveform(data, path, nonfinite)
    wave = resample(mix_to_mono(data), orig_rate, sample_rate)
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
        raise _container_failure(path, 'open video', error) from None
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
    return load_audio(path, sample_rate, nonfinite=nonfinite, backend='container')


__all__ = ['read_bytes', 'decode_image', 'load_audio', 'load_video_audio', 'open_video', 'read_video_frame',
           'video_fps', 'resample', 'sanitize_waveform', 'mix_to_mono', 'diagnose_container',
           'MAX_AUDIO_AMPLITUDE']
