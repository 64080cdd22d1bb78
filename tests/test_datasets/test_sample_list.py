"""One sample list for every rank: sample IDs, their digest, and the check that stops ranks that disagree.

The two-process test runs a gloo group on CPU. Each rank builds an ``AVFramesDataset``
over its own copy of a folder; on rank 1 one audio file is missing, so ``on_missing='skip'``
drops that clip there only, as when files vanish while the ranks read a shared folder.
Both ranks must stop with the same one-line error naming the ranks and the first differing IDs.
With ``on_missing='error'`` rank 1's build raises; rank 0 must stop too, naming rank 1.
"""
import os
import os.path as osp

import pytest
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from av_test_media import write_image, write_wav
from process_groups import init_gloo, rendezvous_url
from mmengine.dataset import BaseDataset

from icl_av.datasets.errors import AVDatasetError
from icl_av.datasets.sample_list import (check_ranks_agree_on_samples, describe_disagreement, digest_of,
                                         sample_id, sample_ids, sample_list_digest)
from icl_av.registry import DATASETS

IDS = ('a', 'b', 'c', 'd')
PIPELINE = [dict(type='LoadAVFrame'), dict(type='LoadAudio', sample_rate=8000), dict(type='PackAVInputs')]


def make_root(root, ids=IDS):
    """frames/ID.jpg, audio/ID.wav and train.txt listing ``ids``."""
    for index, video_id in enumerate(ids):
        write_image(osp.join(root, 'frames', f'{video_id}.jpg'), 16, 16, seed=index)
        write_wav(osp.join(root, 'audio', f'{video_id}.wav'), seconds=0.2, rate=8000, freq=200 + 100 * index)
    with open(osp.join(root, 'train.txt'), 'w') as handle:
        handle.write('\n'.join(ids) + '\n')
    return str(root)


def build(root, **kwargs):
    return DATASETS.build(dict(type='AVFramesDataset', data_root=str(root), ann_file='train.txt',
                               pipeline=PIPELINE, **kwargs))


class ListedDataset(BaseDataset):
    """A dataset of the given entries, for the ID helpers."""

    def __init__(self, entries, **kwargs):
        self.entries = entries
        super().__init__(**kwargs)

    def load_data_list(self):
        return [dict(entry) for entry in self.entries]


# ---------------------------------------------------------------- IDs and digests
def test_a_sample_id_names_the_clip_its_audio_and_a_fixed_frame():
    assert sample_id(dict(video_id='v')) == 'v'
    assert sample_id(dict(video_id='v', audio_id='v')) == 'v'
    assert sample_id(dict(video_id='v', audio_id='w', frame_index=3)) == 'v|audio=w|frame=3'
    assert sample_id(dict(img_path='x.jpg')) is None


def test_the_digest_depends_on_every_id_and_their_order():
    assert digest_of(['a', 'b']) == digest_of(['a', 'b'])
    assert len({digest_of(['a', 'b']), digest_of(['b', 'a']), digest_of(['a']), digest_of(['a', 'b', ''])}) == 4


def test_ids_and_digest_of_a_built_dataset_follow_its_sample_idx_order(tmp_path):
    dataset = build(make_root(tmp_path))
    assert sample_ids(dataset) == list(IDS)
    assert sample_list_digest(dataset) == digest_of(IDS)
    assert sample_ids(ListedDataset([dict(video_id='x'), dict(other=1)])) is None  # unnamed entry
    assert sample_list_digest([1, 2]) is None  # not an MMEngine dataset


def test_a_skipped_file_changes_the_list_and_its_digest(tmp_path):
    complete = build(make_root(tmp_path / 'complete'))
    partial_root = make_root(tmp_path / 'partial')
    os.remove(osp.join(partial_root, 'audio', 'b.wav'))
    partial = build(partial_root)  # on_missing='skip' (training default)
    assert sample_ids(partial) == ['a', 'c', 'd']
    assert sample_list_digest(partial) != sample_list_digest(complete)


def test_without_a_process_group_the_check_does_nothing():
    check_ranks_agree_on_samples(ListedDataset([dict(other=1)]))  # would fail inside a group of 2


