"""Count, log and bound the training samples whose files failed to load; skip batches left empty.

Why: in a web-scraped corpus (VGG-Sound is downloaded from YouTube by every user) a share of
the files is always broken, and a truncated JPEG met in epoch 12 must not kill the run. With
``on_corrupt='skip'`` the dataset returns a :class:`~icl_av.datasets.CorruptSample` marker for
such a sample and :func:`~icl_av.datasets.corrupt_aware_collate` drops it from its batch
(it is never replaced). Loader workers are separate processes, so the counting happens here,
in the main process, on the markers each batch carries.
"""
from typing import Dict, List

from mmengine.hooks import Hook

from icl_av.datasets.corrupt_samples import CorruptSample, corrupt_in, has_samples
from icl_av.datasets.errors import CorruptSampleLimitError
from icl_av.registry import HOOKS

CHECKPOINT_KEY = 'corrupt_samples'
SCALAR_KEY = 'train/corrupt_samples'


class CorruptSkippingLoader:
    """The training dataloader as the loop sees it: reports each batch's markers, skips batches without samples.

    Everything else (``sampler``, ``dataset``, ``batch_size``, ``len``, ...) is the wrapped
    loader's, so samplers' ``set_epoch`` and the loop's length still work.

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
        size = self.epoch_size()
        for batch in self.loader:
            markers = corrupt_in(batch)
            if markers:
                self.hook.record(self.runner, markers, size)
            if not has_samples(batch):
                self.runner.logger.warning(f'CorruptSampleHook: skipped a batch in which all {len(markers)} samples '
                                           'failed to load')
                continue
            yield batch


@HOOKS.register_module()
class CorruptSampleHook(Hook):
    """The training side of the corrupt-sample policy.

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

    Under distributed training each rank counts its own shard against its own share.

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
            loop.dataloader = CorruptSkippingLoader(loop.dataloader, self, runner)

    def before_train_epoch(self, runner) -> None:
        self.per_epoch[runner.epoch] = 0
        runner.message_hub.update_scalar(SCALAR_KEY, 0)

    def after_train_epoch(self, runner) -> None:
        count = self.per_epoch.get(runner.epoch, 0)
        if count:
            size = runner.train_loop.dataloader.epoch_size() if isinstance(
                runner.train_loop.dataloader, CorruptSkippingLoader) else '?'
            runner.logger.warning(f'CorruptSampleHook: epoch {runner.epoch + 1}: {count} of {size} samples failed '
                                  f'to load and were skipped ({len(self.logged)} distinct corrupt files so far)')

    # ---- called by the loader wrapper --------------------------------------------------------
    def record(self, runner, markers: List[CorruptSample], epoch_size: int) -> None:
        """Log new corrupt files, count the epoch's markers and enforce the limit."""
        for marker in markers:
            if marker.path not in self.logged:
                self.logged[marker.path] = marker.reason
                runner.logger.warning(f'corrupt sample skipped (each file is logged once): {marker.describe()}')
        epoch = runner.epoch
        count = self.per_epoch.get(epoch, 0) + len(markers)
        self.per_epoch[epoch] = count
        runner.message_hub.update_scalar(SCALAR_KEY, count)
        if count > self.max_corrupt_fraction * max(epoch_size, 1):
            raise CorruptSampleLimitError(
                f'{count} of {epoch_size} samples of training epoch {epoch + 1} failed to load, more than '
                f'max_corrupt_fraction={self.max_corrupt_fraction:g} allows (last: {markers[-1].describe()}); '
                'list every bad file with tools/misc/verify_dataset.py CONFIG --split train')
