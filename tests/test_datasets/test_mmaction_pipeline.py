"""mmaction2's video loading feeding icl_av: MMActionFramesToImg and AVVideoDataset's mmaction keys.

The end-to-end tests run where mmaction2 imports (a test requirement; it refuses mmcv>=2.2.0
at import) and compare against icl_av's own loader on the same frame of the same mp4.
"""
import json

import numpy as np
import pytest
import torch
from mmengine.registry import DATASETS as ROOT_DATASETS
from mmengine.registry import DefaultScope

from icl_av.datasets.transforms import MMActionFramesToImg
from icl_av.registry import DATASETS
from icl_av.structures.masks import decode_rle, encode_rle

BOX = [0.1, 0.2, 0.5, 0.9]  # VGG-SS style, normalised


def _mmaction_or_skip():
    try:
        import mmaction  # noqa: F401
        from mmaction.registry import TRANSFORMS  # noqa: F401
    except Exception as error:  # mmaction2 asserts its mmcv range at import (AssertionError)
        pytest.skip(f'mmaction2 cannot be imported here ({type(error).__name__}: {error}); '
                    'install it with `pip install -c requirements/constraints.txt mmaction2`')


def _video_root(tmp_path, av_media):
    if not av_media.has_av_writer:
        pytest.skip('PyAV (av) is needed to write an mp4 with audio')
    av_media.write_av_mp4(tmp_path / 'videos' / 'a.mp4', seconds=1.0, fps=25, rate=16000, channels=1,
                          size='64x48')
    (tmp_path / 'test.txt').write_text('a\n')
    (tmp_path / 'boxes.json').write_text(json.dumps([dict(file='a', bbox=[BOX])]))
    mask = np.zeros((24, 32), np.uint8)
    mask[4:20, 2:12] = 1  # on the left, annotated at half the frame's size
    (tmp_path / 'masks.json').write_text(json.dumps({'a': encode_rle(mask)}))
    return tmp_path


def _dataset(root, pipeline, registry=DATASETS, type_name='AVVideoDataset'):
    return registry.build(dict(type=type_name, data_root=str(root), ann_file='test.txt', box_file='boxes.json',
                               mask_file='masks.json', test_mode=True, pipeline=pipeline))


MMACTION_LOADING = [dict(type='mmaction.DecordInit'),
                    dict(type='mmaction.SampleFrames', clip_len=1, frame_interval=1, num_clips=1, test_mode=True),
                    dict(type='mmaction.DecordDecode'),
                    dict(type='MMActionFramesToImg'),
                    dict(type='LoadAudio', sample_rate=8000)]
ICL_AV_LOADING = [dict(type='LoadVideoFrameAndAudio', sample_rate=8000)]
TAIL = [dict(type='AudioClip', duration=0.5), dict(type='PackAVInputs')]


# --------------------------------------------------------------------------- without mmaction2
def _decoded(frames=3, height=6, width=8, **extra):
    """Results as mmaction's SampleFrames + DecordDecode leave them (RGB frames, boxes scaled by W, H)."""
    imgs = [np.full((height, width, 3), (10 * i, 100, 200), np.uint8) for i in range(frames)]
    imgs[1][0, 0] = (1, 2, 3)
    annotated = np.array([[0.25, 0.5, 0.75, 1.0]], np.float32)
    results = dict(imgs=imgs, frame_inds=np.array([4, 5, 6], np.int32), start_index=0, avg_fps=10.0,
                   filename='/videos/a.mp4', video_path='/videos/a.mp4', img_shape=(height, width),
                   original_shape=(height, width), video_reader=None,
                   gt_bboxes=annotated * [width, height, width, height], gt_bboxes_as_annotated=annotated,
                   bbox_frame_size=(1.0, 1.0))
    results.update(extra)
    return results


def test_frames_to_img_picks_the_centre_frame_as_bgr_and_times_the_audio():
    results = MMActionFramesToImg()(_decoded())
    img = results['img']
    assert img.shape == (6, 8, 3) and img.dtype == np.uint8 and img.flags['C_CONTIGUOUS']
    assert tuple(img[0, 0]) == (3, 2, 1) and tuple(img[1, 1]) == (200, 100, 10)  # RGB -> BGR
    assert 'imgs' not in results and 'video_reader' not in results and 'gt_bboxes_as_annotated' not in results
    assert results['frame_index'] == 5 and results['frame_time'] == pytest.approx(0.55)
    assert results['audio_center'] == pytest.approx(0.55) and results['audio_path'] == '/videos/a.mp4'
    assert results['img_shape'] == (6, 8) and results['ori_shape'] == (6, 8)
    # The boxes restart from the annotation (DecordDecode had already scaled them once).
    np.testing.assert_allclose(results['gt_bboxes'], [[2, 3, 6, 6]])


