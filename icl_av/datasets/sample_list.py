"""One sample list for every rank: a built dataset's sample IDs, their digest and the cross-rank check.

``sample_idx`` is a *position* in a dataset's list: the distributed sampler shards by it and
per-sample state (the pseudo-label bank) is indexed by it. Every rank builds its own list
from disk, so files that appear or vanish while the ranks read the folders (an extraction
still running, an NFS cache catching up) can give ranks different lists. Left alone, DDP
then hangs at the end of an epoch (the ranks count different batches) or a rank's
``sample_idx`` names another clip than on the others, with no error at all.

:func:`check_ranks_agree_on_samples` stops such a run before its first step:
each rank hashes its list (:func:`sample_list_digest`), the ``(length, digest)`` pairs are
all-gathered and, when they differ, one line names the ranks, their lengths and the first
differing IDs. A rank whose build raised joins the same exchange
(:func:`report_failed_build`) before raising, so the others stop with a line naming it
instead of waiting for it until the collective timeout.
:class:`~icl_av.datasets.BaseAVDataset` calls both from ``full_init``.
The same digest is the fingerprint of a list: a pseudo-label bank records the one it was
written for, so labels made on another list are never read by position.
"""
import hashlib
from typing import Any, Dict, List, Mapping, Optional, Sequence

import torch
from mmengine import dist
from mmengine.dataset import BaseDataset

from .errors import AVDatasetError

#: Shown for a position past the end of a shorter list.
END_OF_LIST = '<end of list>'
#: First item of the summary a rank sends when its build failed.
_FAILED = 'failed'


def sample_id(info: Mapping) -> Optional[str]:
    """A data-list entry's identity: ``video_id``, plus the audio and the frame when they are fixed.

    Two entries with the same ID load the same clip: ``'vid'``, ``'vid|audio=other'`` for a
    frame paired with another clip's audio, ``'vid|frame=12'`` for a fixed frame.

    Returns:
        str | None: ``None`` when the entry has no ``video_id``.
    """
    video_id = info.get('video_id')
    if video_id is None:
        return None
    text = str(video_id)
    audio_id = info.get('audio_id')
    if audio_id is not None and audio_id != video_id:
        text += f'|audio={audio_id}'
    if info.get('frame_index') is not None:
        text += f'|frame={info["frame_index"]}'
    return text


def sample_ids(dataset: Any) -> Optional[List[str]]:
    """The IDs of a built dataset's entries in ``sample_idx`` order (see :func:`sample_id`).

    Reads the stored entries (:meth:`mmengine.dataset.BaseDataset.get_data_info` of the base
    class, so no subclass resolves frames or synthesises media on the way).

    Returns:
        list[str] | None: ``None`` when the dataset is not an MMEngine ``BaseDataset`` or
        an entry has no ``video_id``: its list cannot be named.
    """
    if not isinstance(dataset, BaseDataset):
        return None
    dataset.full_init()
    ids = []
    for idx in range(len(dataset)):
        identity = sample_id(BaseDataset.get_data_info(dataset, idx))
        if identity is None:
            return None
        ids.append(identity)
    return ids


def digest_of(ids: Sequence[str]) -> str:
    """SHA-256 (hex) of IDs in order; the length counts, so a list and its prefix differ."""
    hasher = hashlib.sha256(f'{len(ids)}\n'.encode())
    for identity in ids:
        hasher.update(identity.encode('utf-8', 'surrogatepass'))
        hasher.update(b'\n')
    return hasher.hexdigest()


def sample_list_digest(dataset: Any) -> Optional[str]:
    """The fingerprint of a built dataset's list: :func:`digest_of` its :func:`sample_ids`.

    Computed once per dataset object (the list of a built dataset does not change) and
    shared by its shallow copies, which read the same list.

    Returns:
        str | None: 64 hex digits, or ``None`` when the list cannot be named.
    """
    cached = getattr(dataset, '_sample_list_digest', None)
    if cached is not None:
        return cached
    ids = sample_ids(dataset)
    if ids is None:
        return None
    digest = digest_of(ids)
    try:
        dataset._sample_list_digest = digest
    except AttributeError:  # a dataset with __slots__: recompute next time
        pass
    return digest


def dataset_name(dataset: Any) -> str:
    """``Type(ann_file, data_root=...)`` for messages (what the dataset offers of it)."""
    parts = [repr(value) for value in (getattr(dataset, 'ann_file', None),) if value]
    if getattr(dataset, 'data_root', None):
        parts.append(f'data_root={dataset.data_root!r}')
    return f'{type(dataset).__name__}({", ".join(parts)})'


