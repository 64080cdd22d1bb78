"""AVLocalVisualizer: draw a sound-localization heatmap and the GT on a frame."""
import os.path as osp
from typing import Optional, Sequence

import mmcv
import mmengine
import cv2
import numpy as np
import torch
from mmengine.visualization import Visualizer

from icl_av.registry import VISUALIZERS
from .heatmap import draw_boxes, draw_label, draw_outline, heatmap_to_size, overlay_heatmap


def _field(sample, name: str):
    """Read ``name`` from an AVDataSample or its ``to_dict()`` form (``None`` if absent)."""
    if sample is None:
        return None
    if isinstance(sample, dict):
        return sample.get(name)
    return sample.get(name, None)


@VISUALIZERS.register_module()
class AVLocalVisualizer(Visualizer):
    """Overlay the predicted sound map (colormap, ``alpha``) and the GT on a frame.

    The predicted ``pred_map`` (feature resolution) is upsampled bilinearly to the
    image, min-max normalised and blended with a colormap; ground-truth boxes
    (``gt_bboxes``, pixels of the sample's ``img_shape``, rescaled to the drawn image)
    are drawn as rectangles and ``gt_map`` / ``gt_masks`` as region outlines; the
    confidence is written in a corner.

    Args:
        name (str): Instance name. vis_backends (list[dict], optional): MMEngine vis backends.
        save_dir (str, optional): Backends' save directory. image (np.ndarray, optional): Initial image.
        alpha (float): Heatmap opacity. colormap (str): ``'jet'`` (default), ``'turbo'``, ...
        gt_color (tuple): RGB colour of GT boxes. outline_color (tuple): RGB colour of GT region outlines.
        line_width (int): Box thickness in pixels.
        min_display_size (int): Frames whose short side is smaller are enlarged (nearest) to at
            least this size before drawing, so small model inputs make readable pictures; 0 = never.
    """

    def __init__(self, name: str = 'visualizer', image: Optional[np.ndarray] = None, vis_backends=None,
                 save_dir: Optional[str] = None, alpha: float = 0.5, colormap: str = 'jet',
                 gt_color: Sequence[int] = (0, 255, 0), outline_color: Sequence[int] = (255, 255, 255),
                 line_width: int = 2, min_display_size: int = 256, **kwargs):
        super().__init__(name=name, image=image, vis_backends=vis_backends, save_dir=save_dir, **kwargs)
        self.min_display_size = min_display_size
        self.alpha = alpha
        self.colormap = colormap
        self.gt_color = tuple(gt_color)
        self.outline_color = tuple(outline_color)
        self.line_width = line_width

    def enlarge_for_display(self, image: np.ndarray) -> np.ndarray:
        """Upscale (nearest) a frame whose short side is under ``min_display_size`` pixels.

        Small model inputs (e.g. SynthAV's 64 px) are unreadable as pictures; maps and boxes
        are drawn at the enlarged size since they are rescaled to the image anyway.
        """
        short = min(image.shape[:2])
        if not self.min_display_size or short >= self.min_display_size:
            return image
        factor = int(np.ceil(self.min_display_size / short))
        return cv2.resize(image, (image.shape[1] * factor, image.shape[0] * factor), interpolation=cv2.INTER_NEAREST)

    def draw_sample(self, image: np.ndarray, data_sample=None, draw_gt: bool = True,
                    draw_pred: bool = True) -> np.ndarray:
        """Return the drawn RGB image (no side effects): heatmap, GT, confidence."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'AVLocalVisualizer expects an H×W×3 RGB image, got shape {image.shape}')
        image = self.enlarge_for_display(image)
        drawn = np.ascontiguousarray(image, dtype=np.uint8)
        height, width = drawn.shape[:2]
        img_shape = _field(data_sample, 'img_shape') or (height, width)
        if draw_pred and _field(data_sample, 'pred_map') is not None:
            heat = heatmap_to_size(_field(data_sample, 'pred_map'), (height, width))
            drawn = overlay_heatmap(drawn, heat, self.alpha, self.colormap)
        if draw_gt and data_sample is not None:
            for region_key in ('gt_map',):
                region = _field(data_sample, region_key)
                if region is not None:
                    region = region.cpu().numpy() if isinstance(region, torch.Tensor) else np.asarray(region)
                    drawn = draw_outline(drawn, region > 0, self.outline_color)
            masks = _field(data_sample, 'gt_masks')
            if masks:
                from icl_av.structures.masks import decode_rle
                union = np.zeros(tuple(int(v) for v in masks[0]['size']), dtype=np.uint8)
                for rle in masks:
                    union = np.maximum(union, decode_rle(rle))
                drawn = draw_outline(drawn, union, self.outline_color)
            boxes = _field(data_sample, 'gt_bboxes')
            if boxes is not None and len(boxes) > 0:
                scale = (width / float(img_shape[1]), height / float(img_shape[0]))
                drawn = draw_boxes(drawn, boxes, self.gt_color, self.line_width, scale)
        confidence = _field(data_sample, 'confidence')
        if draw_pred and confidence is not None:
            value = float(confidence.reshape(-1)[0]) if isinstance(confidence, torch.Tensor) else float(confidence)
            drawn = draw_label(drawn, f'conf {value:.3f}')
        return drawn

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None, draw_gt: bool = True,
                       draw_pred: bool = True, show: bool = False, wait_time: float = 0,
                       out_file: Optional[str] = None, step: int = 0) -> np.ndarray:
        """Draw a sample, then show it, write it to ``out_file`` or hand it to the vis backends.

        Args:
            name (str): Image name (the backends' key; the window title).
            image (np.ndarray): ``H×W×3`` uint8 RGB frame (the model input's geometry or any
                size: maps and boxes are rescaled to it).
            data_sample (AVDataSample | dict, optional): With ``pred_map``/``confidence``
                and ``gt_bboxes``/``gt_map``/``gt_masks``/``img_shape``.
            draw_gt (bool): Draw the ground truth. draw_pred (bool): Draw the prediction.
            show (bool): Show in a window. wait_time (float): Seconds to wait when showing.
            out_file (str, optional): Write the drawn image here (instead of the backends).
            step (int): Global step for the backends.

        Returns:
            np.ndarray: The drawn ``H×W×3`` uint8 RGB image.
        """
        drawn = self.draw_sample(image, data_sample, draw_gt, draw_pred)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmengine.mkdir_or_exist(osp.dirname(osp.abspath(out_file)))
            mmcv.imwrite(drawn[:, :, ::-1], out_file)
        else:
            self.add_image(name, drawn, step)
        return drawn
