"""Tests for PseudoLabelHook, the ICL iteration engine, on the real AVLocalizer.

The model is a tiny AVLocalizer (timm ``test_resnet`` towers, 32 px frames, 16×16
spectrograms) on an in-memory toy dataset, so every test runs in about a second.
The training pipeline flips every frame (``RandomFlip(prob=1)``) while the hook's
loader uses the plain test pipeline: a hook that used the training pipeline would
produce different maps.
"""
import copy
import os.path as osp
import uuid

import numpy as np
import pytest
import torch
from mmengine.dataset import BaseDataset
from mmengine.runner import Runner

from icl_av.engine.hooks import PseudoLabelHook
from icl_av.models.utils import kmeans
from icl_av.registry import DATASETS, MODELS

NUM_SAMPLES = 10
NUM_CLUSTERS = 3
IMG_SIZE = 32

TEST_PIPELINE = [dict(type='PackAVInputs')]
TRAIN_PIPELINE = [dict(type='RandomFlip', prob=1.0), dict(type='PackAVInputs')]


@DATASETS.register_module(force=True)
class PseudoLabelToyAVDataset(BaseDataset):
    """In-memory frames (uint8 BGR 32×32) and spectrogram features (16×16), seeded.

    Args:
        num_samples (int): Number of samples.
        seed (int): Seed of the random content.
        **kwargs: ``BaseDataset`` arguments (``pipeline``, ...).
    """

    def __init__(self, num_samples: int = NUM_SAMPLES, seed: int = 0, **kwargs):
        self.num_samples = num_samples
        self.seed = seed
        super().__init__(**kwargs)

    def load_data_list(self):
        rng = np.random.default_rng(self.seed)
        return [
            dict(video_id=f'toy_{index:03d}',
                 img=rng.integers(0, 256, (IMG_SIZE, IMG_SIZE, 3), dtype=np.uint8),
                 img_shape=(IMG_SIZE, IMG_SIZE), ori_shape=(IMG_SIZE, IMG_SIZE),
                 audio=rng.standard_normal((16, 16)).astype(np.float32), audio_is_feature=True)
            for index in range(self.num_samples)
        ]


def tiny_localizer_cfg():
    """A real AVLocalizer small enough for CPU tests (4×4 maps, 16-d embeddings)."""
    return dict(
        type='AVLocalizer',
        visual_backbone=dict(type='TimmVisualBackbone', model_name='test_resnet', out_index=2),
        audio_backbone=dict(type='TimmAudioEncoder', model_name='test_resnet'),
        head=dict(type='AVSimilarityHead', embed_dims=16),
        loss=dict(type='ICLLoss'),
        data_preprocessor=dict(type='AVDataPreprocessor'))


def build_localizer(seed: int = 0):
    """The tiny localizer with seeded initial weights."""
    torch.manual_seed(seed)
    return MODELS.build(tiny_localizer_cfg())


def train_dataloader_cfg(num_samples: int = NUM_SAMPLES, batch_size: int = 4):
    return dict(
        dataset=dict(type='PseudoLabelToyAVDataset', num_samples=num_samples, pipeline=TRAIN_PIPELINE),
        sampler=dict(type='DefaultSampler', shuffle=True),
        collate_fn=dict(type='pseudo_collate'),
        batch_size=batch_size,
        num_workers=0)


def make_runner(work_dir, hook_cfg, model=None, max_epochs=3, num_samples=NUM_SAMPLES, batch_size=4, **kwargs):
    """A real Runner (no config file) with the hook as a custom hook."""
    return Runner(
        model=model if model is not None else tiny_localizer_cfg(),
        work_dir=str(work_dir),
        experiment_name=f'pseudo_label_hook_{uuid.uuid4().hex[:8]}',
        train_dataloader=train_dataloader_cfg(num_samples, batch_size),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        custom_hooks=[hook_cfg],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        default_scope='icl_av',
        **kwargs)


def hook_of(runner) -> PseudoLabelHook:
    hooks = [hook for hook in runner.hooks if isinstance(hook, PseudoLabelHook)]
    assert len(hooks) == 1
    return hooks[0]


def record_test_step(model):
    """Wrap ``model.test_step`` to record what the hook receives: idx -> (raw map, embedding)."""
    received = []
    original = model.test_step

    def recording_test_step(data):
        outputs = original(data)
        received.extend((int(s.metainfo['sample_idx']), s.pred_map.clone(), s.audio_embedding.clone())
                        for s in outputs)
        return outputs

    model.test_step = recording_test_step
    return received


