"""SynthAVDataset, the MMEngine adapter over icl_av.synthav: the results contract, laziness, splits, configs."""
import os

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from icl_av.datasets import SynthAVDataset
from icl_av.registry import DATASETS
from icl_av.synthav import CLASS_NAMES, generate_sample

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


# --------------------------------------------------------------------------- dataset
def test_dataset_results_follow_the_contract():
    dataset = SynthAVDataset(split='test', num_samples=5, seed=0, img_size=64, test_mode=True)
    assert len(dataset) == 5
    assert dataset.metainfo['classes'] == CLASS_NAMES
    results = dataset[2]
    assert results['img'].shape == (64, 64, 3) and results['img'].dtype == np.uint8
    assert results['img_shape'] == (64, 64) and results['ori_shape'] == (64, 64)
    assert results['audio'].shape == (16000,) and results['audio'].dtype == np.float32
    assert results['audio_sample_rate'] == 16000 and results['audio_is_feature'] is False
    assert results['audio_meta']['rate'] == 16000 and results['audio_meta']['duration'] == pytest.approx(1.0)
    assert results['gt_bboxes'].shape == (1, 4) and results['gt_bboxes'].dtype == np.float32
    assert len(results['gt_masks']) == 1 and results['gt_masks'][0]['size'] == [64, 64]
    assert results['is_sounding'] is True
    assert results['video_id'] == 'synthav_test_000002' and results['sample_idx'] == 2
    assert results['class_name'] == CLASS_NAMES[results['class_id']]
    sample = generate_sample(0, 'test', 2, img_size=64)
    assert np.array_equal(results['img'], sample.img)
    assert np.array_equal(results['gt_bboxes'][0], sample.gt_bbox)
    assert np.array_equal(mask_utils.decode(results['gt_masks'][0]).astype(bool), sample.gt_mask)


def test_dataset_is_lazy_serializable_and_built_by_registry():
    cfg = dict(type='SynthAVDataset', split='train', num_samples=6, seed=1, img_size=32, audio_seconds=0.25)
    lazy = DATASETS.build(dict(cfg, lazy_init=True))
    assert not lazy._fully_initialized
    plain = DATASETS.build(dict(cfg, serialize_data=False))
    serialized = DATASETS.build(cfg)
    assert len(lazy) == len(plain) == len(serialized) == 6
    for idx in (0, 5):
        a, b = plain[idx], serialized[idx]
        assert np.array_equal(a['img'], b['img']) and np.array_equal(a['audio'], b['audio'])
        assert a['audio'].shape == (4000,)
    subset = serialized.get_subset([4, 1])
    assert subset[0]['video_id'] == 'synthav_train_000004'


def test_dataset_runs_its_pipeline():
    seen = []

    def record(results):
        seen.append(results['video_id'])
        return {'packed': results['sample_idx']}

    dataset = SynthAVDataset(split='train', num_samples=3, img_size=32, pipeline=[record])
    assert dataset[1] == {'packed': 1}
    assert seen == ['synthav_train_000001']


def test_extended_split_has_both_labels_in_the_right_ratio():
    dataset = SynthAVDataset(split='test_extended', num_samples=40, seed=0, img_size=32,
                             audio_seconds=0.5, extended_ratio=0.5, test_mode=True)
    items = [dataset[i] for i in range(len(dataset))]
    sounding = [r for r in items if r['is_sounding']]
    non_sounding = [r for r in items if not r['is_sounding']]
    assert len(sounding) == 20 and len(non_sounding) == 20
    variants = [r['synthav_meta']['variant'] for r in non_sounding]
    assert variants.count('offscreen') == 10 and variants.count('silent') == 10
    assert any(r['is_sounding'] for r in items[:10]) and not all(r['is_sounding'] for r in items[:10])
    test_set = SynthAVDataset(split='test', num_samples=20, seed=0, img_size=32, audio_seconds=0.5)
    test_by_id = {test_set[i]['video_id']: test_set[i] for i in range(20)}
    for results in sounding:  # the sounding part is the plain test set
        assert np.array_equal(results['img'], test_by_id[results['video_id']]['img'])
    for results in non_sounding:
        assert results['video_id'].startswith('synthav_testx_')
        assert results['gt_bboxes'].shape == (0, 4) and results['gt_masks'] == []
        meta = results['synthav_meta']
        rms = float(np.sqrt(np.mean(results['audio'] ** 2)))
        if meta['variant'] == 'silent':
            assert results['class_id'] == -1 and rms < 0.01
        else:  # off-screen: a real sound of a class that is not in the picture
            assert rms > 0.03
            in_frame = {meta['main_class_id'], *meta['distractor_class_ids'].tolist()}
            assert results['class_id'] not in in_frame
    with pytest.raises(ValueError, match='extended_ratio'):
        SynthAVDataset(split='test_extended', num_samples=4, extended_ratio=1.5)
    with pytest.raises(ValueError, match='unknown split'):
        SynthAVDataset(split='validation', num_samples=4)


def test_base_config_defines_the_loaders():
    cfg = Config.fromfile(os.path.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'synthav.py'))
    train, val, test = cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader
    assert train.batch_size == 32 and train.num_workers == 2 and train.persistent_workers
    assert train.sampler == dict(type='DefaultSampler', shuffle=True)
    assert train.dataset.type == 'SynthAVDataset' and train.dataset.num_samples == 2000
    # Model selection must not look at the test split.
    assert val.dataset.split == 'val' and val.dataset.num_samples == 300 and val.dataset.test_mode
    assert test.dataset.split == 'test' and test.dataset.num_samples == 500 and test.dataset.test_mode
    assert [t['type'] for t in train.dataset.pipeline] == ['RandomFlip', 'PackAVInputs']
    assert [t['type'] for t in val.dataset.pipeline] == ['PackAVInputs']
    assert [t['type'] for t in test.dataset.pipeline] == ['PackAVInputs']
    assert cfg.val_evaluator.type == 'LocalizationMetric'
    assert cfg.test_evaluator.type == 'LocalizationMetric'


def test_base_config_dataset_runs_its_pipeline():
    cfg = Config.fromfile(os.path.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'synthav.py'))
    train = cfg.train_dataloader
    # the configured dataset builds and runs its pipeline (in the icl_av scope, as configs set it)
    with DefaultScope.overwrite_default_scope('icl_av'):
        dataset = DATASETS.build(dict(train.dataset, num_samples=2, img_size=32))
        packed = dataset[0]
    assert tuple(packed['inputs']['img'].shape) == (3, 32, 32)
    assert tuple(packed['inputs']['audio'].shape) == (1, 16000)
    assert packed['data_samples'].gt_bboxes.shape == (1, 4)
