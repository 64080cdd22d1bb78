"""PseudoLabelHook and the sample list its labels index.

The bank's rows are read by ``sample_idx``, a position in the training list. The refresh
reads the training dataset's own list, the bank records that list's digest, and labels
that came with a checkpoint are trained on only when they index this run's list:
``load_from`` a run on another dataset (or from a checkpoint that does not record its
list) starts round 1 without them; a resume keeps them unless the list changed.

Source checkpoint: the tiny localizer trained 2 epochs on 10 toy samples with a refresh
after epoch 1, so ``epoch_1.pth`` holds round-1 labels of the 10-sample list.
"""
import os.path as osp
import sys

import pytest
import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from test_pseudo_label_hook import hook_cfg, hook_of, make_runner, spy_refreshes  # noqa: E402

from icl_av.datasets.sample_list import sample_list_digest  # noqa: E402
from icl_av.engine.pseudo_labels import TrainingListView  # noqa: E402

SOURCE_SAMPLES = 10
OTHER_SAMPLES = 8  # another list: 8 toy IDs instead of 10


@pytest.fixture(scope='module')
def source_checkpoint(tmp_path_factory):
    """``epoch_1.pth`` of a run whose bank holds round-1 labels (and the digest) of the 10-sample list."""
    runner = make_runner(tmp_path_factory.mktemp('source'), hook_cfg(iteration_epochs=[1, 1]), max_epochs=2,
                         num_samples=SOURCE_SAMPLES)
    runner.train()
    path = osp.join(runner.work_dir, 'epoch_1.pth')
    state = torch.load(path, map_location='cpu', weights_only=False)['state_dict']
    assert int(state['pseudo_label_bank.round']) == 1
    assert state['pseudo_label_bank.sample_list_digest'].any()
    return path


def without_digest(path, tmp_path):
    """A copy of the checkpoint as written before banks recorded their list."""
    checkpoint = torch.load(path, map_location='cpu', weights_only=False)
    del checkpoint['state_dict']['pseudo_label_bank.sample_list_digest']
    copy_path = osp.join(str(tmp_path), 'no_digest.pth')
    torch.save(checkpoint, copy_path)
    return copy_path


def watch(runner):
    """Record, at every training step, whether the bank holds labels; and the hook's log lines."""
    seen, lines = [], []
    original = runner.model.train_step

    def train_step(*args, **kwargs):
        seen.append(runner.model.pseudo_label_bank.ready)
        return original(*args, **kwargs)

    runner.model.train_step = train_step
    for level in ('info', 'warning'):
        log = getattr(runner.logger, level)
        setattr(runner.logger, level,
                lambda message, log=log, level=level: (lines.append((level, message))
                                                       if 'PseudoLabelHook' in message else None) or log(message))
    return seen, lines


def discards(lines):
    return [message for level, message in lines if level == 'warning' and 'discarded the pseudo-labels' in message]


def test_the_refresh_reads_the_training_list_and_the_bank_records_its_digest(tmp_path):
    runner = make_runner(tmp_path, hook_cfg())
    hook_of(runner).refresh(runner)
    training = runner.train_dataloader.dataset
    refresh = hook_of(runner)._dataloader.dataset
    assert isinstance(refresh, TrainingListView) and refresh.dataset.data_bytes is training.data_bytes
    assert runner.model.pseudo_label_bank.sample_list == sample_list_digest(training)


def test_load_from_a_run_on_another_list_trains_round_1_without_its_labels(tmp_path, source_checkpoint):
    runner = make_runner(tmp_path, hook_cfg(iteration_epochs=[1, 1]), max_epochs=2, num_samples=OTHER_SAMPLES,
                         load_from=source_checkpoint)
    seen, lines = watch(runner)
    runner.train()
    steps_per_epoch = len(runner.train_dataloader)
    assert seen == [False] * steps_per_epoch + [True] * steps_per_epoch  # round 1 without, round 2 with new ones
    (line, ) = discards(lines)
    assert 'discarded the pseudo-labels (round 1) loaded from the checkpoint: they index another sample list' in line
    bank = runner.model.pseudo_label_bank
    assert int(bank.round) == 1 and bank.sample_list == sample_list_digest(runner.train_dataloader.dataset)


def test_load_from_a_checkpoint_that_does_not_record_its_list_discards_the_labels(tmp_path, source_checkpoint):
    runner = make_runner(tmp_path, hook_cfg(iteration_epochs=[1]), max_epochs=1, num_samples=SOURCE_SAMPLES,
                         load_from=without_digest(source_checkpoint, tmp_path))
    seen, lines = watch(runner)
    runner.train()
    assert seen and not any(seen)
    (line, ) = discards(lines)
    assert 'does not record which sample list they index' in line
    assert not runner.model.pseudo_label_bank.ready


def test_load_from_a_run_on_the_same_list_keeps_its_labels(tmp_path, source_checkpoint):
    runner = make_runner(tmp_path, hook_cfg(iteration_epochs=[1]), max_epochs=1, num_samples=SOURCE_SAMPLES,
                         load_from=source_checkpoint)
    seen, lines = watch(runner)
    runner.train()
    assert seen and all(seen)
    assert not discards(lines)
    assert any('were made on this training list' in message and 'round 1 trains on them' in message
               for _, message in lines)


@pytest.mark.parametrize('recorded', [True, False])
def test_resume_on_the_same_list_keeps_the_labels(tmp_path, source_checkpoint, recorded):
    """Also from a checkpoint that records no list: resuming behaves as it always did."""
    path = source_checkpoint if recorded else without_digest(source_checkpoint, tmp_path)
    expected = torch.load(path, map_location='cpu', weights_only=False)['state_dict']['pseudo_label_bank.maps']
    runner = make_runner(tmp_path, hook_cfg(iteration_epochs=[1, 1]), max_epochs=2, num_samples=SOURCE_SAMPLES,
                         load_from=path, resume=True)
    calls = spy_refreshes(runner)
    maps_at_first_step = []
    original = runner.model.train_step
    runner.model.train_step = lambda *args, **kwargs: (
        maps_at_first_step.append(runner.model.pseudo_label_bank.maps.clone()) or original(*args, **kwargs))
    seen, lines = watch(runner)
    runner.train()
    assert calls == [] and seen and all(seen) and not discards(lines)
    assert torch.equal(maps_at_first_step[0], expected)


def test_resume_on_another_list_discards_the_labels_and_refreshes_at_once(tmp_path, source_checkpoint):
    runner = make_runner(tmp_path, hook_cfg(iteration_epochs=[1, 1]), max_epochs=2, num_samples=OTHER_SAMPLES,
                         load_from=source_checkpoint, resume=True)
    hook = hook_of(runner)
    calls, refresh = [], hook.refresh
    hook.refresh = lambda runner_, completed_epochs=None: calls.append(completed_epochs) or refresh(
        runner_, completed_epochs=completed_epochs)
    seen, lines = watch(runner)
    runner.train()
    assert len(discards(lines)) == 1 and 'another sample list' in discards(lines)[0]
    assert calls == [1]  # labelled with the loaded model on this list before epoch 2
    assert seen and all(seen)
    assert runner.model.pseudo_label_bank.sample_list == sample_list_digest(runner.train_dataloader.dataset)
