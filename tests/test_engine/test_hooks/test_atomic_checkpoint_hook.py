"""AtomicCheckpointHook: a checkpoint is complete or absent, the old one goes only after the new one is in place,
and an automatic resume only ever picks a complete checkpoint."""
import os
import uuid
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import LocalBackend
from mmengine.registry import HOOKS, DefaultScope
from mmengine.runner import Runner

from icl_av.engine.hooks import AtomicCheckpointHook
from icl_av.engine.hooks.atomic_checkpoint_hook import (find_resume_checkpoint, is_complete_checkpoint,
                                                        temporary_name)


def save(path, step=1):
    torch.save({'meta': {'epoch': step}, 'state_dict': {'w': torch.full((64,), float(step))}}, path)
    return str(path)


def truncate(path, keep=0.5):
    data = open(path, 'rb').read()
    with open(path, 'wb') as handle:
        handle.write(data[:int(len(data) * keep)])


def point_last_checkpoint(work_dir, path):
    (work_dir / 'last_checkpoint').write_text(str(path))


# ---- which file a resume picks ----------------------------------------------------------------
def test_complete_checkpoint_check(tmp_path):
    good = save(tmp_path / 'epoch_1.pth')
    assert is_complete_checkpoint(good)
    cut = save(tmp_path / 'epoch_2.pth', 2)
    truncate(cut)
    assert not is_complete_checkpoint(cut)
    (tmp_path / 'empty.pth').write_bytes(b'')
    assert not is_complete_checkpoint(str(tmp_path / 'empty.pth'))
    assert not is_complete_checkpoint(str(tmp_path / 'missing.pth'))


def test_resume_follows_last_checkpoint_when_it_names_a_complete_file(tmp_path):
    save(tmp_path / 'epoch_1.pth')
    second = save(tmp_path / 'epoch_2.pth', 2)
    point_last_checkpoint(tmp_path, tmp_path / 'epoch_1.pth')
    assert find_resume_checkpoint(str(tmp_path)) == (str(tmp_path / 'epoch_1.pth'), None)
    point_last_checkpoint(tmp_path, second)
    assert find_resume_checkpoint(str(tmp_path)) == (second, None)


def test_resume_falls_back_to_the_newest_complete_checkpoint_with_one_line(tmp_path):
    """The plain hook's leftovers: last_checkpoint names a deleted file, the newest file is truncated."""
    first = save(tmp_path / 'epoch_1.pth')
    save(tmp_path / 'epoch_3.pth', 3)
    truncate(tmp_path / 'epoch_3.pth')
    save(tmp_path / temporary_name('epoch_4.pth'), 4)  # a temporary file, complete or not, is never picked
    save(tmp_path / 'best_loc_ciou_epoch_3.pth', 3)  # a best checkpoint holds no optimizer state: not resumed
    point_last_checkpoint(tmp_path, tmp_path / 'epoch_2.pth')
    path, warning = find_resume_checkpoint(str(tmp_path))
    assert path == first
    assert '\n' not in warning and 'epoch_2.pth, which is missing' in warning and first in warning
    point_last_checkpoint(tmp_path, tmp_path / 'epoch_3.pth')
    path, warning = find_resume_checkpoint(str(tmp_path))
    assert path == first and 'epoch_3.pth, which is incomplete or unreadable' in warning


def test_resume_without_any_complete_checkpoint_starts_afresh(tmp_path):
    assert find_resume_checkpoint(str(tmp_path)) == (None, None)  # a new work dir
    save(tmp_path / 'epoch_1.pth')
    truncate(tmp_path / 'epoch_1.pth')
    point_last_checkpoint(tmp_path, tmp_path / 'epoch_1.pth')
    path, warning = find_resume_checkpoint(str(tmp_path))
    assert path is None and 'training starts from the beginning' in warning


def test_resume_finds_checkpoints_when_last_checkpoint_was_never_written(tmp_path):
    second = save(tmp_path / 'iter_200.pth', 2)
    save(tmp_path / 'iter_100.pth')
    path, warning = find_resume_checkpoint(str(tmp_path), filename_tmpl='iter_{}.pth')
    assert path == second and 'last_checkpoint is missing' in warning


class ResumingRunner:
    """What before_run reads and sets: the resume flags, the work dir and the logger."""

    def __init__(self, work_dir, load_from=None):
        self._resume, self._load_from, self._has_loaded = True, load_from, False
        self.work_dir = str(work_dir)
        self.lines = []
        self.logger = SimpleNamespace(warning=self.lines.append, info=self.lines.append)


