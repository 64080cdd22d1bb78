"""Decode media files into the pipeline's conventions, raising :class:`AVLoadError` on bad input.

* images -> uint8 BGR ``H×W×3`` (grayscale/alpha/16-bit/CMYK are all converted to 3 channels);
* audio  -> mono float32 waveform at a requested rate (soundfile for wav/flac/ogg/mp3/...,
  PyAV for containers such as mp4/mkv/webm/avi/m4a), resampled with torchaudio;
* video  -> one frame (BGR) by index (decord) plus the container's audio track.

One loudness on every path: every decoder hands over all channels and the channels are
*averaged* here, so the same stereo signal loads identically from a wav, a flac, an mp4
or a webm. (decord's own audio reader mixes stereo as (L+R)/sqrt(2), 3 dB louder than the
mean, and its multi-channel output holds garbage samples; so it is not used for audio.)

Every failure names the file and the reason. NaN/Inf audio samples raise by default
(``nonfinite='error'``); ``nonfinite='zero'`` replaces them with 0 and logs a warning.
Finite samples beyond ``±MAX_AUDIO_AMPLITUDE`` (float files written without scaling,
values like 1e19 or 3e38) raise too: their spectrograms would overflow to ``inf``.
Nothing here substitutes another sample.

Two readers decode less than the whole file when the pipeline needs less:

* :func:`decode_image` with ``min_size`` decodes a JPEG at 1/2, 1/4 or 1/8 of its size
  (libjpeg's DCT scaling) when the result still has ``min_size`` pixels on its shorter
  side; the pixels then differ slightly from a full decode followed by a resize.
* :class:`AudioSource` reads a wav/flac header only; :class:`AudioClip
  <icl_av.datasets.transforms.AudioClip>` then reads just the clip's frames. The samples
  are exactly those of the whole-file read cut to the same window.
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
AUDIO_BACKENDS = ('auto', 'soundfile', 'container')
# Full scale is ±1; a waveform 60 dB beyond it is a broken file, not a loud one. Below this bound
# every spectrogram the front ends compute stays far inside float32's range.
MAX_AUDIO_AMPLITUDE = 1e3
# Formats whose header gives the exact frame count and whose frames libsndfile seeks to exactly:
# only these are read by window (AudioSource); other formats are decoded whole.
WINDOW_READ_EXTENSIONS = frozenset({'.wav', '.flac'})
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


def jpeg_size(data: bytes) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from a JPEG's frame header (its SOFn marker), without decoding.

    Returns ``None`` for data that is not a JPEG or whose header cannot be read (the
    caller then decodes at full size). EXIF orientation is not applied here.
    """
    if data[:2] != b'\xff\xd8':
        return None
    offset, size = 2, len(data)
    while offset + 4 <= size:
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length field
            offset += 2
            continue
        length = int.from_bytes(data[offset + 2:offset + 4], 'big')
        # SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if offset + 9 > size:
                return None
            height = int.from_bytes(data[offset + 5:offset + 7], 'big')
            width = int.from_bytes(data[offset + 7:offset + 9], 'big')
            return (width, height) if width and height else None
        if marker == 0xDA or length < 2:  # start of scan: no frame header before it
            return None
        offset += 2 + length
    return None


