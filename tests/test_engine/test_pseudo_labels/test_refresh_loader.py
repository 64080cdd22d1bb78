"""build_refresh_dataloader / refresh_dataloader_cfg: what the refresh loader inherits and what it overrides."""
import pytest
from mmengine.dataset import BaseDataset
from mmengine.registry import init_default_scope

from icl_av.engine.pseudo_labels import build_refresh_dataloader, evaluation_pipeline_of, refresh_dataloader_cfg
from icl_av.registry import DATASETS

TRAIN_PIPELINE = [dict(type='RandomFlip', prob=1.0), dict(type='PackAVInputs')]
TEST_PIPELINE = [dict(type='PackAVInputs')]


@DATASETS.register_module(force=True)
class RefreshLoaderToyDataset(BaseDataset):
    """``num_samples`` empty samples: only the loader's construction is under test."""

    def __init__(self, num_samples: int = 6, **kwargs):
        self.num_samples = num_samples
        super().__init__(**kwargs)

    def load_data_list(self):
        return [dict(index=index) for index in range(self.num_samples)]


def train_loader(**overrides):
    cfg = dict(batch_size=4, num_workers=2, persistent_workers=True, pin_memory=True,
               sampler=dict(type='DefaultSampler', shuffle=True), collate_fn=dict(type='pseudo_collate'),
               dataset=dict(type='RefreshLoaderToyDataset', num_samples=6, pipeline=TRAIN_PIPELINE))
    cfg.update(overrides)
    return cfg


def test_defaults_are_the_training_set_and_settings_with_the_test_pipeline_in_order():
    cfg = refresh_dataloader_cfg(train_loader(), test_pipeline=TEST_PIPELINE)
    assert cfg['dataset'] == dict(type='RefreshLoaderToyDataset', num_samples=6, pipeline=TEST_PIPELINE)
    assert cfg['sampler'] == dict(type='DefaultSampler', shuffle=False)  # each rank its shard, in order
    assert (cfg['batch_size'], cfg['num_workers'], cfg['persistent_workers'], cfg['pin_memory']) == (4, 2, True, True)
    assert cfg['collate_fn'] == dict(type='pseudo_collate')


def test_overrides_win_and_no_workers_means_no_persistent_workers():
    cfg = refresh_dataloader_cfg(train_loader(), dict(batch_size=64, num_workers=0, dataset=dict(num_samples=3)),
                                 test_pipeline=TEST_PIPELINE)
    assert cfg['batch_size'] == 64 and cfg['num_workers'] == 0 and cfg['persistent_workers'] is False
    assert cfg['dataset']['num_samples'] == 3 and cfg['dataset']['pipeline'] == TEST_PIPELINE


def test_a_pipeline_in_the_overrides_beats_the_test_pipeline_and_a_complete_dataset_is_used_as_given():
    own = [dict(type='PackAVInputs', meta_keys=('sample_idx', ))]
    assert refresh_dataloader_cfg(train_loader(), dict(dataset=dict(pipeline=own)),
                                  test_pipeline=TEST_PIPELINE)['dataset']['pipeline'] == own
    complete = dict(type='RefreshLoaderToyDataset', num_samples=2, pipeline=own)
    assert refresh_dataloader_cfg(None, dict(dataset=complete))['dataset'] == complete


def test_without_any_test_pipeline_the_training_one_is_kept_with_a_warning():
    messages = []

    class Logger:
        warning = messages.append

    cfg = refresh_dataloader_cfg(train_loader(), logger=Logger())
    assert cfg['dataset']['pipeline'] == TRAIN_PIPELINE
    assert len(messages) == 1 and 'training* pipeline' in messages[0]


def test_nothing_to_reuse_is_a_clear_error():
    with pytest.raises(ValueError, match='training dataset config'):
        refresh_dataloader_cfg(None, dict(batch_size=2))


def test_inputs_are_not_modified():
    train, overrides = train_loader(), dict(dataset=dict(num_samples=3))
    refresh_dataloader_cfg(train, overrides, test_pipeline=TEST_PIPELINE)['dataset']['pipeline'].append('x')
    assert train == train_loader() and overrides == dict(dataset=dict(num_samples=3))


def test_the_evaluation_pipeline_is_the_test_loaders_else_the_val_loaders():
    test, val = [dict(type='PackAVInputs')], [dict(type='Resize'), dict(type='PackAVInputs')]
    assert evaluation_pipeline_of(dict(test_dataloader=dict(dataset=dict(pipeline=test)),
                                       val_dataloader=dict(dataset=dict(pipeline=val)))) == test
    assert evaluation_pipeline_of(dict(test_dataloader=None, val_dataloader=dict(dataset=dict(pipeline=val)))) == val
    assert evaluation_pipeline_of(dict()) is None and evaluation_pipeline_of(None) is None


def test_the_built_loader_reads_every_sample_once_in_order():
    init_default_scope('icl_av')
    loader = build_refresh_dataloader(train_loader(num_workers=0, pin_memory=False), dict(batch_size=4), test_pipeline=[], seed=0)
    assert loader.batch_size == 4 and not loader.sampler.shuffle
    assert [index for batch in loader for index in batch['sample_idx']] == list(range(6))  # pseudo_collate
