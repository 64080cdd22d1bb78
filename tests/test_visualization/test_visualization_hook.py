"""AVVisualizationHook: which samples it draws, where it saves them, the frame it rebuilds."""
import types

import numpy as np
import pytest
import torch

from icl_av.engine.hooks import AVVisualizationHook
from icl_av.engine.hooks.visualization_hook import batch_image_rgb
from icl_av.registry import HOOKS
from icl_av.structures import AVDataSample
from icl_av.visualization import AVLocalVisualizer


def fake_runner(tmp_path, visualizer):
    return types.SimpleNamespace(visualizer=visualizer, work_dir=str(tmp_path), timestamp='20240101_000000',
                                 iter=7)


def make_batch(n, offset=0):
    imgs, samples = [], []
    for i in range(n):
        img = torch.zeros(3, 16, 16, dtype=torch.uint8)
        img[0] = 255  # BGR: a blue frame
        imgs.append(img)
        sample = AVDataSample(metainfo=dict(video_id=f'clip/{offset + i}', img_shape=(16, 16)))
        sample.pred_map = torch.rand(4, 4)
        sample.gt_bboxes = torch.tensor([[2., 2., 10., 10.]])
        samples.append(sample)
    return {'inputs': {'img': imgs, 'audio': [torch.zeros(1, 100)] * n}, 'data_samples': samples}, samples


@pytest.fixture(scope='module')
def visualizer():
    return AVLocalVisualizer.get_instance('test_hook_visualizer')


def test_batch_image_is_rgb():
    batch, _ = make_batch(1)
    rgb = batch_image_rgb(batch, 0)
    assert rgb.shape == (16, 16, 3) and tuple(rgb[0, 0]) == (0, 0, 255)
    stacked = {'inputs': {'img': torch.stack(batch['inputs']['img'])}}
    assert np.array_equal(batch_image_rgb(stacked, 0), rgb)


def test_test_iter_saves_every_interval_th_sample(tmp_path, visualizer):
    hook = HOOKS.build(dict(type='AVVisualizationHook', enable=True, interval=2, out_dir='vis'))
    runner = fake_runner(tmp_path, visualizer)
    hook.before_test_epoch(runner)
    for batch_idx in range(2):
        batch, outputs = make_batch(3, offset=3 * batch_idx)
        hook.after_test_iter(runner, batch_idx, batch, outputs)
    saved = sorted(p.name for p in (tmp_path / '20240101_000000' / 'vis').iterdir())
    assert saved == ['clip_0.png', 'clip_2.png', 'clip_4.png']


def test_saved_picture_is_bgr_on_disk_with_jet_colours(tmp_path):
    """The file holds jet's exact colours in BGR order: red (RGB 128, 0, 0) where the map peaks, blue where it is low.

    A swapped channel order anywhere between the frame, the colormap and the file turns the peak blue.
    """
    import cv2
    vis = AVLocalVisualizer.get_instance('test_hook_colour_order', alpha=1.0, min_display_size=0)
    hook = AVVisualizationHook(enable=True, out_dir=str(tmp_path / 'pics'), draw_gt=False)
    batch, outputs = make_batch(1)
    peak_top_right = torch.zeros(4, 4)
    peak_top_right[0, 3] = 1.0
    outputs[0].pred_map = peak_top_right
    hook.after_test_iter(fake_runner(tmp_path, vis), 0, batch, outputs)
    written = cv2.imread(str(tmp_path / 'pics' / 'clip_0.png'), cv2.IMREAD_COLOR)
    assert written.shape == (16, 16, 3)
    assert tuple(written[0, 15]) == (0, 0, 128)  # BGR of jet(1.0) = dark red
    assert tuple(written[15, 0]) == (128, 0, 0)  # BGR of jet(0.0) = dark blue


def test_disabled_hook_draws_nothing_and_test_out_dir_alias(tmp_path, visualizer):
    hook = AVVisualizationHook(enable=False, test_out_dir=str(tmp_path / 'abs'))
    assert hook.out_dir == str(tmp_path / 'abs')
    batch, outputs = make_batch(2)
    hook.after_test_iter(fake_runner(tmp_path, visualizer), 0, batch, outputs)
    assert not (tmp_path / 'abs').exists()
    hook.enable = True
    hook.test_out_dir = str(tmp_path / 'abs2')  # what tools/test.py --show-dir sets
    hook.after_val_iter(fake_runner(tmp_path, visualizer), 0, batch, outputs)
    assert sorted(p.name for p in (tmp_path / 'abs2' / 'iter_7').iterdir()) == ['clip_0.png', 'clip_1.png']


def test_hook_without_out_dir_uses_the_vis_backends(tmp_path):
    vis = AVLocalVisualizer.get_instance('test_hook_backend', vis_backends=[dict(type='LocalVisBackend')],
                                         save_dir=str(tmp_path / 'backend'))
    hook = AVVisualizationHook(enable=True)
    batch, outputs = make_batch(1)
    hook.after_val_iter(fake_runner(tmp_path, vis), 0, batch, outputs)
    written = list((tmp_path / 'backend').rglob('*.png'))
    assert len(written) == 1


def test_hook_needs_the_av_visualizer(tmp_path):
    from mmengine.visualization import Visualizer
    plain = Visualizer.get_instance('test_plain_visualizer')
    hook = AVVisualizationHook(enable=True)
    batch, outputs = make_batch(1)
    with pytest.raises(TypeError, match='AVLocalVisualizer'):
        hook.after_test_iter(fake_runner(tmp_path, plain), 0, batch, outputs)
    with pytest.raises(ValueError, match='interval'):
        AVVisualizationHook(interval=0)
