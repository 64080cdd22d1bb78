"""High-level inference: build a localizer from a config + checkpoint, localise frames/videos.

``init_localizer`` gives an eval-mode model that remembers its config (``model.cfg``);
``inference_localizer`` runs that config's *test pipeline* on a frame and an audio
waveform (given as files, arrays, or one video) so inference sees exactly the
preprocessing used in evaluation, and returns heatmaps in the input image's geometry.
"""
import copy
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from icl_av.registry import MODELS, TRANSFORMS
from icl_av.utils.checkpoint_safety import register_checkpoint_safe_globals
from icl_av.utils.cli import UserInputError, check_checkpoint_path, check_config_path
from icl_av.visualization.heatmap import heatmap_to_size

ArrayOrPath = Union[str, Path, np.ndarray]
DEFAULT_SAMPLE_RATE = 16000


# --------------------------------------------------------------------------- model
def init_localizer(config: Union[str, Path, Config], checkpoint: Optional[str] = None, device: str = 'cpu',
                   cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a localizer from a config, load a checkpoint and put it in eval mode.

    Args:
        config (str | Path | Config): Config file or object.
        checkpoint (str, optional): ``.pth`` saved by ``tools/train.py`` (or a URL). Without
            it the model keeps its initial weights.
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        cfg_options (dict, optional): Overrides merged into the config (``key.sub=value`` style keys).

    Returns:
        nn.Module: The model in eval mode on ``device``, with ``model.cfg`` set.

    Raises:
        UserInputError: Missing config, missing/empty/non-checkpoint file, unavailable device.
    """
    if isinstance(config, (str, Path)):
        config = Config.fromfile(check_config_path(str(config)))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a file path or an mmengine Config, got {type(config).__name__}')
    else:
        config = copy.deepcopy(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    if 'model' not in config:
        raise UserInputError(f'config {getattr(config, "filename", None) or "<Config>"} has no `model` section')
    if str(device).startswith('cuda') and not torch.cuda.is_available():
        raise UserInputError(f'device {device!r} requested but CUDA is not available; use --device cpu')
    init_default_scope(config.get('default_scope', 'icl_av'))
    if checkpoint is not None:
        # The checkpoint overwrites every weight: do not fetch pretrained backbone weights first
        # (that would need the network, or a file the user may not have).
        for tower in ('visual_backbone', 'audio_backbone'):
            if isinstance(config.model.get(tower), dict) and config.model[tower].get('pretrained'):
                config.model[tower]['pretrained'] = False
        config.model.pop('init_cfg', None)

    model = MODELS.build(config.model)
    if checkpoint is not None:
        check_checkpoint_path(str(checkpoint))
        register_checkpoint_safe_globals()
        try:
            load_checkpoint(model, str(checkpoint), map_location='cpu', strict=False, logger='current')
        except (RuntimeError, ValueError, EOFError, KeyError, OSError) as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise UserInputError(f'cannot load checkpoint {checkpoint!r}: {first_line[:300]}') from error
    model.cfg = config
    model.to(device)
    model.eval()
    return model


# --------------------------------------------------------------------------- pipeline
def _test_dataset_cfg(cfg: Config) -> dict:
    for loader in ('test_dataloader', 'val_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        while 'pipeline' not in dataset and isinstance(dataset.get('dataset'), dict):  # dataset wrappers
            dataset = dataset['dataset']
        if dataset.get('pipeline'):
            return dataset
    raise UserInputError('the model config has no test_dataloader.dataset.pipeline (nor a val one) to '
                         'preprocess inference inputs with')


def _type_name(transform_cfg: dict) -> str:
    return str(transform_cfg.get('type', '')).split('.')[-1]


GEOMETRY_TRANSFORMS = ('Resize', 'CenterCrop', 'RandomResizedCrop')


def build_inference_pipeline(cfg: Config) -> Tuple[Compose, int]:
    """The config's test pipeline without its loading transforms, and the audio rate it expects.

    In-memory datasets (SynthAV) deliver frames and clips already at the training size,
    so their test pipeline has no ``AudioClip`` / resize; for arbitrary inputs these are
    added from the dataset's ``audio_seconds`` / ``img_size`` (or the same top-level
    config variables): ``AudioClip(duration, offset='center')`` and a square ``Resize``.

    Returns:
        tuple: ``(Compose, sample_rate)``; ``sample_rate`` comes from the loading transforms'
        (or the dataset's ``audio_sample_rate``), default 16000.
    """
    dataset = _test_dataset_cfg(cfg)
    transforms = list(dataset['pipeline'])
    rate = dataset.get('audio_sample_rate') or cfg.get('audio_sample_rate') or DEFAULT_SAMPLE_RATE
    for transform in transforms:
        if _type_name(transform).startswith('Load') and transform.get('sample_rate'):
            rate = transform['sample_rate']
    kept = [copy.deepcopy(t) for t in transforms if not _type_name(t).startswith('Load')]
    names = {_type_name(t) for t in kept}
    added = []
    seconds = dataset.get('audio_seconds') or cfg.get('audio_seconds')
    if 'AudioClip' not in names and seconds:
        added.append(dict(type='AudioClip', duration=float(seconds), offset='center'))
    img_size = dataset.get('img_size') or cfg.get('img_size')
    if not names.intersection(GEOMETRY_TRANSFORMS) and img_size:
        size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        added.append(dict(type='Resize', scale=size))
    return Compose([TRANSFORMS.build(t) for t in added + kept]), int(rate)


# --------------------------------------------------------------------------- inputs
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


# --------------------------------------------------------------------------- geometry
def _index_map(height: int, width: int) -> np.ndarray:
    """A float32 map whose value is each pixel's linear index (exact up to 2**24 pixels)."""
    if height * width >= 2 ** 24:
        raise ValueError(f'frame of {height}×{width} is too large to trace through the pipeline')
    return np.arange(height * width, dtype=np.float32).reshape(height, width)


def _paste_heatmap(pred_map: torch.Tensor, traced: Optional[torch.Tensor], size: Tuple[int, int]) -> np.ndarray:
    """Bring a map of the model's input geometry back to the original frame of ``size``.

    ``traced`` is the index map after the pipeline's geometric transforms: its corner
    values tell which source window (and flips) the model saw. Pixels outside that
    window (cropped away) get 0.
    """
    height, width = size
    if traced is None or traced.numel() == 0:
        return heatmap_to_size(pred_map, size)
    traced = traced.cpu().double()
    rows, cols = traced.shape
    corners = [int(round(float(v))) for v in (traced[0, 0], traced[0, -1], traced[-1, 0])]
    (y0, x0), (_, x1), (y1, _) = [divmod(v, width) for v in corners]
    # The window's far edge is one source step beyond the last sampled pixel (the step is
    # the resize factor; nearest-neighbour sampling makes this exact to within one step).
    step_x = abs(x1 - x0) / (cols - 1) if cols > 1 else 1.0
    step_y = abs(y1 - y0) / (rows - 1) if rows > 1 else 1.0
    left, top = min(x0, x1), min(y0, y1)
    right = min(width, max(left + 1, int(round(max(x0, x1) + max(step_x, 1.0)))))
    bottom = min(height, max(top + 1, int(round(max(y0, y1) + max(step_y, 1.0)))))
    window = heatmap_to_size(pred_map, (bottom - top, right - left))
    if x0 > x1:
        window = window[:, ::-1]
    if y0 > y1:
        window = window[::-1, :]
    heatmap = np.zeros((height, width), dtype=np.float32)
    heatmap[top:bottom, left:right] = window
    return heatmap


# --------------------------------------------------------------------------- inference
def _as_list(time) -> Tuple[List[Optional[float]], bool]:
    if time is None:
        return [None], False
    if isinstance(time, (list, tuple, np.ndarray)):
        return [float(t) for t in time], True
    return [float(time)], False


@torch.no_grad()
def localize_arrays(model: nn.Module, frames: Sequence[np.ndarray], wave: np.ndarray, sample_rate: int,
                    times: Sequence[Optional[float]], pipeline: Optional[Compose] = None,
                    name: str = 'input', batch_size: int = 8) -> List[Dict]:
    """Localise ``frames[i]`` with the audio window centred at ``times[i]`` (``None`` = the audio's centre).

    Args:
        model (nn.Module): From :func:`init_localizer` (needs ``model.cfg``).
        frames (Sequence[np.ndarray]): uint8 BGR frames (one per time).
        wave (np.ndarray): Mono waveform at ``sample_rate`` (the pipeline's rate).
        sample_rate (int): Rate of ``wave``.
        times (Sequence[float | None]): Audio window centres in seconds.
        pipeline (Compose, optional): Pre-built :func:`build_inference_pipeline` result.
        name (str): ``video_id`` given to the samples.
        batch_size (int): Frames per forward pass.

    Returns:
        list[dict]: ``heatmap`` (``H×W`` float32 in [0, 1], frame geometry),
        ``confidence`` (float), ``time`` (float or None).
    """
    if pipeline is None:
        pipeline, _ = build_inference_pipeline(model.cfg)
    results = []
    for start in range(0, len(frames), batch_size):
        packed, shapes, traced = [], [], []
        for frame, t in zip(frames[start:start + batch_size], times[start:start + batch_size]):
            height, width = frame.shape[:2]
            item = dict(img=frame, img_shape=(height, width), ori_shape=(height, width),
                        audio=np.asarray(wave, dtype=np.float32), audio_sample_rate=int(sample_rate),
                        audio_is_feature=False, video_id=name, gt_map=_index_map(height, width),
                        audio_meta=dict(rate=int(sample_rate), offset=0.0, duration=len(wave) / sample_rate,
                                        source=name))
            if t is not None:
                item['audio_center'] = float(t)
            out = pipeline(item)
            sample = out['data_samples']
            traced.append(sample.gt_map if 'gt_map' in sample else None)
            if 'gt_map' in sample:
                del sample.gt_map
            packed.append(out)
            shapes.append((height, width))
        predictions = model.test_step(pseudo_collate(packed))
        for prediction, size, trace, t in zip(predictions, shapes, traced, times[start:start + batch_size]):
            pred_map = prediction.pred_map.float().cpu()
            confidence = prediction.get('confidence', None)
            confidence = float(confidence) if confidence is not None else float(pred_map.max())
            results.append(dict(heatmap=_paste_heatmap(pred_map, trace, size), confidence=confidence, time=t))
    return results


def inference_localizer(model: nn.Module, video: Optional[str] = None, frame: Optional[ArrayOrPath] = None,
                        audio: Optional[ArrayOrPath] = None, time=None, sample_rate: Optional[int] = None,
                        batch_size: int = 8) -> Union[Dict, List[Dict]]:
    """Localise the sound source in a frame (or video frames) with the model's test pipeline.

    Give either ``video`` (frames and audio decoded with decord; the frame at ``time``
    seconds, default the centre, and the audio window around it) or ``frame`` and
    ``audio`` (paths, or arrays: a uint8 BGR frame and a waveform with ``sample_rate``;
    the audio window is centred at ``time`` or on the waveform's middle).

    Args:
        model (nn.Module): From :func:`init_localizer`.
        video (str, optional): Video file with an audio track.
        frame (str | np.ndarray, optional): Image file or BGR array.
        audio (str | np.ndarray, optional): Audio/video file or waveform array.
        time (float | list[float], optional): Time(s) in seconds; a list returns a list.
        sample_rate (int, optional): Rate of an ``audio`` array.
        batch_size (int): Frames per forward pass.

    Returns:
        dict | list[dict]: Per frame ``{'heatmap': H×W float32 in [0, 1] in the input frame's
        size, 'confidence': float, 'time': float | None}``; a list when ``time`` is a list.

    Raises:
        ValueError: Inconsistent arguments. AVLoadError: Unreadable file, video without audio.
    """
    if not hasattr(model, 'cfg'):
        raise ValueError('model has no .cfg: build it with init_localizer(config, checkpoint)')
    times, many = _as_list(time)
    pipeline, rate = build_inference_pipeline(model.cfg)
    if video is not None:
        if frame is not None or audio is not None:
            raise ValueError('give either video or frame + audio, not both')
        frames, stamps, wave, _ = read_video(str(video), None if times == [None] else times, rate)
        name = osp.basename(str(video))
    else:
        if frame is None or audio is None:
            raise ValueError('give a video, or both a frame and an audio (file paths or arrays)')
        image = read_frame(frame)
        wave = read_audio(audio, rate, sample_rate)
        frames, stamps = [image] * len(times), times
        name = osp.basename(str(frame)) if isinstance(frame, (str, Path)) else 'array'
    outputs = localize_arrays(model, frames, wave, rate, stamps, pipeline, name, batch_size)
    return outputs if many else outputs[0]
