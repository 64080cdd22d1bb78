"""AudioPrototypeHook: a checkpoint without audio prototypes gets them from the training clips before testing."""
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from tiny_configs import write_tiny_config

from icl_av.engine.hooks import AudioPrototypeHook


def _runner(tmp_path, map_mode, hooks=()):
    cfg = Config.fromfile(write_tiny_config(tmp_path))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.map_mode = map_mode
    cfg.custom_hooks = list(hooks)
    cfg.test_evaluator = dict(type='LocalizationMetric', gt_source='masks')
    return Runner.from_cfg(cfg)


def _pred_maps(runner):
    batch = next(iter(runner.test_dataloader))
    runner.model.eval()
    with torch.no_grad():
        return torch.stack([s.pred_map for s in runner.model.test_step(batch)])


@pytest.mark.slow
def test_prototypes_are_fitted_and_change_the_maps(tmp_path):
    runner = _runner(tmp_path, 'posterior', [dict(type='AudioPrototypeHook', num_prototypes=2)])
    assert runner.model.audio_prototypes.numel() == 0
    cosine = _pred_maps(runner)  # no prototypes yet: posterior mode falls back to the cosine maps
    runner.test()
    assert runner.model.audio_prototypes.shape == (2, runner.model.head.embed_dims)
    assert not runner.model.pseudo_label_bank.ready  # fitting prototypes writes no pseudo-labels
    posterior = _pred_maps(runner)
    assert not torch.allclose(cosine, posterior)
    assert float(posterior.min()) >= 0 and float(posterior.max()) <= 1


@pytest.mark.slow
def test_existing_prototypes_are_kept_unless_refit(tmp_path):
    runner = _runner(tmp_path, 'posterior')
    stored = torch.randn(3, runner.model.head.embed_dims)
    runner.model.set_audio_prototypes(stored)
    assert AudioPrototypeHook(num_prototypes=2).fit(runner) is False
    assert torch.equal(runner.model.audio_prototypes, stored)
    assert AudioPrototypeHook(num_prototypes=2, refit=True).fit(runner) is True
    assert runner.model.audio_prototypes.shape == (2, runner.model.head.embed_dims)


@pytest.mark.parametrize('k', [0, -2, True])
def test_bad_counts_are_refused(k):
    with pytest.raises(ValueError, match='num_prototypes must be a positive int'):
        AudioPrototypeHook(num_prototypes=k)