def expected_tables(received, num_clusters, seed):
    """Independent reference: per-index maps min-max normalised, k-means of the embeddings."""
    by_index = {}
    for index, pred_map, embedding in received:
        by_index.setdefault(index, (pred_map, embedding))
    indices = sorted(by_index)
    maps = []
    for index in indices:
        raw = by_index[index][0].double()
        normalised = ((raw - raw.min()) / (raw.max() - raw.min())).float()
        normalised = torch.round(normalised * 255) / 255  # the bank stores uint8
        maps.append(normalised)
    embeddings = torch.stack([by_index[index][1].float() for index in indices])
    clusters, _ = kmeans(embeddings, num_clusters, seed=seed, metric='cosine')
    return torch.tensor(indices), torch.stack(maps), clusters


def direct_predictions(localizer, num_samples=NUM_SAMPLES):
    """Each sample through the test pipeline and ``predict`` on its own (no hook involved)."""
    dataset = PseudoLabelToyAVDataset(num_samples=num_samples, pipeline=TEST_PIPELINE)
    localizer.eval()
    maps, embeddings = [], []
    with torch.no_grad():
        for index in range(len(dataset)):
            outputs = localizer.test_step(dict(
                inputs={key: [value] for key, value in dataset[index]['inputs'].items()},
                data_samples=[dataset[index]['data_samples']]))
            maps.append(outputs[0].pred_map)
            embeddings.append(outputs[0].audio_embedding)
    return torch.stack(maps), torch.stack(embeddings)


def hook_cfg(**overrides):
    cfg = dict(type='PseudoLabelHook', num_clusters=NUM_CLUSTERS, iteration_epochs=[1, 2],
               dataloader=dict(batch_size=3, dataset=dict(pipeline=TEST_PIPELINE)))
    cfg.update(overrides)
    return cfg


# ---------------------------------------------------------------- pure helpers
def test_refresh_epochs_follow_iteration_lengths_or_interval():
    by_lengths = PseudoLabelHook(num_clusters=2, iteration_epochs=[4, 3, 3])
    assert by_lengths.refresh_epochs(10) == [4, 7]
    assert by_lengths.refresh_epochs(6) == [4]  # shorter training: only reachable boundaries
    assert by_lengths.num_refreshes_done(6, 10) == 1 and by_lengths.num_refreshes_done(7, 10) == 2
    by_interval = PseudoLabelHook(num_clusters=2, interval=2)
    assert by_interval.refresh_epochs(7) == [2, 4, 6]
    assert by_interval.refresh_epochs(6) == [2, 4]  # never after the final epoch
    assert PseudoLabelHook(num_clusters=2, iteration_epochs=[5]).refresh_epochs(5) == []


@pytest.mark.parametrize('kwargs, message', [
    (dict(), 'exactly one of'),
    (dict(iteration_epochs=[2, 2], interval=2), 'exactly one of'),
    (dict(iteration_epochs=[2, 0]), 'positive ints'),
    (dict(iteration_epochs=[]), 'positive ints'),
    (dict(interval=0), 'interval'),
    (dict(interval=1, kmeans_metric='l1'), 'kmeans_metric'),
    (dict(interval=1, num_clusters=0), 'num_clusters'),
])
def test_invalid_configs_name_the_key(kwargs, message):
    arguments = dict(num_clusters=2)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        PseudoLabelHook(**arguments)


