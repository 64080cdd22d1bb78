"""The refresh reads the built training list: same entries, same ``sample_idx`` order, the test pipeline.

``sample_idx`` (the pseudo-label bank's key) is a position in the training list. A second
build from disk would drop a file that vanished after training started and shift every
later position onto another clip; the refresh must read the training dataset's own list.
"""
import copy
import os
import os.path as osp

import pytest
from av_test_media import write_image, write_wav
from mmengine.registry import init_default_scope

from icl_av.datasets.sample_list import sample_ids, sample_list_digest
from icl_av.engine.pseudo_labels import (TrainingListView, build_refresh_dataloader, reads_training_list,
                                         refresh_dataloader_cfg)
from icl_av.registry import DATASETS

IDS = ('a', 'b', 'c', 'd', 'e')
TRAIN_PIPELINE = [dict(type='LoadAVFrame'), dict(type='LoadAudio', sample_rate=8000),
                  dict(type='RandomFlip', prob=1.0), dict(type='PackAVInputs')]
TEST_PIPELINE = [dict(type='LoadAVFrame'), dict(type='LoadAudio', sample_rate=8000), dict(type='PackAVInputs')]


def make_root(root):
    for index, video_id in enumerate(IDS):
        write_image(osp.join(root, 'frames', f'{video_id}.jpg'), 16, 16, seed=index)
        write_wav(osp.join(root, 'audio', f'{video_id}.wav'), seconds=0.2, rate=8000, freq=200 + 100 * index)
    with open(osp.join(root, 'train.txt'), 'w') as handle:
        handle.write('\n'.join(IDS) + '\n')
    return str(root)


def train_loader_cfg(root):
    return dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
                collate_fn=dict(type='pseudo_collate'),
                dataset=dict(type='AVFramesDataset', data_root=root, ann_file='train.txt', pipeline=TRAIN_PIPELINE))


@pytest.fixture
def training(tmp_path):
    """A frames training set built from its config, as the runner builds it."""
    init_default_scope('icl_av')
    cfg = train_loader_cfg(make_root(tmp_path))
    return cfg, DATASETS.build(copy.deepcopy(cfg['dataset']))


def test_a_file_that_vanished_after_the_training_build_keeps_its_place_in_the_refresh(training):
    cfg, dataset = training
    os.remove(osp.join(dataset.data_root, 'audio', 'b.wav'))
    # Built again from disk the list would lose 'b' and shift 'c', 'd', 'e' one place.
    assert sample_ids(DATASETS.build(copy.deepcopy(cfg['dataset']))) == ['a', 'c', 'd', 'e']

    loader = build_refresh_dataloader(cfg, dict(batch_size=2), TEST_PIPELINE, seed=0, train_dataset=dataset)
    refresh = loader.dataset
    assert isinstance(refresh, TrainingListView)
    assert sample_ids(refresh.dataset) == sample_ids(dataset) == list(IDS)
    assert sample_list_digest(refresh.dataset) == sample_list_digest(dataset)
    assert [refresh.get_data_info(i)['video_id'] for i in range(len(refresh))] == list(IDS)
    # Every readable sample comes back under its training sample_idx; the vanished one is dropped
    # from its batch (on_corrupt='skip', as in training) instead of moving the others.
    seen = {int(sample.metainfo['sample_idx']): sample.metainfo['video_id']
            for batch in loader for sample in batch['data_samples']}
    assert seen == {0: 'a', 2: 'c', 3: 'd', 4: 'e'}


def test_the_view_shares_the_list_reads_with_the_test_pipeline_and_leaves_training_alone(training):
    cfg, dataset = training
    loader_cfg = refresh_dataloader_cfg(cfg, None, TEST_PIPELINE, train_dataset=dataset)
    view = loader_cfg['dataset']
    assert view.dataset is not dataset and view.dataset.data_bytes is dataset.data_bytes  # shared, not rebuilt
    assert copy.deepcopy(view) is view  # Runner.build_dataloader deep-copies its config
    assert [type(t).__name__ for t in view.pipeline.transforms] == ['LoadAVFrame', 'LoadAudio', 'PackAVInputs']
    assert 'RandomFlip' in [type(t).__name__ for t in dataset.pipeline.transforms]
    assert not view[0]['data_samples'].metainfo.get('flip', False) and dataset[0]['data_samples'].metainfo['flip']
    assert (loader_cfg['batch_size'], loader_cfg['sampler']) == (2, dict(type='DefaultSampler', shuffle=False))


def test_a_pipeline_override_is_used_and_other_dataset_keys_are_refused(training):
    cfg, dataset = training
    own = [dict(type='LoadAVFrame'), dict(type='LoadAudio', sample_rate=4000), dict(type='PackAVInputs')]
    view = refresh_dataloader_cfg(cfg, dict(dataset=dict(pipeline=own)), TEST_PIPELINE,
                                  train_dataset=dataset)['dataset']
    assert view.pipeline.transforms[1].sample_rate == 4000
    with pytest.raises(ValueError, match=r"`dataloader.dataset` sets \['ann_file'\].*set only `pipeline`"):
        refresh_dataloader_cfg(cfg, dict(dataset=dict(ann_file='other.txt')), TEST_PIPELINE, train_dataset=dataset)


def test_a_complete_dataset_is_built_as_given_and_needs_no_training_list(training):
    cfg, dataset = training
    complete = dict(cfg['dataset'], pipeline=TEST_PIPELINE)
    assert not reads_training_list(dict(dataset=complete)) and reads_training_list(dict(dataset=dict(pipeline=[])))
    assert refresh_dataloader_cfg(cfg, dict(dataset=complete), train_dataset=dataset)['dataset'] == complete


def test_without_a_training_config_the_built_list_is_enough(training):
    _, dataset = training
    loader = build_refresh_dataloader(None, dict(batch_size=5), TEST_PIPELINE, seed=0, train_dataset=dataset)
    assert [sample.metainfo['video_id'] for batch in loader for sample in batch['data_samples']] == list(IDS)


def test_a_training_dataset_without_a_list_falls_back_to_its_config_with_a_warning(training):
    cfg, _ = training
    messages = []

    class Logger:
        warning = messages.append

    class Plain:  # a torch-style dataset: nothing to share a pipeline with
        def __len__(self):
            return 5

    loader_cfg = refresh_dataloader_cfg(cfg, None, TEST_PIPELINE, logger=Logger(), train_dataset=Plain())
    assert loader_cfg['dataset'] == dict(cfg['dataset'], pipeline=TEST_PIPELINE)
    assert len(messages) == 1 and 'not an MMEngine BaseDataset' in messages[0]
    with pytest.raises(ValueError, match='not an MMEngine BaseDataset'):
        refresh_dataloader_cfg(None, None, TEST_PIPELINE, logger=Logger(), train_dataset=Plain())


def test_the_view_needs_an_mmengine_dataset():
    with pytest.raises(TypeError, match='expected a built MMEngine BaseDataset, got list'):
        TrainingListView([1, 2])
