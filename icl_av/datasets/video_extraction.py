"""Convert a folder of raw videos into the frames + audio layout (resumable, one ID at a time).

For every ``videos/ID.ext`` this writes ``frames/ID.jpg`` (the centre frame) or, with
``fps``, ``frames/ID/000000.jpg ...`` (frames sampled at that rate), and ``audio/ID.wav``
(mono 16-bit PCM at ``sample_rate``, channels averaged as everywhere else). The WAV is never
clipped: audio that decodes beyond full scale (lossy codecs overshoot) is scaled down as a whole
to fit, and the result says by how much. Files are written under a temporary name and
renamed, so an interrupted run never leaves a half-written file that a resumed run
would mistake for a finished one. The command-line front end is
``tools/misc/extract_frames_audio.py``.
"""
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import soundfile as sf

from .errors import AVLoadError
from .utils.media_io import load_audio, open_video, read_video_frame, video_fps

VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm', '.avi', '.mov')
PCM16_FULL_SCALE = 32767 / 32768  # the largest value 16-bit PCM holds


@dataclass
class ExtractionResult:
    """Outcome of one video: ``status`` is ``'done'``, ``'skipped'`` (already there) or ``'failed'``.

    ``audio_gain`` is below 1 when the audio was scaled down to fit 16-bit PCM without clipping.
    """
    video_id: str
    status: str
    reason: str = ''
    audio_gain: float = 1.0


def fit_to_pcm16(wave: np.ndarray) -> Tuple[np.ndarray, float]:
    """Scale ``wave`` down as a whole when it exceeds 16-bit full scale, so writing never clips.

    Returns:
        tuple: ``(waveform, gain)``; ``gain`` is 1.0 when the waveform already fits.
    """
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    if peak <= PCM16_FULL_SCALE:
        return wave, 1.0
    gain = PCM16_FULL_SCALE / peak
    return (wave * gain).astype(np.float32), gain


def find_videos(videos_dir: str, ids: Optional[List[str]] = None) -> Dict[str, str]:
    """Map ID -> video path for the videos in ``videos_dir`` (restricted to ``ids`` when given)."""
    found = {}
    for name in sorted(os.listdir(videos_dir)):
        stem, ext = os.path.splitext(name)
        if ext.lower() in VIDEO_EXTENSIONS and stem not in found:
            found[stem] = os.path.join(videos_dir, name)
    if ids is not None:
        found = {video_id: found[video_id] for video_id in ids if video_id in found}
    return found


def output_paths(out_root: str, video_id: str, fps: Optional[float]) -> Dict[str, str]:
    """Where the frame(s) and audio of ``video_id`` go."""
    frames = os.path.join(out_root, 'frames', video_id if fps else video_id + '.jpg')
    return dict(frames=frames, audio=os.path.join(out_root, 'audio', video_id + '.wav'))


def is_finished(paths: Dict[str, str], fps: Optional[float]) -> bool:
    """True when both outputs exist and are non-empty (the resumability check)."""
    audio_ok = os.path.isfile(paths['audio']) and os.path.getsize(paths['audio']) > 0
    if fps:
        frames_ok = os.path.isfile(os.path.join(paths['frames'], '.done'))
    else:
        frames_ok = os.path.isfile(paths['frames']) and os.path.getsize(paths['frames']) > 0
    return audio_ok and frames_ok


def _write_jpeg(path: str, img: np.ndarray, quality: int) -> None:
    tmp = path + '.part.jpg'
    if not cv2.imwrite(tmp, img, [cv2.IMWRITE_JPEG_QUALITY, quality]):
        raise OSError(f'cannot write {path}')
    os.replace(tmp, path)


def extract_video(video_path: str, video_id: str, out_root: str, sample_rate: int = 16000,
                  fps: Optional[float] = None, jpeg_quality: int = 95, overwrite: bool = False) -> ExtractionResult:
    """Extract one video's frame(s) and audio.

    Args:
        video_path (str): The video file.
        video_id (str): Its ID (output file stem).
        out_root (str): Output dataset root (``frames/`` and ``audio/`` are created).
        sample_rate (int): Audio rate of the WAV in Hz.
        fps (float, optional): Sample frames at this rate into ``frames/ID/``; ``None``
            writes only the centre frame as ``frames/ID.jpg``.
        jpeg_quality (int): JPEG quality.
        overwrite (bool): Re-extract even when the outputs exist.

    Returns:
        ExtractionResult: done / skipped / failed (with the reason; never raises for bad media),
        with the gain applied to the audio to avoid clipping.
    """
    paths = output_paths(out_root, video_id, fps)
    if not overwrite and is_finished(paths, fps):
        return ExtractionResult(video_id, 'skipped')
    try:
        wave, _ = load_audio(video_path, sample_rate, backend='container')
        reader = open_video(video_path)
        if fps:
            os.makedirs(paths['frames'], exist_ok=True)
            step = max(video_fps(reader, video_path) / fps, 1.0)
            indices = np.arange(0, len(reader), step).astype(int)
            for count, index in enumerate(indices):
                _write_jpeg(os.path.join(paths['frames'], f'{count:06d}.jpg'),
                            read_video_frame(reader, video_path, index), jpeg_quality)
            open(os.path.join(paths['frames'], '.done'), 'w').close()
        else:
            os.makedirs(os.path.dirname(paths['frames']), exist_ok=True)
            _write_jpeg(paths['frames'], read_video_frame(reader, video_path, len(reader) // 2), jpeg_quality)
        os.makedirs(os.path.dirname(paths['audio']), exist_ok=True)
        tmp = paths['audio'] + '.part.wav'
        wave, gain = fit_to_pcm16(wave)
        sf.write(tmp, wave, sample_rate, subtype='PCM_16')
        os.replace(tmp, paths['audio'])
    except (AVLoadError, OSError) as error:
        return ExtractionResult(video_id, 'failed', str(error))
    return ExtractionResult(video_id, 'done', audio_gain=gain)