def reduce_factor_for(width: int, height: int, min_size: int) -> int:
    """The largest JPEG scale-down (8, 4, 2 or 1) that keeps the shorter side at ``min_size`` or more.

    libjpeg's reduced output is ``ceil(side / factor)`` per side, as computed here.
    """
    short = min(width, height)
    for factor in (8, 4, 2):
        if -(-short // factor) >= min_size:
            return factor
    return 1


def decode_image(path: str, reduce_factor: int = 1, min_size: Optional[int] = None) -> np.ndarray:
    """Decode an image file to uint8 BGR ``H×W×3``.

    Args:
        path (str): Image file (JPEG, PNG, BMP, WebP, ... anything cv2 reads).
        reduce_factor (int): 1 (full size), 2, 4 or 8 to decode directly at a reduced size.
        min_size (int, optional): Decode a JPEG at the smallest of 1/8, 1/4, 1/2 or full
            size whose shorter side is still ``min_size`` pixels or more (the factor is
            chosen per file from its header; other formats decode at full size). Exclusive
            with ``reduce_factor``.

    Returns:
        np.ndarray: uint8 BGR image.

    Raises:
        AVLoadError: missing, empty, truncated or undecodable file.
    """
    return decode_image_scaled(path, reduce_factor, min_size)[0]


def decode_image_scaled(path: str, reduce_factor: int = 1,
                        min_size: Optional[int] = None) -> Tuple[np.ndarray, int, Tuple[int, int]]:
    """:func:`decode_image`, also returning the reduction factor and the full-size ``(width, height)``.

    The full size is the header's for a reduced JPEG (turned as the decoded image is, when
    EXIF rotated it by 90°), else the decoded image's own, so annotations in full-frame
    pixels can be scaled exactly.
    """
    if reduce_factor not in _REDUCED_COLOR_FLAGS:
        raise ValueError(f'reduce_factor must be one of {sorted(_REDUCED_COLOR_FLAGS)}, got {reduce_factor}')
    if min_size is not None and (min_size < 1 or reduce_factor != 1):
        raise ValueError(f'min_size must be >= 1 and excludes reduce_factor, got min_size={min_size}, '
                         f'reduce_factor={reduce_factor}')
    data = read_bytes(path)
    _check_image_complete(path, data)
    header = jpeg_size(data) if (min_size is not None or reduce_factor > 1) else None
    if min_size is not None:
        reduce_factor = reduce_factor_for(header[0], header[1], min_size) if header else 1
    # IMREAD_COLOR converts grayscale and CMYK to BGR, drops alpha and maps 16-bit to 8-bit.
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), _REDUCED_COLOR_FLAGS[reduce_factor])
    if img is None or img.size == 0:
        raise AVLoadError(path, 'not a decodable image')
    height, width = img.shape[:2]
    full = (width * reduce_factor, height * reduce_factor)
    if reduce_factor > 1 and header:
        turned = (width > height) != (header[0] > header[1]) and width != height
        full = (header[1], header[0]) if turned else header
    return np.ascontiguousarray(img), reduce_factor, full


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
            ``'soundfile'`` or ``'container'`` (PyAV).

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


def _check_file(path: str) -> None:
    """Raise :class:`AVLoadError` for a missing or empty file (the checks every reader starts with)."""
    if not os.path.exists(path):
        raise AVLoadError(path, 'file does not exist')
    if os.path.getsize(path) == 0:
        raise AVLoadError(path, 'file is empty (0 bytes)')


