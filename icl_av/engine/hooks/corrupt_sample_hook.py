"""Count, log and bound the training samples whose files failed to load; skip batches left empty.

Why: in a web-scraped corpus (VGG-Sound is downloaded from YouTube by every user) a share of
the files is always broken, and a truncated JPEG met in epoch 12 must not kill the run. With
``on_corrupt='skip'`` the dataset returns a :class:`~icl_av.datasets.CorruptSample` marker for
such a sample, and the training loader drops it from its batch (it is never replaced): this
hook wraps the loader's collate function, whichever the config names, in
:class:`~icl_av.datasets.corrupt_samples.CorruptDroppingCollate`, so the collate only sees the
samples that loaded and the policy holds even when a config writes its own
``train_dataloader`` without ``collate_fn=dict(type='corrupt_aware_collate')``. Loader workers
are separate processes, so the counting happens here, in the main process, on the markers
each batch carries.
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook

from icl_av.datasets.corrupt_samples import (CorruptDroppingCollate, CorruptSample, corrupt_in, has_samples,
                                             without_markers)
from icl_av.datasets.errors import CorruptSampleLimitError
from icl_av.registry import HOOKS

CHECKPOINT_KEY = 'corrupt_samples'
SCALAR_KEY = 'train/corrupt_samples'


class CorruptSkippingLoader:
    """The training dataloader as the loop sees it: reports each batch's markers, skips batches without samples.

    Everything else (``sampler``, ``dataset``, ``batch_size``, ``len``, ...) is the wrapped
    loader's, so samplers' ``set_epoch`` and the loop's length still work.

    Under distributed training the ranks agree on every batch (one small ``all_reduce``): the
    count and the limit are over all ranks, so they all stop together, and a batch left empty
    on any rank is skipped on every rank, so they keep taking the same training steps
    (a rank that skipped alone would leave the others waiting in DDP's gradient sync).

    Args:
        loader: The training ``DataLoader``.
        hook (CorruptSampleHook): Receives the markers.
        runner: The MMEngine runner (for the epoch and the message hub).
    """

    def __init__(self, loader, hook: 'CorruptSampleHook', runner):
        self.__dict__.update(loader=loader, hook=hook, runner=runner)

    def __getattr__(self, name):
        return getattr(self.__dict__['loader'], name)

    def __len__(self) -> int:
        return len(self.loader)

    def epoch_size(self) -> int:
        """How many samples one epoch draws on this rank."""
        sampler = getattr(self.loader, 'sampler', None)
        try:
            return len(sampler)
        except TypeError:
            return len(self.loader.dataset)

    def __iter__(self):
        world_size = get_world_size()
        size = self.epoch_size() * world_size
        for batch in self.loader:
            markers = corrupt_in(batch)
            empty = not has_samples(batch)
            failed, any_empty = _agree_across_ranks(len(markers), empty, world_size)
            if failed:
                self.hook.record(self.runner, markers, size, failed=failed)
            if any_empty:
                where = '' if empty else ' on another rank'
                self.runner.logger.warning(f'CorruptSampleHook: skipped a batch in which every sample failed to '
                                           f'load{where}')
                continue
            yield without_markers(batch)


def _set_collate(loader, collate_fn) -> None:
    """Give a ``DataLoader`` another collate function, for its next iteration.

    Workers copy the collate function when they start; a persistent-workers loader that
    was already iterated keeps its workers (and their old collate) in ``_iterator``, which
    is dropped so the next epoch starts workers with the new one.
    """
    loader.collate_fn = collate_fn
    if getattr(loader, '_iterator', None) is not None:
        loader._iterator = None


def _drop_markers_before_collate(loader) -> None:
    """Make a batching ``DataLoader``'s collate function see only the samples that loaded."""
    collate_fn = getattr(loader, 'collate_fn', None)
    if not callable(collate_fn) or isinstance(collate_fn, CorruptDroppingCollate):
        return
    if getattr(loader, 'batch_sampler', None) is None:  # batch_size=None: samples come one by one, uncollated
        return
    _set_collate(loader, CorruptDroppingCollate(collate_fn))


def _restore_collate(loader) -> None:
    """Undo :func:`_drop_markers_before_collate`."""
    collate_fn = getattr(loader, 'collate_fn', None)
    if isinstance(collate_fn, CorruptDroppingCollate):
        _set_collate(loader, collate_fn.collate_fn)


def _agree_across_ranks(num_failed: int, empty: bool, world_size: int) -> Tuple[int, bool]:
    """The batch's failures summed over ranks, and whether any rank's batch is empty."""
    if world_size <= 1:
        return num_failed, empty
    counts = torch.tensor([num_failed, int(empty)], dtype=torch.int64)
    all_reduce(counts)  # sum; MMEngine moves it to the backend's device and back
    return int(counts[0]), bool(counts[1])


@HOOKS.register_module()
class CorruptSampleHook(Hook):
    """The training side of the corrupt-sample policy.

    * makes the training loader's collate function, whichever it is, see only the samples
      that loaded (:class:`~icl_av.datasets.corrupt_samples.CorruptDroppingCollate`): a
      failed sample is dropped from its batch, never replaced;
    * logs every corrupt file **once** per run (path, reason, sample), even across epochs and
      resumes;
    * puts the current epoch's count in the training log line (``corrupt_samples``, a message
      hub scalar) and logs a per-epoch summary;
    * skips a batch in which every sample failed (no training step, nothing replaced);
    * stops the run with one line (:class:`CorruptSampleLimitError`, printed by the tools as
      ``error: ...``) as soon as more than ``max_corrupt_fraction`` of an epoch's samples failed:
      a rotting disk must not train on nothing;
    * keeps its state (files seen, count per epoch) in the checkpoint, so a resumed run goes
      on from the same state. The samples skipped are a function of the files and the
      (seeded) sample choice only, so a resumed run skips the same ones.

    Under distributed training the count, the limit and the skipped batches are agreed over
    all ranks (see :class:`CorruptSkippingLoader`); each rank logs the files it met.

    Args:
        max_corrupt_fraction (float): Largest share of an epoch's samples (0 to 1) that may
            fail before the run stops. Default 0.05.
    """

    priority = 'VERY_HIGH'

    def __init__(self, max_corrupt_fraction: float = 0.05):
        if not 0.0 <= float(max_corrupt_fraction) <= 1.0:
            raise ValueError(f'CorruptSampleHook: max_corrupt_fraction must be within [0, 1], got '
                             f'{max_corrupt_fraction!r}')
        self.max_corrupt_fraction = float(max_corrupt_fraction)
        self.logged: Dict[str, str] = {}
        self.per_epoch: Dict[int, int] = {}

    # ---- the state that survives a resume ---------------------------------------------------
    def state_dict(self) -> dict:
        """Files already logged (path -> reason) and the count per epoch."""
        return dict(logged=dict(self.logged), per_epoch={int(k): int(v) for k, v in self.per_epoch.items()})

    def load_state_dict(self, state: dict) -> None:
        self.logged = dict(state.get('logged', {}))
        self.per_epoch = {int(k): int(v) for k, v in state.get('per_epoch', {}).items()}

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_KEY] = self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Only a resumed run continues the count; fine-tuning from another run's weights starts afresh.
        if getattr(runner, '_resume', False) and CHECKPOINT_KEY in checkpoint:
            self.load_state_dict(checkpoint[CHECKPOINT_KEY])

    # ---- hook points ----------------------------------------------------------------------
    def before_train(self, runner) -> None:
        loop = runner.train_loop
        if not isinstance(loop.dataloader, CorruptSkippingLoader):
            _drop_markers_before_collate(loop.dataloader)
            loop.dataloader = CorruptSkippingLoader(loop.dataloader, self, runner)

    def after_train(self, runner) -> None:
        # Unwrap: the wrapper holds the runner, and a runner -> loop -> wrapper -> runner cycle would keep the
        # model (and a DDP process group) alive until interpreter shutdown. The loader gets its own collate back.
        loop = runner.train_loop
        if isinstance(loop.dataloader, CorruptSkippingLoader):
            loop.dataloader = loop.dataloader.loader
            _restore_collate(loop.dataloader)

    def before_train_epoch(self, runner) -> None:
        self.per_epoch[runner.epoch] = 0
        runner.message_hub.update_scalar(SCALAR_KEY, 0)

    def after_train_epoch(self, runner) -> None:
        count = self.per_epoch.get(runner.epoch, 0)
        if count:
            loader = runner.train_loop.dataloader
            size = loader.epoch_size() * get_world_size() if isinstance(loader, CorruptSkippingLoader) else '?'
            runner.logger.warning(f'CorruptSampleHook: epoch {runner.epoch + 1}: {count} of {size} samples failed '
                                  f'to load and were skipped ({len(self.logged)} distinct files logged so far)')

    # ---- called by the loader wrapper --------------------------------------------------------
    def record(self, runner, markers: List[CorruptSample], epoch_size: int, failed: Optional[int] = None) -> None:
        """Log new corrupt files, count the epoch's failures and enforce the limit.

        Args:
            runner: The runner (epoch, logger, message hub).
            markers (list[CorruptSample]): This rank's markers of the batch (logged).
            epoch_size (int): Samples in an epoch, over all ranks.
            failed (int, optional): The batch's failures over all ranks; defaults to
                ``len(markers)``.
        """
        for marker in markers:
            if marker.path not in self.logged:
                self.logged[marker.path] = marker.reason
                runner.logger.warning(f'corrupt sample skipped (each file is logged once): {marker.describe()}')
        epoch = runner.epoch
        count = self.per_epoch.get(epoch, 0) + (len(markers) if failed is None else failed)
        self.per_epoch[epoch] = count
        runner.message_hub.update_scalar(SCALAR_KEY, count)
        if count > self.max_corrupt_fraction * max(epoch_size, 1):
            last = f' (last: {markers[-1].describe()})' if markers else ''
            raise CorruptSampleLimitError(
                f'{count} of {epoch_size} samples of training epoch {epoch + 1} failed to load, more than '
                f'max_corrupt_fraction={self.max_corrupt_fraction:g} allows{last}; '
                'list every bad file with tools/misc/verify_dataset.py CONFIG --split train')
