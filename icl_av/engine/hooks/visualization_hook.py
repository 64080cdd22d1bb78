"""AVVisualizationHook: draw heatmaps of val/test samples while the Runner evaluates.

Follows the mmpretrain/mmdet pattern: off by default (``enable=False``);
``tools/test.py --show-dir DIR`` turns it on and sets ``out_dir``. Every ``interval``-th
sample of an evaluation epoch is drawn by the Runner's visualizer (an
:class:`~icl_av.visualization.AVLocalVisualizer`) and either saved to ``out_dir`` or,
without ``out_dir``, handed to the configured vis backends.

The frame is rebuilt from the batch itself (``data_batch['inputs']['img'][i]``, the
uint8 BGR tensor before the data preprocessor), so it works for in-memory data (SynthAV)
that has no image path, and it is exactly the geometry of the predicted map and the GT.
"""
import os.path as osp
from typing import Optional, Sequence

import mmengine
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.visualization import Visualizer

from icl_av.registry import HOOKS


def batch_image_rgb(data_batch: dict, index: int) -> np.ndarray:
    """The ``index``-th frame of a (pre-preprocessor) batch as an ``H×W×3`` uint8 RGB array.

    Args:
        data_batch (dict): ``{'inputs': {'img': list of 3×H×W uint8 BGR tensors, or B×3×H×W}}``.
        index (int): Sample index in the batch.

    Returns:
        np.ndarray: The frame in RGB.
    """
    inputs = data_batch.get('inputs') if isinstance(data_batch, dict) else None
    if not isinstance(inputs, dict) or 'img' not in inputs:
        raise KeyError("AVVisualizationHook needs data_batch['inputs']['img'] (the packed frames)")
    img = inputs['img'][index]
    img = img.detach().cpu() if isinstance(img, torch.Tensor) else torch.as_tensor(np.asarray(img))
    if img.dtype != torch.uint8:
        img = img.float().clamp(0, 255).round().to(torch.uint8)
    return np.ascontiguousarray(img.permute(1, 2, 0).numpy()[:, :, ::-1])


@HOOKS.register_module()
class AVVisualizationHook(Hook):
    """Draw every ``interval``-th val/test sample's heatmap and GT.

    Args:
        enable (bool): Draw at all. Default False (``tools/test.py --show-dir`` enables it).
        interval (int): Draw samples whose running index in the epoch is a multiple of this.
        show (bool): Also show each picture in a window.
        wait_time (float): Seconds each shown picture stays.
        out_dir (str, optional): Save pictures here (relative paths go under
            ``work_dir/<timestamp>/``); without it pictures go to the vis backends.
        test_out_dir (str, optional): Alias of ``out_dir`` (mmdet's name).
        draw_gt (bool): Draw GT boxes/regions. draw_pred (bool): Draw the heatmap.
    """
    priority = 'NORMAL'

    def __init__(self, enable: bool = False, interval: int = 1, show: bool = False, wait_time: float = 0.,
                 out_dir: Optional[str] = None, test_out_dir: Optional[str] = None, draw_gt: bool = True,
                 draw_pred: bool = True):
        if interval < 1:
            raise ValueError(f'AVVisualizationHook interval must be >= 1, got {interval}')
        if out_dir is not None and test_out_dir is not None and out_dir != test_out_dir:
            raise ValueError('AVVisualizationHook: give out_dir or test_out_dir, not both')
        self.enable = enable
        self.interval = interval
        self.show = show
        self.wait_time = wait_time
        self.out_dir = out_dir if out_dir is not None else test_out_dir
        self.draw_gt = draw_gt
        self.draw_pred = draw_pred
        self._seen = 0

    @property
    def test_out_dir(self) -> Optional[str]:
        """mmdet-style alias of :attr:`out_dir` (``tools/test.py`` may set either)."""
        return self.out_dir

    @test_out_dir.setter
    def test_out_dir(self, value: Optional[str]) -> None:
        self.out_dir = value

    # ------------------------------------------------------------------ runner events
    def before_val_epoch(self, runner) -> None:
        self._seen = 0

    def before_test_epoch(self, runner) -> None:
        self._seen = 0

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict = None, outputs: Sequence = None) -> None:
        """Draw the selected samples of a validation batch (name ``val_<id>``, step = iteration)."""
        self._draw_batch(runner, data_batch, outputs, mode='val', step=runner.iter)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict = None, outputs: Sequence = None) -> None:
        """Draw the selected samples of a test batch (name ``test_<id>``, step = sample index)."""
        self._draw_batch(runner, data_batch, outputs, mode='test', step=None)

    # ------------------------------------------------------------------ helpers
    def _output_dir(self, runner) -> Optional[str]:
        if self.out_dir is None:
            return None
        directory = self.out_dir
        if not osp.isabs(directory):
            directory = osp.join(runner.work_dir, runner.timestamp, directory)
        mmengine.mkdir_or_exist(directory)
        return directory

    def _visualizer(self, runner):
        visualizer = getattr(runner, 'visualizer', None) or Visualizer.get_current_instance()
        if not hasattr(visualizer, 'draw_sample'):
            raise TypeError(f'AVVisualizationHook needs an AVLocalVisualizer, got {type(visualizer).__name__}; set '
                            "visualizer = dict(type='AVLocalVisualizer', vis_backends=[...]) in the config")
        return visualizer

    def _draw_batch(self, runner, data_batch, outputs, mode: str, step: Optional[int]) -> None:
        if not self.enable or not outputs:
            return
        visualizer = self._visualizer(runner)
        out_dir = self._output_dir(runner)
        for i, sample in enumerate(outputs):
            index = self._seen + i
            if index % self.interval:
                continue
            video_id = sample.get('video_id', None)
            tag = str(video_id) if video_id is not None else f'{index:06d}'
            safe_tag = tag.replace('/', '_').replace('\\', '_')
            out_file = None
            if out_dir is not None:
                sub = out_dir if mode == 'test' else osp.join(out_dir, f'iter_{runner.iter}')
                out_file = osp.join(sub, f'{safe_tag}.png')
            visualizer.add_datasample(f'{mode}_{safe_tag}', batch_image_rgb(data_batch, i), sample,
                                      draw_gt=self.draw_gt, draw_pred=self.draw_pred, show=self.show,
                                      wait_time=self.wait_time, out_file=out_file,
                                      step=index if step is None else step)
        self._seen += len(outputs)