class AudioSource:
    """An audio file not decoded yet, to be read whole or by window at the pipeline's rate.

    :class:`~icl_av.datasets.transforms.LoadAudio` with ``lazy=True`` puts one in
    ``results['audio']`` instead of the waveform; :class:`~icl_av.datasets.transforms.AudioClip`
    picks the clip's window from :attr:`num_samples` and reads only that window
    (:meth:`read_window`). Reading by window needs the exact length before decoding and a
    sample-exact seek, so it is used for wav/flac files already at ``sample_rate``
    (:attr:`windowed`); any other file is read whole (:meth:`load`, i.e. :func:`load_audio`)
    and cut. Either way the clip holds the same samples as :func:`load_audio`
    followed by the cut: integer PCM scales sample by sample and the channel mean is taken
    per frame, so a window equals the same frames of the whole file.

    The header is read when the source is made, so a missing, empty, undecodable or
    sample-less file fails in the loading transform as it does without ``lazy``. The
    NaN/Inf policy and the amplitude bound (:func:`sanitize_waveform`) apply to the samples
    read: with a window, samples outside the clip are never decoded, hence never checked.

    Args:
        path (str): Audio file or media container.
        sample_rate (int): Output rate in Hz.
        nonfinite (str): NaN/Inf policy, see :func:`sanitize_waveform`.
        backend (str): As in :func:`load_audio`.
    """

    def __init__(self, path: str, sample_rate: int, nonfinite: str = 'error', backend: str = 'auto'):
        if backend not in AUDIO_BACKENDS:
            raise ValueError(f'backend must be one of {AUDIO_BACKENDS}, got {backend!r}')
        if nonfinite not in NONFINITE_POLICIES:
            raise ValueError(f'nonfinite must be one of {NONFINITE_POLICIES}, got {nonfinite!r}')
        self.path, self.sample_rate = str(path), int(sample_rate)
        self.nonfinite, self.backend = nonfinite, backend
        self.frames = self.orig_rate = self.channels = None
        extension = os.path.splitext(self.path)[1].lower()
        self.windowed = backend in ('auto', 'soundfile') and extension in WINDOW_READ_EXTENSIONS
        _check_file(self.path)
        if self.windowed:
            try:
                info = sf.info(self.path)
            except (RuntimeError, sf.LibsndfileError, TypeError, ValueError) as error:
                raise AVLoadError(self.path, f'not a decodable audio file ({error})') from error
            self.frames, self.orig_rate, self.channels = int(info.frames), int(info.samplerate), int(info.channels)
            if self.frames == 0:
                raise AVLoadError(self.path, 'audio has no samples')
            # Resampling a window is not resampling the whole file then cutting: read those whole.
            self.windowed = self.orig_rate == self.sample_rate

    @property
    def num_samples(self) -> int:
        """Length of the whole waveform at ``sample_rate`` (only known before decoding when :attr:`windowed`)."""
        if not self.windowed:
            raise ValueError(f'{self.path}: the length is only known after decoding (not a wav/flac file at '
                             f'{self.sample_rate} Hz); use load()')
        return self.frames

    def meta(self) -> Dict:
        """The ``audio_meta`` :func:`load_audio` gives for the whole file (windowed sources only)."""
        return dict(rate=self.sample_rate, orig_rate=self.orig_rate, orig_channels=self.channels,
                    duration=self.frames / float(self.sample_rate), offset=0.0, source=self.path)

    def load(self) -> Tuple[np.ndarray, Dict]:
        """The whole waveform and its meta, exactly as :func:`load_audio` returns them."""
        return load_audio(self.path, self.sample_rate, self.nonfinite, self.backend)

    def read_window(self, start: int, length: int) -> np.ndarray:
        """Mono float32 samples ``[start, start + length)`` (clipped to the file) of a windowed source.

        Raises:
            AVLoadError: the file cannot be read there, holds fewer frames than its header
                says, or the window's samples break the NaN/Inf policy or the amplitude bound.
        """
        total = self.num_samples
        if not 0 <= start < total:
            raise ValueError(f'{self.path}: window start {start} outside [0, {total})')
        count = min(int(length), total - start)
        try:
            with sf.SoundFile(self.path) as handle:
                handle.seek(start)
                data = handle.read(count, dtype='float32', always_2d=True)
        except (RuntimeError, sf.LibsndfileError, TypeError, ValueError) as error:
            raise AVLoadError(self.path, f'cannot read audio frames {start}..{start + count} ({error})') from error
        if data.shape[0] != count:
            raise AVLoadError(self.path, f'truncated audio: the header gives {total} frames, reading '
                                         f'{start}..{start + count} returned {data.shape[0]}')
        return mix_to_mono(sanitize_waveform(data, self.path, self.nonfinite))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The whole waveform (so numpy consumers other than ``AudioClip`` see what ``lazy=False`` gives)."""
        wave = self.load()[0]
        return wave if dtype is None else wave.astype(dtype)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.path!r}, sample_rate={self.sample_rate}, '
                f'windowed={self.windowed}, frames={self.frames})')


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


__all__ = ['read_bytes', 'decode_image', 'decode_image_scaled', 'jpeg_size', 'reduce_factor_for', 'AudioSource',
           'load_audio', 'load_video_audio', 'open_video', 'read_video_frame',
           'video_fps', 'resample', 'sanitize_waveform', 'mix_to_mono', 'diagnose_container',
           'MAX_AUDIO_AMPLITUDE']
