"""The corrupt-sample policy's data side: a marker for a sample that failed to load, and the collates that carry it.

With ``on_corrupt='skip'`` (the training default, see :class:`BaseAVDataset`) a sample whose
files fail to decode is returned as a :class:`CorruptSample` marker instead of raising.
Loader workers are separate processes, so nothing is counted there: the marker travels
with its batch to the main process, under the batch's ``'corrupt'`` key; the sample is
*dropped* from its batch, never replaced by another one.

Two ways put the markers there. :func:`corrupt_aware_collate` (a config's
``collate_fn=dict(type='corrupt_aware_collate')``) collates the real samples as MMEngine's
``pseudo_collate`` does and stacks their input tensors into batch tensors, in the loader
worker (:func:`stack_inputs`). :class:`CorruptDroppingCollate` wraps *any* collate function so it
only ever sees real samples; :class:`icl_av.engine.hooks.CorruptSampleHook` puts it around the
training loader's collate, whatever the config names (``pseudo_collate``, ``default_collate``,
a custom one), so the policy does not hang on a config line. The hook counts and logs the
markers, skips batches left without any sample and stops a run that rots.
"""
from dataclasses import dataclass
from typing import Any, Callable, List, Sequence

import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import get_worker_info
from mmengine.registry import FUNCTIONS

CORRUPT_KEY = 'corrupt'


@dataclass(frozen=True)
class CorruptSample:
    """Stands in for a sample whose files could not be decoded.

    Attributes:
        sample_idx (int): The sample's index in the dataset.
        video_id (str): Its ID from the split list.
        path (str): The file that failed.
        reason (str): Why, in words (the :class:`AVLoadError` reason).
    """
    sample_idx: int
    video_id: str
    path: str
    reason: str

    def describe(self) -> str:
        """One line for the log: the file, the reason and the sample."""
        return f'{self.path}: {self.reason} (sample {self.sample_idx}, video_id={self.video_id!r})'

    def __getitem__(self, key):
        # MMEngine's pseudo_collate indexes every sample like the first one; say what is missing instead of
        # "'CorruptSample' object is not subscriptable".
        raise TypeError('a corrupt-sample marker reached a collate function that does not know it '
                        f"({self.describe()}); a training loader drops markers before any collate when "
                        "default_hooks has CorruptSampleHook; other loaders need "
                        "collate_fn=dict(type='corrupt_aware_collate') or on_corrupt='error' in their dataset")


def split_corrupt(batch: Sequence[Any]):
    """``(real samples, corrupt markers)`` of a list of dataset items, order kept."""
    real = [item for item in batch if not isinstance(item, CorruptSample)]
    corrupt = [item for item in batch if isinstance(item, CorruptSample)]
    return real, corrupt


def _stack_in_shared_memory(items: Sequence[torch.Tensor]) -> torch.Tensor:
    """``torch.stack(items)``; inside a loader worker, written straight into shared memory.

    A worker hands its batch to the main process through shared memory: allocating the
    stacked tensor there (as torch's ``default_collate`` does) saves one more copy of it.
    """
    first = items[0]
    if get_worker_info() is None:
        return torch.stack(list(items))
    storage = first._typed_storage()._new_shared(len(items) * first.numel(), device=first.device)
    out = first.new(storage).resize_(len(items), *first.shape)
    return torch.stack(list(items), out=out)


def stack_inputs(batch: Any) -> Any:
    """Stack each list of same-shape, same-dtype tensors in ``batch['inputs']`` into one ``B×...`` tensor.

    Stacking in the loader workers (where the collate runs) takes the copy off the main
    process, lets the pin-memory thread pin one tensor per input instead of one per sample,
    and gives the data preprocessor a batch it copies to the GPU asynchronously. Lists
    whose tensors differ in shape (audio clips of different lengths, frames without a
    resize) stay lists: the data preprocessor pads or rejects them. The values
    are unchanged. Anything that is not such a dict is returned as is.
    """
    inputs = batch.get('inputs') if isinstance(batch, dict) else None
    if not isinstance(inputs, dict):
        return batch
    for key, items in inputs.items():
        if not isinstance(items, (list, tuple)) or not items or not all(isinstance(t, torch.Tensor) for t in items):
            continue
        first = items[0]
        if all(t.shape == first.shape and t.dtype == first.dtype and t.device == first.device for t in items):
            inputs[key] = _stack_in_shared_memory(items)
    return batch


