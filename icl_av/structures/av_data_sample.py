"""AVDataSample: the one record that travels with an audio-visual sample.

Metainfo (set once by the dataset/transforms): ``sample_idx``, ``video_id``,
``ori_shape``, ``img_shape``, ``flip``, ``audio_meta``.
Data fields (tensors that follow the geometry): ``gt_bboxes`` (N×4, pixels in the
current image geometry, x1y1x2y2), ``gt_map`` (H×W float consensus map, Flickr
style), ``gt_masks`` (list of COCO RLE dicts in the current geometry),
``is_sounding`` (bool, extended benchmarks) and, after ``predict``,
``pred_map`` (h×w similarity map at feature resolution), ``confidence``
(scalar) and ``audio_embedding`` (D,).
"""
import torch
from mmengine.structures import BaseDataElement


class AVDataSample(BaseDataElement):
    """A data element for audio-visual sound localization (see module docstring)."""

    def _typed(name: str, kind):  # noqa: N805 - property factory used at class creation
        def getter(self):
            return getattr(self, f'_{name}')

        def setter(self, value):
            if kind is not None and not isinstance(value, kind):
                raise TypeError(f'AVDataSample.{name} must be {kind}, got {type(value)}')
            self.set_field(value, f'_{name}', dtype=kind)

        def deleter(self):
            del self[f'_{name}']

        return property(getter, setter, deleter)

    gt_bboxes = _typed('gt_bboxes', torch.Tensor)
    gt_map = _typed('gt_map', torch.Tensor)
    gt_masks = _typed('gt_masks', list)
    pred_map = _typed('pred_map', torch.Tensor)
    confidence = _typed('confidence', torch.Tensor)
    audio_embedding = _typed('audio_embedding', torch.Tensor)
    del _typed
