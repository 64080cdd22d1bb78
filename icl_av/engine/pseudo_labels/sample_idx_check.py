"""Fail before training when a pipeline would drop ``sample_idx``, the pseudo-label bank's key.

The bank is indexed by each sample's ``metainfo['sample_idx']``: the refresh writes by it
and the loss reads by it. ``PackAVInputs`` copies only its ``meta_keys`` into the
metainfo, so a config that narrows them without ``sample_idx`` would otherwise train a
whole ICL round and fail at its end. This check reads the pipeline configs (or built
transforms) instead, before the first epoch.
"""
from typing import Any, Iterator, Mapping, Sequence

from icl_av.datasets.transforms.formatting import DEFAULT_META_KEYS

#: The key every pipeline feeding the ICL iteration must keep.
REQUIRED_META_KEY = 'sample_idx'


def _type_name(transform: Any) -> str:
    """``'PackAVInputs'`` for a config dict (scope prefix dropped) or a built transform."""
    if isinstance(transform, Mapping):
        name = transform.get('type', '')
        name = name if isinstance(name, str) else getattr(name, '__name__', '')
        return name.split('.')[-1]
    return type(transform).__name__


def _meta_keys(transform: Any) -> Sequence[str]:
    if isinstance(transform, Mapping):
        return tuple(transform.get('meta_keys', DEFAULT_META_KEYS))
    return tuple(getattr(transform, 'meta_keys', DEFAULT_META_KEYS))


def _pipelines(dataset: Any) -> Iterator[Sequence]:
    """Every pipeline of a dataset config or built dataset, wrappers (``dataset(s)``) included."""
    if isinstance(dataset, Mapping):
        if dataset.get('pipeline') is not None:
            yield list(dataset['pipeline'])
        inner = [dataset.get('dataset')] + list(dataset.get('datasets') or [])
    else:
        pipeline = getattr(dataset, 'pipeline', None)
        if pipeline is not None:
            yield list(getattr(pipeline, 'transforms', pipeline))
        inner = [getattr(dataset, 'dataset', None)] + list(getattr(dataset, 'datasets', None) or [])
    for child in inner:
        if child is not None:
            yield from _pipelines(child)


def check_keeps_sample_idx(dataset: Any, what: str) -> None:
    """Raise if a ``PackAVInputs`` of the dataset's pipeline(s) leaves ``sample_idx`` out.

    Pipelines without ``PackAVInputs`` (a custom packer) are not judged.

    Args:
        dataset (dict | Dataset): A dataset config or a built dataset.
        what (str): Which loader it feeds, for the message (e.g. ``'train_dataloader'``).

    Raises:
        ValueError: One line naming the loader and the fix.
    """
    for pipeline in _pipelines(dataset):
        for transform in pipeline:
            if _type_name(transform) == 'PackAVInputs' and REQUIRED_META_KEY not in _meta_keys(transform):
                raise ValueError(
                    f"{what}: PackAVInputs meta_keys {list(_meta_keys(transform))} lack '{REQUIRED_META_KEY}', "
                    "the pseudo-label bank's key; add it to meta_keys (see docs/contracts.md)")