# ---------------------------------------------------------------- refresh on the real model
@pytest.mark.parametrize('loader', [
    dict(batch_size=3),  # no shuffling, last batch short
    dict(batch_size=4, sampler=dict(type='DefaultSampler', shuffle=True)),  # shard order differs
])
def test_refresh_writes_the_direct_computation_in_index_order(tmp_path, loader):
    loader = dict(loader, dataset=dict(pipeline=TEST_PIPELINE))
    runner = make_runner(tmp_path, hook_cfg(dataloader=loader, seed=7))
    localizer = runner.model
    received = record_test_step(localizer)
    assert not localizer.pseudo_label_bank.ready

    rng_before = torch.get_rng_state()
    stats = hook_of(runner).refresh(runner)
    assert torch.equal(torch.get_rng_state(), rng_before)  # training's random stream untouched
    received = list(received)  # freeze: the direct computation below calls test_step too
    assert localizer.training  # back in training mode after extracting in eval mode

    # The hook saw every sample once, through the test pipeline (not the flipping train one).
    assert sorted(index for index, _, _ in received) == list(range(NUM_SAMPLES))
    if 'sampler' in loader:
        assert [index for index, _, _ in received] != list(range(NUM_SAMPLES))
    direct_maps, direct_embeddings = direct_predictions(localizer)
    received_sorted = sorted(received, key=lambda item: item[0])
    torch.testing.assert_close(torch.stack([m for _, m, _ in received_sorted]), direct_maps, atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.stack([e for _, _, e in received_sorted]), direct_embeddings,
                               atol=1e-5, rtol=0)

    indices, maps, clusters = expected_tables(received, NUM_CLUSTERS, seed=7)
    bank = localizer.pseudo_label_bank
    assert bank.ready and int(bank.round) == 1 and bank.valid.all() and len(bank) == NUM_SAMPLES
    stored = bank.gather(indices)
    torch.testing.assert_close(stored['maps'], maps, atol=1e-6, rtol=0)
    assert torch.equal(stored['clusters'], clusters)
    assert stats['num_samples'] == NUM_SAMPLES
    assert stats['cluster_size_min'] >= 1 and stats['clusters_empty'] == 0
    assert 0 < stats['fg_area'] < 1
    assert 'map_change' not in stats  # nothing to compare with on the first refresh


def test_second_refresh_logs_the_change_of_the_maps(tmp_path, monkeypatch):
    runner = make_runner(tmp_path, hook_cfg())
    hook = hook_of(runner)
    lines = []
    monkeypatch.setattr(runner.logger, 'info', lines.append)
    hook.refresh(runner)
    first = runner.model.pseudo_label_bank.maps.clone()
    assert hook.refresh(runner)['map_change'] == pytest.approx(0.0)  # same model, same maps
    with torch.no_grad():
        for parameter in runner.model.head.parameters():
            parameter.add_(torch.randn_like(parameter))
    stats = hook.refresh(runner)
    change = (runner.model.pseudo_label_bank.maps.float() - first.float()).abs().mean() / 255
    assert stats['map_change'] == pytest.approx(float(change), abs=1e-6) and stats['map_change'] > 0
    assert int(runner.model.pseudo_label_bank.round) == 3
    assert len(lines) == 3 and 'n/a (first refresh)' in lines[0]
    for part in (f'{NUM_SAMPLES} samples', f'{NUM_CLUSTERS} clusters, size min', 'mean foreground area',
                 f'since last refresh {stats["map_change"]:.4f}'):
        assert part in lines[2], part


def test_default_refresh_loader_reads_the_training_set_with_the_test_pipeline(tmp_path):
    """No ``dataloader`` in the hook config: the test loader's pipeline (no flip), the training loader's batch."""
    test_loader = dict(dataset=dict(type='PseudoLabelToyAVDataset', num_samples=2, pipeline=TEST_PIPELINE),
                       sampler=dict(type='DefaultSampler', shuffle=False), batch_size=1, num_workers=0)
    runner = make_runner(tmp_path, hook_cfg(dataloader=None), batch_size=5, test_dataloader=test_loader,
                         test_cfg=dict(), test_evaluator=dict(type='LocalizationMetric'))
    received = record_test_step(runner.model)
    batch_sizes = []
    original = runner.model.test_step
    runner.model.test_step = lambda data: batch_sizes.append(len(data['data_samples'])) or original(data)
    hook_of(runner).refresh(runner)
    received = list(received)  # freeze: the direct computation below calls test_step too
    assert batch_sizes == [5, 5]  # the training loader's batch size, every sample once
    direct_maps, _ = direct_predictions(runner.model)
    torch.testing.assert_close(torch.stack([m for _, m, _ in sorted(received, key=lambda r: r[0])]), direct_maps,
                               atol=1e-5, rtol=0)


def test_without_any_test_pipeline_the_training_one_is_used_with_a_warning(tmp_path, monkeypatch):
    runner = make_runner(tmp_path, hook_cfg(dataloader=None))
    warnings = []
    monkeypatch.setattr(runner.logger, 'warning', warnings.append)
    hook_of(runner).refresh(runner)
    assert len(warnings) == 1 and 'training* pipeline' in warnings[0]