def test_frames_to_img_choice_of_frame_and_other_clip_audio():
    results = MMActionFramesToImg(frame=0)(_decoded(start_index=1, audio_path='/videos/b.mp4'))
    assert tuple(results['img'][1, 1]) == (200, 100, 0) and results['frame_index'] == 3
    assert 'audio_center' not in results and results['audio_path'] == '/videos/b.mp4'  # another clip: its centre
    with pytest.raises(ValueError, match='out of range'):
        MMActionFramesToImg(frame=3)(_decoded())
    with pytest.raises(ValueError, match="'center' or an int"):
        MMActionFramesToImg(frame='middle')


def test_frames_to_img_refuses_what_it_cannot_place():
    with pytest.raises(ValueError, match='geometric transform already ran'):
        MMActionFramesToImg()(_decoded(flip=True, flip_direction='horizontal'))
    with pytest.raises(ValueError, match='annotated on frame 2 but frame 5 was decoded'):
        MMActionFramesToImg()(_decoded(frame_index=2))
    unknown = _decoded()
    del unknown['gt_bboxes_as_annotated']
    with pytest.raises(ValueError, match='whether the mmaction decoder rescaled them is unknown'):
        MMActionFramesToImg()(unknown)


def test_video_dataset_carries_the_keys_mmaction_reads(tmp_path, av_media):
    root = _video_root(tmp_path, av_media)
    info = _dataset(root, []).get_data_info(0)
    assert info['filename'] == info['video_path'] and info['filename'].endswith('a.mp4')
    assert info['start_index'] == 0 and info['modality'] == 'RGB'
    np.testing.assert_array_equal(info['gt_bboxes_as_annotated'], info['gt_bboxes'])
    assert info['gt_bboxes_as_annotated'] is not info['gt_bboxes']


# --------------------------------------------------------------------------- with mmaction2
def test_mmaction_decord_pipeline_feeds_icl_av_like_its_own_loader(tmp_path, av_media):
    _mmaction_or_skip()
    root = _video_root(tmp_path, av_media)
    theirs = _dataset(root, MMACTION_LOADING + TAIL)[0]
    ours = _dataset(root, ICL_AV_LOADING + TAIL)[0]
    assert theirs['inputs']['img'].shape == (3, 48, 64)
    assert torch.equal(theirs['inputs']['img'], ours['inputs']['img'])  # the same (centre) frame, BGR
    assert torch.equal(theirs['inputs']['audio'], ours['inputs']['audio'])  # cut around the same moment
    mine, ref = theirs['data_samples'], ours['data_samples']
    assert mine.metainfo['frame_index'] == ref.metainfo['frame_index'] == 12
    assert torch.allclose(mine.gt_bboxes, torch.tensor([[6.4, 9.6, 32.0, 43.2]]))
    assert torch.equal(mine.gt_bboxes, ref.gt_bboxes)
    assert mine.gt_masks == ref.gt_masks and decode_rle(mine.gt_masks[0]).shape == (48, 64)


def test_mmaction_loading_under_mmaction_scope_keeps_icl_av_geometry(tmp_path, av_media):
    # mmaction registers its own Resize (for `imgs`): unprefixed, icl_av's must be built.
    _mmaction_or_skip()
    from icl_av.datasets.transforms import Resize
    root = _video_root(tmp_path, av_media)
    pipeline = MMACTION_LOADING + [dict(type='Resize', scale=(32, 32)), dict(type='RandomFlip', prob=1.0)] + TAIL
    with DefaultScope.overwrite_default_scope('mmaction'):
        dataset = _dataset(root, pipeline, registry=ROOT_DATASETS, type_name='icl_av.AVVideoDataset')
    assert type(dataset.pipeline.transforms[5]) is Resize
    flipped = dataset[0]
    plain = _dataset(root, MMACTION_LOADING + [dict(type='Resize', scale=(32, 32))] + TAIL)[0]
    assert torch.equal(flipped['inputs']['img'], plain['inputs']['img'].flip(-1))
    mask, ref = decode_rle(flipped['data_samples'].gt_masks[0]), decode_rle(plain['data_samples'].gt_masks[0])
    assert ref[:, :16].any() and not ref[:, 16:].any()  # annotated on the left ...
    np.testing.assert_array_equal(mask, ref[:, ::-1])  # ... and mirrored with the frame


def test_mmaction_geometry_before_the_bridge_is_refused(tmp_path, av_media):
    _mmaction_or_skip()
    root = _video_root(tmp_path, av_media)
    pipeline = MMACTION_LOADING[:3] + [dict(type='mmaction.Flip', flip_ratio=1.0)] + MMACTION_LOADING[3:] + TAIL
    with pytest.raises(ValueError, match='geometric transform already ran'):
        _dataset(root, pipeline)[0]