def check_ranks_agree_on_samples(dataset: Any, name: Optional[str] = None) -> None:
    """Raise on every rank unless all ranks built the same sample list (IDs, order, length).

    Nothing happens outside a process group of two or more ranks. Every rank of the group
    must call it for the same dataset (collective calls), as MMEngine's ``Runner`` builds
    each loader's dataset on every rank.

    Args:
        dataset: A built dataset whose entries have a ``video_id`` (see :func:`sample_ids`).
        name (str, optional): How messages name the dataset; defaults to its type, annotation
            file and data root.

    Raises:
        AVDatasetError: The lists differ: one line naming the dataset, each group of ranks
            with its length and the first differing IDs. Also when the dataset's entries
            have no IDs to compare.
    """
    if not _in_group():
        return
    name = name or dataset_name(dataset)
    ids = sample_ids(dataset)
    summary = None if ids is None else (len(ids), sample_list_digest(dataset))
    summaries = dist.all_gather_object(summary)
    failed = [rank for rank, item in enumerate(summaries) if isinstance(item, tuple) and item[0] == _FAILED]
    if failed:
        raise AVDatasetError(f'{name}: {_ranks(failed)} could not build the sample list, so this rank stops too '
                             f'(the full report is in the log of {_ranks(failed[:1])}): {summaries[failed[0]][1]}')
    if any(item is None for item in summaries):
        unnamed = [rank for rank, item in enumerate(summaries) if item is None]
        raise AVDatasetError(f'{name}: cannot check that the ranks built the same sample list: the entries on '
                             f'{_ranks(unnamed)} have no video_id (or the dataset is not an MMEngine BaseDataset)')
    if len(set(summaries)) == 1:
        return
    groups: Dict[Any, List[int]] = {}
    for rank, item in enumerate(summaries):
        groups.setdefault(item, []).append(rank)
    representatives = {ranks[0] for ranks in groups.values()}
    # Only one rank of each group sends its IDs: the lists are large, the groups few.
    lists = dist.all_gather_object(ids if dist.get_rank() in representatives else None)
    raise AVDatasetError(describe_disagreement(name, summaries, groups, lists))


def report_failed_build(error: BaseException) -> None:
    """Tell the other ranks that this rank's build raised ``error`` (then the caller re-raises it).

    The counterpart of :func:`check_ranks_agree_on_samples` on a rank that has no list:
    it takes part in the same collective call, so the ranks that built theirs stop with a
    line naming this rank and the first line of its error, instead of waiting for it.
    Nothing happens outside a process group of two or more ranks.
    """
    if _in_group():
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        dist.all_gather_object((_FAILED, f'{type(error).__name__}: {first_line}'))


def describe_disagreement(name: str, summaries: Sequence, groups: Mapping[Any, List[int]],
                          lists: Sequence[Optional[List[str]]]) -> str:
    """The one-line message of :func:`check_ranks_agree_on_samples` (every rank builds the same).

    Args:
        name (str): The dataset, as messages name it.
        summaries (list): ``(length, digest)`` of each rank.
        groups (dict): ``{(length, digest): ranks}`` in order of first rank.
        lists (list): Each rank's IDs; present for the first rank of each group.
    """
    reference_ranks = groups[summaries[0]]
    reference = lists[reference_ranks[0]]
    counts = '; '.join(f'{_ranks(ranks)}: {length} samples' for (length, _), ranks in groups.items())
    differences = []
    for ranks in list(groups.values())[1:]:
        other = lists[ranks[0]]
        position = _first_difference(reference, other)
        differences.append(f'at position {position} {_ranks(reference_ranks)} '
                           f'{"have" if len(reference_ranks) > 1 else "has"} {_at(reference, position)!r} and '
                           f'{_ranks(ranks)} {"have" if len(ranks) > 1 else "has"} {_at(other, position)!r}')
    return (f'{name}: the ranks built different sample lists ({counts}); first difference: '
            f'{"; ".join(differences)}. The ranks read different files (an extraction or copy still running, a '
            'network file system catching up, per-node copies that differ); every rank must list the same '
            'samples in the same order: wait until the data is complete and identical everywhere, then start '
            'again')


def _first_difference(first: Sequence[str], second: Sequence[str]) -> int:
    """The first position where two lists differ (the shorter length when one is a prefix)."""
    for position, (left, right) in enumerate(zip(first, second)):
        if left != right:
            return position
    return min(len(first), len(second))


def _at(ids: Sequence[str], position: int) -> str:
    return ids[position] if position < len(ids) else END_OF_LIST


def _ranks(ranks: Sequence[int]) -> str:
    return f'rank {ranks[0]}' if len(ranks) == 1 else 'ranks ' + ', '.join(str(rank) for rank in ranks)


def _in_group() -> bool:
    """Whether a process group of two or more ranks is up."""
    return dist.is_distributed() and dist.get_world_size() > 1


def in_loader_worker() -> bool:
    """Whether this code runs in a PyTorch DataLoader worker (which must not join collectives)."""
    return torch.utils.data.get_worker_info() is not None