def test_complete_dataset_config_is_used_as_given(tmp_path):
    dataset = dict(type='PseudoLabelToyAVDataset', num_samples=6, pipeline=TEST_PIPELINE)
    runner = make_runner(tmp_path, hook_cfg(dataloader=dict(dataset=dataset, batch_size=2)))
    hook = hook_of(runner)
    hook.refresh(runner)
    assert len(runner.model.pseudo_label_bank) == 6


def test_model_without_update_method_is_a_clear_error(tmp_path):
    runner = make_runner(tmp_path, hook_cfg())
    runner.model.update_pseudo_labels = None
    with pytest.raises(TypeError, match='update_pseudo_labels'):
        hook_of(runner).refresh(runner)


def test_more_clusters_than_samples_is_a_clear_error(tmp_path):
    runner = make_runner(tmp_path, hook_cfg(num_clusters=NUM_SAMPLES + 1))
    with pytest.raises(ValueError, match=r'num_clusters=11 exceeds the number of training samples \(10\)'):
        hook_of(runner).refresh(runner)


def test_save_pictures_writes_a_grid_through_the_visualizer(tmp_path):
    runner = make_runner(tmp_path, hook_cfg(save_pictures=True, num_pictures=4))
    hook_of(runner).refresh(runner)
    assert osp.isfile(osp.join(runner.log_dir, 'vis_data', 'vis_image', 'pseudo_labels_0.png'))


def test_save_pictures_is_skipped_quietly_without_an_image_method(tmp_path):
    runner = make_runner(tmp_path, hook_cfg(save_pictures=True))
    runner.visualizer.add_image = None
    hook_of(runner).refresh(runner)
    assert runner.model.pseudo_label_bank.ready


# ---------------------------------------------------------------- training schedule and resume
def spy_refreshes(runner):
    """Record how many epochs were trained when each refresh ran (from the iteration count)."""
    hook = hook_of(runner)
    calls = []
    original = hook.refresh
    iters_per_epoch = len(runner.train_dataloader)

    def spy(runner_, completed_epochs=None):
        assert runner_.iter % iters_per_epoch == 0  # only ever at an epoch boundary
        calls.append(runner_.iter // iters_per_epoch)
        assert completed_epochs in (None, calls[-1])  # what the hook logs
        return original(runner_, completed_epochs=completed_epochs)

    hook.refresh = spy
    return calls


def bank_state(model):
    bank = model.pseudo_label_bank
    return {name: buffer.clone() for name, buffer in bank.named_buffers()}


def test_training_refreshes_at_the_boundaries_and_a_resume_at_the_same_epochs(tmp_path):
    cfg = hook_cfg(iteration_epochs=[1, 2, 1], refresh_at_start=True)
    full = make_runner(tmp_path / 'full', cfg, max_epochs=4)
    full_calls = spy_refreshes(full)
    full.train()
    assert full_calls == [0, 1, 3]  # before training, then after epochs 1 and 3
    assert int(full.model.pseudo_label_bank.round) == 3

    resumed = make_runner(tmp_path / 'resumed', cfg, max_epochs=4,
                          load_from=osp.join(full.work_dir, 'epoch_2.pth'), resume=True)
    resumed_calls = spy_refreshes(resumed)
    resumed.train()
    assert resumed_calls == [3]  # no start refresh, no repeat of epoch 1: the bank came with the checkpoint
    assert int(resumed.model.pseudo_label_bank.round) == 3
    for name, buffer in bank_state(full.model).items():
        assert torch.equal(bank_state(resumed.model)[name], buffer), name
    for (name, parameter), (_, resumed_parameter) in zip(full.model.named_parameters(),
                                                         resumed.model.named_parameters()):
        assert torch.equal(parameter, resumed_parameter), name


def test_checkpoint_at_the_boundary_holds_the_refreshed_labels(tmp_path):
    runner = make_runner(tmp_path, hook_cfg(iteration_epochs=[1, 1]), max_epochs=2)
    runner.train()
    state = torch.load(osp.join(runner.work_dir, 'epoch_1.pth'), map_location='cpu', weights_only=False)
    assert int(state['state_dict']['pseudo_label_bank.round']) == 1
    assert state['state_dict']['pseudo_label_bank.valid'].all()


def test_iteration_based_training_is_rejected(tmp_path):
    runner = Runner(
        model=tiny_localizer_cfg(), work_dir=str(tmp_path),
        experiment_name=f'pseudo_label_hook_{uuid.uuid4().hex[:8]}',
        train_dataloader=train_dataloader_cfg(), train_cfg=dict(by_epoch=False, max_iters=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)), custom_hooks=[hook_cfg()],
        default_scope='icl_av')
    with pytest.raises(TypeError, match='epoch-based'):
        runner.train()