def test_the_disagreement_is_one_line_naming_ranks_lengths_and_first_differing_ids():
    full, short = ['a', 'b', 'c'], ['a', 'c']
    summaries = [(3, 'x'), (2, 'y'), (3, 'x')]
    groups = {(3, 'x'): [0, 2], (2, 'y'): [1]}
    message = describe_disagreement('AVFramesDataset(train.txt)', summaries, groups, [full, short, None])
    assert '\n' not in message
    assert message.startswith('AVFramesDataset(train.txt): the ranks built different sample lists '
                              '(ranks 0, 2: 3 samples; rank 1: 2 samples)')
    assert "at position 1 ranks 0, 2 have 'b' and rank 1 has 'c'" in message
    prefix = describe_disagreement('D', [(1, 'p'), (2, 'q')], {(1, 'p'): [0], (2, 'q'): [1]}, [['a'], ['a', 'b']])
    assert "at position 1 rank 0 has '<end of list>' and rank 1 has 'b'" in prefix


# ---------------------------------------------------------------- two ranks, two views of the files
def _worker(rank: int, world_size: int, url: str, out_dir: str) -> None:
    """Build the same folder (must pass), then this rank's own copy (rank 1 lacks b.wav) skipping and
    refusing missing files; write the outcomes."""
    init_gloo(rank, world_size, url)
    try:
        outcome = []
        shared = build(osp.join(out_dir, 'shared'))
        outcome.append(f'agreed {len(shared)}')
        for on_missing in ('skip', 'error'):
            try:
                build(osp.join(out_dir, f'rank{rank}'), on_missing=on_missing)
                outcome.append('built')
            except AVDatasetError as error:
                outcome.append(f'error {error}'.replace('\n', ' | '))
        with open(osp.join(out_dir, f'outcome{rank}.txt'), 'w') as handle:
            handle.write('\n'.join(outcome))
    finally:
        torch_dist.destroy_process_group()


def test_ranks_that_see_different_files_stop_with_one_line_naming_the_first_differing_ids(tmp_path):
    make_root(tmp_path / 'shared')
    for rank in (0, 1):
        make_root(tmp_path / f'rank{rank}')
    os.remove(tmp_path / 'rank1' / 'audio' / 'b.wav')  # rank 1 skips 'b'

    mp.spawn(_worker, args=(2, rendezvous_url(), str(tmp_path)), nprocs=2, join=True)
    outcomes = [(tmp_path / f'outcome{rank}.txt').read_text().split('\n') for rank in (0, 1)]
    for rank, (agreed, error, refused) in enumerate(outcomes):
        assert agreed == 'agreed 4'  # the same files on both ranks: no complaint
        assert error.startswith(f"error AVFramesDataset(train.txt, data_root='{tmp_path / f'rank{rank}'}'): "
                                'the ranks built different sample lists (rank 0: 4 samples; rank 1: 3 samples); '
                                "first difference: at position 1 rank 0 has 'b' and rank 1 has 'c'."), error
    # on_missing='error': rank 1 raises its own report, rank 0 does not wait for it.
    assert outcomes[1][2].startswith('error AVFramesDataset(train.txt') and 'missing audio file' in outcomes[1][2]
    assert outcomes[0][2].startswith(f"error AVFramesDataset(train.txt, data_root='{tmp_path / 'rank0'}'): rank 1 "
                                     'could not build the sample list, so this rank stops too (the full report is '
                                     'in the log of rank 1): AVDatasetError: ')


@pytest.mark.parametrize('lazy', [False, True])
def test_a_dataset_builds_and_checks_once(tmp_path, monkeypatch, lazy):
    """``full_init`` calls the check once, after the list is built, also for a lazily built dataset."""
    import icl_av.datasets.base_av_dataset as module
    calls = []
    monkeypatch.setattr(module, 'check_ranks_agree_on_samples', lambda dataset, name: calls.append((len(dataset),
                                                                                                   name)))
    dataset = build(make_root(tmp_path), lazy_init=lazy)
    assert calls == ([] if lazy else [(4, dataset._name())])
    dataset.full_init()
    dataset.full_init()
    assert calls == [(4, dataset._name())]
