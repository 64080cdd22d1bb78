"""The corrupt-sample policy's data side: a marker for a sample that failed to load, and the collate that carries it.

With ``on_corrupt='skip'`` (the training default, see :class:`BaseAVDataset`) a sample whose
files fail to decode is returned as a :class:`CorruptSample` marker instead of raising.
Loader workers are separate processes, so nothing is counted there: the marker travels
with its batch to the main process. :func:`corrupt_aware_collate` keeps the real samples
(collated as MMEngine's ``pseudo_collate`` does) and passes the markers along under the
batch's ``'corrupt'`` key; the sample is *dropped* from its batch, never replaced by
another one. :class:`icl_av.engine.hooks.CorruptSampleHook` counts and logs the markers,
skips batches left without any sample and stops a run that rots.
"""
from dataclasses import dataclass
from typing import Any, List, Sequence

from mmengine.dataset import pseudo_collate
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
                        f"({self.describe()}); set collate_fn=dict(type='corrupt_aware_collate') in the dataloader "
                        "config, or on_corrupt='error' in its dataset")


def split_corrupt(batch: Sequence[Any]):
    """``(real samples, corrupt markers)`` of a list of dataset items, order kept."""
    real = [item for item in batch if not isinstance(item, CorruptSample)]
    corrupt = [item for item in batch if isinstance(item, CorruptSample)]
    return real, corrupt


@FUNCTIONS.register_module(force=True)
def corrupt_aware_collate(data_batch: Sequence[Any]) -> Any:
    """Collate like ``pseudo_collate``, dropping :class:`CorruptSample` markers into ``batch['corrupt']``.

    Use as ``collate_fn=dict(type='corrupt_aware_collate')`` in a dataloader config.

    Returns:
        The ``pseudo_collate`` of the real samples (a dict ``{'inputs', 'data_samples'}``
        for icl_av's pipelines) with the markers (possibly none) under ``'corrupt'``. A batch
        where every sample failed is ``{'inputs': {}, 'data_samples': [], 'corrupt': [...]}``.
    """
    real, corrupt = split_corrupt(data_batch)
    if not real:
        return {'inputs': {}, 'data_samples': [], CORRUPT_KEY: corrupt}
    batch = pseudo_collate(real)
    if not isinstance(batch, dict):
        if corrupt:
            raise TypeError('corrupt_aware_collate needs dict samples (PackAVInputs) to carry the corrupt-sample '
                            f'markers; got {type(real[0]).__name__}')
        return batch
    batch[CORRUPT_KEY] = corrupt
    return batch


def corrupt_in(data_batch: Any) -> List[CorruptSample]:
    """The markers a collated batch carries (none for batches of other collates)."""
    if isinstance(data_batch, dict):
        return list(data_batch.get(CORRUPT_KEY) or [])
    return []


def has_samples(data_batch: Any) -> bool:
    """False for a batch in which every sample failed to load."""
    return not (isinstance(data_batch, dict) and CORRUPT_KEY in data_batch and not data_batch.get('data_samples'))
