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

from icl_av.registry import MODELS
from icl_av.utils.checkpoint_safety import register_checkpoint_safe_globals
from icl_av.utils.cli import check_checkpoint_path, check_config_path
from icl_av.utils.errors import UserInputError
from .heatmap_tracing import index_map, paste_heatmap
from .inference_inputs import ArrayOrPath, read_audio, read_frame, read_video
from .inference_pipeline import build_inference_pipeline


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
                        audio_is_feature=False, video_id=name, gt_map=index_map(height, width),
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
            results.append(dict(heatmap=paste_heatmap(pred_map, trace, size), confidence=confidence, time=t))
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