@FUNCTIONS.register_module(force=True)
def corrupt_aware_collate(data_batch: Sequence[Any], stack: bool = True) -> Any:
    """Collate like ``pseudo_collate``, dropping :class:`CorruptSample` markers into ``batch['corrupt']``.

    Use as ``collate_fn=dict(type='corrupt_aware_collate')`` in a dataloader config
    (``dict(type='corrupt_aware_collate', stack=False)`` keeps per-sample lists).

    Args:
        data_batch (Sequence): The dataset items of one batch (packed samples and markers).
        stack (bool): Stack the inputs of equal shape into batch tensors
            (:func:`stack_inputs`). Default True.

    Returns:
        The ``pseudo_collate`` of the real samples (a dict ``{'inputs', 'data_samples'}``
        for icl_av's pipelines, ``inputs`` stacked) with the markers (possibly none) under
        ``'corrupt'``. A batch where every sample failed is
        ``{'inputs': {}, 'data_samples': [], 'corrupt': [...]}``.
    """
    real, corrupt = split_corrupt(data_batch)
    if not real:
        return _empty_batch(corrupt)
    batch = pseudo_collate(real)
    if not isinstance(batch, dict):
        if corrupt:
            raise TypeError('corrupt_aware_collate needs dict samples (PackAVInputs) to carry the corrupt-sample '
                            f'markers; got {type(real[0]).__name__}')
        return batch
    if stack:
        stack_inputs(batch)
    batch[CORRUPT_KEY] = corrupt
    return batch


def _empty_batch(corrupt: List[CorruptSample]) -> dict:
    """The batch of a draw in which every sample failed: no inputs, no samples, the markers."""
    return {'inputs': {}, 'data_samples': [], CORRUPT_KEY: corrupt}


class MarkedBatch:
    """A collate result that is not a dict, with the markers of its batch's failed samples.

    Only :class:`CorruptDroppingCollate` makes these, for a collate function whose result has
    no room for a ``'corrupt'`` key; :class:`icl_av.engine.hooks.CorruptSampleHook`'s loader
    hands the training loop ``batch`` alone (:func:`without_markers`).
    """

    __slots__ = ('batch', 'corrupt')

    def __init__(self, batch: Any, corrupt: List[CorruptSample]):
        self.batch = batch
        self.corrupt = list(corrupt)

    def pin_memory(self) -> 'MarkedBatch':
        """Pin the batch's tensors (the loader's pin-memory thread calls this), keep the markers."""
        from torch.utils.data._utils.pin_memory import pin_memory
        return MarkedBatch(None if self.batch is None else pin_memory(self.batch), self.corrupt)

    def __reduce__(self):
        return MarkedBatch, (self.batch, self.corrupt)


class CorruptDroppingCollate:
    """Any collate function, seeing only the samples that loaded; the markers ride along with the batch.

    Runs in the loader workers. A batch with real samples is ``collate_fn(real samples)`` with
    the markers (possibly none) added under ``'corrupt'``; a batch in which every sample failed
    is ``{'inputs': {}, 'data_samples': [], 'corrupt': [...]}`` (``collate_fn`` is not called
    with nothing to collate). A collate result that is not a dict comes as a
    :class:`MarkedBatch`. Picklable when ``collate_fn`` is (loader workers may be spawned).

    Args:
        collate_fn (callable): The loader's collate function (e.g. MMEngine's
            ``pseudo_collate`` or ``default_collate``, or :func:`corrupt_aware_collate`).
    """

    def __init__(self, collate_fn: Callable[[Sequence[Any]], Any]):
        if isinstance(collate_fn, CorruptDroppingCollate):
            collate_fn = collate_fn.collate_fn
        self.collate_fn = collate_fn

    def __call__(self, data_batch: Sequence[Any]) -> Any:
        real, corrupt = split_corrupt(data_batch)
        if not real:
            return _empty_batch(corrupt)
        batch = self.collate_fn(real)
        if isinstance(batch, dict):
            batch[CORRUPT_KEY] = list(batch.get(CORRUPT_KEY) or []) + corrupt
            return batch
        return MarkedBatch(batch, corrupt) if corrupt else batch

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.collate_fn!r})'


def corrupt_in(data_batch: Any) -> List[CorruptSample]:
    """The markers a collated batch carries (none for batches of other collates)."""
    if isinstance(data_batch, dict):
        return list(data_batch.get(CORRUPT_KEY) or [])
    if isinstance(data_batch, MarkedBatch):
        return list(data_batch.corrupt)
    if isinstance(data_batch, CorruptSample):  # a loader without batching (batch_size=None) yields samples
        return [data_batch]
    return []


def has_samples(data_batch: Any) -> bool:
    """False for a batch in which every sample failed to load."""
    if isinstance(data_batch, MarkedBatch):
        return data_batch.batch is not None
    if isinstance(data_batch, CorruptSample):
        return False
    return not (isinstance(data_batch, dict) and CORRUPT_KEY in data_batch and not data_batch.get('data_samples'))


def without_markers(data_batch: Any) -> Any:
    """The batch as a model takes it: a :class:`MarkedBatch`'s own batch, anything else as is."""
    return data_batch.batch if isinstance(data_batch, MarkedBatch) else data_batch
