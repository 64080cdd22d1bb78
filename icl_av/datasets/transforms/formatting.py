"""Packing: turn a pipeline ``results`` dict into model inputs and an AVDataSample.

This is the last transform of every pipeline. It is the single place where numpy
arrays become tensors, so everything before it can stay in numpy/cv2 land and the
model side only ever sees the layout pinned in ``docs/contracts.md``.
"""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from icl_av.registry import TRANSFORMS
from icl_av.structures import AVDataSample

DEFAULT_META_KEYS = ('sample_idx', 'video_id', 'audio_id', 'ori_shape', 'img_shape', 'flip', 'audio_meta',
                     'img_path', 'audio_path', 'video_path', 'frame_index', 'scale_factor', 'crop_window')


def image_to_tensor(img: np.ndarray) -> torch.Tensor:
    """Convert an ``H×W×3`` (or ``H×W``) uint8 image into a contiguous ``3×H×W`` uint8 tensor.

    Args:
        img (np.ndarray): The decoded image (BGR, as loaded by mmcv/cv2).

    Returns:
        torch.Tensor: ``3×H×W`` uint8 tensor, channel order unchanged (BGR).
    """
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3:
        raise ValueError(f'PackAVInputs expects an H×W×C image, got shape {img.shape}')
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def audio_to_tensor(audio: np.ndarray, is_feature: bool) -> torch.Tensor:
    """Convert a waveform ``(N,)`` or a feature ``(F, T)`` to a float tensor with a leading channel.

    Args:
        audio (np.ndarray | torch.Tensor): mono waveform or a 2-D feature.
        is_feature (bool): Whether ``audio`` is a feature (``F×T``) rather than a waveform.

    Returns:
        torch.Tensor: ``1×N`` (waveform) or ``1×F×T`` (feature) float32 tensor.
    """
    tensor = torch.as_tensor(np.ascontiguousarray(audio) if isinstance(audio, np.ndarray) else audio)
    tensor = tensor.float()
    expected_ndim = 2 if is_feature else 1
    if tensor.ndim == expected_ndim + 1 and tensor.shape[0] == 1:
        return tensor
    if tensor.ndim != expected_ndim:
        kind = 'feature (F×T)' if is_feature else 'waveform (N,)'
        raise ValueError(f'PackAVInputs expects the audio as a {kind}, got shape {tuple(tensor.shape)}')
    return tensor.unsqueeze(0)


@TRANSFORMS.register_module()
class PackAVInputs(BaseTransform):
    """Pack an audio-visual sample into ``{'inputs': {...}, 'data_samples': AVDataSample}``.

    Inputs: ``img`` as a ``3×H×W`` uint8 tensor (BGR) and ``audio`` as ``1×N`` (waveform)
    or ``1×F×T`` (feature, when ``results['audio_is_feature']``). Data fields:
    ``gt_bboxes`` (always present: an ``N×4`` float tensor, ``0×4`` when the sample has no
    boxes), ``gt_map`` (tensor), ``gt_masks`` (list of COCO RLE), ``is_sounding`` (bool)
    when present in ``results``. Metainfo: the ``meta_keys`` found in ``results``
    (``flip`` is False when absent).

    Required Keys:

        - img (optional; uint8 ``H×W×3`` BGR, or ``H×W``)
        - audio (optional; ``(N,)`` waveform or ``(F, T)`` feature)
        - audio_is_feature (optional; default False)
        - gt_bboxes, gt_map, gt_masks, is_sounding (optional)
        - the ``meta_keys`` (optional)

    Added Keys (the result is a new dict):

        - inputs (``img`` and ``audio`` tensors, those present)
        - data_samples (:class:`~icl_av.structures.AVDataSample`)

    Args:
        meta_keys (Sequence[str]): Keys copied into the data sample's metainfo when present.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        """Pack ``results`` (see class docstring)."""
        inputs = {}
        if 'img' in results:
            inputs['img'] = image_to_tensor(results['img'])
        if 'audio' in results:
            inputs['audio'] = audio_to_tensor(results['audio'], bool(results.get('audio_is_feature', False)))

        data_sample = AVDataSample()
        bboxes = results.get('gt_bboxes')
        if bboxes is None:
            bboxes = np.zeros((0, 4), dtype=np.float32)
        data_sample.gt_bboxes = torch.as_tensor(np.asarray(bboxes, dtype=np.float32).reshape(-1, 4))
        if results.get('gt_map') is not None:
            data_sample.gt_map = torch.as_tensor(np.ascontiguousarray(results['gt_map'], dtype=np.float32))
        if results.get('gt_masks') is not None:
            data_sample.gt_masks = list(results['gt_masks'])
        if results.get('is_sounding') is not None:
            data_sample.set_data({'is_sounding': bool(results['is_sounding'])})

        metainfo = {key: results[key] for key in self.meta_keys if key in results}
        metainfo.setdefault('flip', False)
        data_sample.set_metainfo(metainfo)
        return {'inputs': inputs, 'data_samples': data_sample}

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