def test_hook_config_is_not_mutated(tmp_path):
    cfg = hook_cfg()
    frozen = copy.deepcopy(cfg)
    runner = make_runner(tmp_path, cfg)
    hook_of(runner).refresh(runner)
    assert cfg == frozen


# ---------------------------------------------------------------- end to end on SynthAV
def synthav_runner(work_dir, **kwargs):
    """ICL on a tiny SynthAV (32 samples, 32 px, 0.5 s audio) with refreshes at start and after epoch 2."""
    model = tiny_localizer_cfg()
    model['data_preprocessor'] = dict(
        type='AVDataPreprocessor', audio_frontend=dict(type='LogMelFrontend', sample_rate=16000, n_mels=32))
    dataset = dict(type='SynthAVDataset', split='train', num_samples=32, seed=0, img_size=32, audio_seconds=0.5,
                   audio_sample_rate=16000, pipeline=[dict(type='RandomFlip', prob=0.5), dict(type='PackAVInputs')])
    return Runner(
        model=model,
        work_dir=str(work_dir),
        experiment_name=f'pseudo_label_hook_e2e_{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(dataset=dataset, sampler=dict(type='DefaultSampler', shuffle=True),
                              batch_size=8, num_workers=0),
        train_cfg=dict(by_epoch=True, max_epochs=3),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        custom_hooks=[
            dict(type='EpochSeedHook'),
            dict(type='PseudoLabelHook', num_clusters=4, iteration_epochs=[2, 1], refresh_at_start=True,
                 dataloader=dict(dataset=dict(pipeline=[dict(type='PackAVInputs')]))),
        ],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0),
        default_scope='icl_av',
        **kwargs)


@pytest.mark.slow
def test_synthav_icl_run_resumed_across_a_refresh_is_bit_identical(tmp_path):
    full = synthav_runner(tmp_path / 'full')
    full_calls = spy_refreshes(full)
    full.train()
    assert full_calls == [0, 2]
    bank = full.model.pseudo_label_bank
    assert int(bank.round) == 2 and bank.valid.all() and len(bank) == 32

    # Resume after epoch 1: the start-of-training labels come from the checkpoint, the
    # refresh after epoch 2 happens in the resumed run.
    resumed = synthav_runner(tmp_path / 'resumed', load_from=osp.join(full.work_dir, 'epoch_1.pth'), resume=True)
    resumed_calls = spy_refreshes(resumed)
    resumed.train()
    assert resumed_calls == [2]
    full_state, resumed_state = full.model.state_dict(), resumed.model.state_dict()
    assert full_state.keys() == resumed_state.keys()
    for name, value in full_state.items():
        assert torch.equal(value, resumed_state[name]), name


# ---------------------------------------------------------------- sample_idx checked before training
@pytest.mark.parametrize('loader_key', ['train_dataloader', 'test_dataloader'])
def test_a_config_without_sample_idx_in_meta_keys_fails_before_epoch_1(tmp_path, tiny_config, loader_key):
    """The training pipeline, or the test pipeline the refresh loader borrows, drops the bank's key."""
    from mmengine.config import Config
    cfg = Config.fromfile(tiny_config)
    cfg.work_dir = str(tmp_path)
    cfg.custom_hooks = [dict(type='PseudoLabelHook', num_clusters=2, iteration_epochs=[1, 1])]
    cfg.train_cfg.max_epochs = 2
    cfg.merge_from_dict({f'{loader_key}.dataset.pipeline': [dict(type='PackAVInputs', meta_keys=('video_id', ))]})
    runner = Runner.from_cfg(cfg)
    steps = []
    original = runner.model.train_step
    runner.model.train_step = lambda *args, **kwargs: steps.append(1) or original(*args, **kwargs)
    with pytest.raises(ValueError, match=r"meta_keys \['video_id'\] lack 'sample_idx'"):
        runner.train()
    assert steps == [] and runner.epoch == 0