def test_before_run_points_an_automatic_resume_at_a_complete_checkpoint(tmp_path):
    first = save(tmp_path / 'epoch_1.pth')
    point_last_checkpoint(tmp_path, tmp_path / 'epoch_2.pth')
    runner = ResumingRunner(tmp_path)
    AtomicCheckpointHook(interval=1).before_run(runner)
    assert runner._load_from == first and runner._resume
    assert any('newest complete checkpoint' in line for line in runner.lines)

    explicit = ResumingRunner(tmp_path, load_from='/elsewhere/epoch_9.pth')  # --resume CKPT: left alone
    AtomicCheckpointHook(interval=1).before_run(explicit)
    assert explicit._load_from == '/elsewhere/epoch_9.pth' and not explicit.lines

    os.remove(first)
    nothing = ResumingRunner(tmp_path)
    AtomicCheckpointHook(interval=1).before_run(nothing)
    assert nothing._load_from is None and not nothing._resume  # a fresh start, not "epoch_2.pth can not be found"


def test_checkpoint_hook_name_builds_the_atomic_hook_in_icl_av_scope():
    with DefaultScope.overwrite_default_scope('icl_av'):
        assert type(HOOKS.build(dict(type='CheckpointHook', interval=1))) is AtomicCheckpointHook
        assert type(HOOKS.build(dict(type='AtomicCheckpointHook', interval=1))) is AtomicCheckpointHook
        assert type(HOOKS.build(dict(type='mmengine.CheckpointHook', interval=1))) is not AtomicCheckpointHook


# ---- a real run interrupted while writing -----------------------------------------------------
def tiny_cfg(tiny_config, work_dir, max_epochs=3, save_best=None, resume=False):
    cfg = Config.fromfile(tiny_config)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'atomic_ckpt_{uuid.uuid4().hex[:8]}'
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1,
                                        save_best=save_best, rule='greater' if save_best else None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    if save_best is None:
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.resume = resume
    return cfg


class WriteFails:
    """``LocalBackend.put`` that writes half of any file whose name contains ``name``, then raises (a full disk)."""

    def __init__(self, name):
        self.name, self.hits = name, []
        original = LocalBackend.put

        def put(backend, obj, filepath):
            if self.name in os.path.basename(str(filepath)):
                self.hits.append(str(filepath))
                with open(filepath, 'wb') as handle:
                    handle.write(obj[:len(obj) // 2])
                raise OSError(28, 'No space left on device')
            return original(backend, obj, filepath)

        self.put = put


def names(folder):
    return sorted(p for p in os.listdir(folder) if p.endswith('.pth') or p.endswith('.incomplete'))


@pytest.mark.slow
def test_a_failed_write_keeps_the_previous_checkpoint_and_resume_finishes(tiny_config, tmp_path, monkeypatch):
    work = tmp_path / 'work'
    failing = WriteFails('epoch_2.pth')
    monkeypatch.setattr(LocalBackend, 'put', failing.put)
    with pytest.raises(OSError, match='No space left'):
        Runner.from_cfg(tiny_cfg(tiny_config, work)).train()
    assert failing.hits == [str(work / temporary_name('epoch_2.pth'))]  # written under the temporary name
    assert names(work) == ['epoch_1.pth']  # kept, complete; the partial file is gone
    assert is_complete_checkpoint(str(work / 'epoch_1.pth'))
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_1.pth')
    monkeypatch.undo()

    Runner.from_cfg(tiny_cfg(tiny_config, work, resume=True)).train()
    assert names(work) == ['epoch_3.pth']  # max_keep_ckpts=1: the older ones went once the newer were complete
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_3.pth')
    checkpoint = torch.load(work / 'epoch_3.pth', weights_only=False)
    assert checkpoint['meta']['epoch'] == 3 and checkpoint['message_hub']['runtime_info']['keep_ckpt_ids'] == [3]


@pytest.mark.slow
def test_a_failed_best_checkpoint_write_keeps_the_previous_best(tiny_config, tmp_path, monkeypatch):
    work = tmp_path / 'work'
    scores = iter([0.2, 0.5, 0.9])
    from icl_av.evaluation.metrics import LocalizationMetric
    monkeypatch.setattr(LocalizationMetric, 'compute_metrics', lambda self, results: {'ciou': next(scores)})
    failing = WriteFails('best_loc_ciou_epoch_2.pth')
    monkeypatch.setattr(LocalBackend, 'put', failing.put)
    with pytest.raises(OSError, match='No space left'):
        Runner.from_cfg(tiny_cfg(tiny_config, work, save_best='loc/ciou')).train()
    assert names(work) == ['best_loc_ciou_epoch_1.pth', 'epoch_2.pth']
    assert all(is_complete_checkpoint(str(work / name)) for name in names(work))
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_2.pth')
