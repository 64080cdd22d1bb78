"""SynthAV's render cache: the same samples as synthesis, rendered once, shared, and loud when broken."""
import multiprocessing
import pickle

import numpy as np
import pytest
from torch.utils.data import DataLoader

from icl_av.datasets import AVDatasetError, SynthAVDataset
from icl_av.datasets.transforms import PackAVInputs
from icl_av.synthav import render_cache

SMALL = dict(num_samples=20, img_size=40, audio_seconds=0.25)


def assert_same_results(expected: dict, actual: dict):
    """Every key of two get_data_info results holds the same value (arrays bit-identical)."""
    assert expected.keys() == actual.keys()
    for key, value in expected.items():
        if key == 'synthav_meta':
            for name, field in value.items():
                assert np.array_equal(np.asarray(field), np.asarray(actual[key][name])), name
        elif isinstance(value, np.ndarray):
            assert value.dtype == actual[key].dtype and np.array_equal(value, actual[key]), key
        else:
            assert value == actual[key], key


@pytest.mark.parametrize('split', ['train', 'test_extended'])
def test_cached_samples_equal_synthesised_ones(tmp_path, split):
    fresh = SynthAVDataset(split=split, **SMALL)
    cached = SynthAVDataset(split=split, cache_dir=str(tmp_path), **SMALL)
    for idx in range(len(fresh)):
        assert_same_results(fresh.get_data_info(idx), cached.get_data_info(idx))
    # analysis access (the bool mask) agrees too
    assert np.array_equal(fresh.get_sample(3).gt_mask, cached._cache.read(3).gt_mask)
    # arrays handed to the pipeline are writable copies, not views of the shared mapping
    info = cached.get_data_info(0)
    info['img'][0, 0] = 0
    info['audio'][0] = 0.0


def test_second_build_reads_the_entry_without_synthesising(tmp_path, monkeypatch):
    SynthAVDataset(cache_dir=str(tmp_path), **SMALL)

    def refuse(*args, **kwargs):
        raise AssertionError('synthesised although the cache holds the split')

    monkeypatch.setattr(render_cache, 'generate_sample', refuse)
    again = SynthAVDataset(cache_dir=str(tmp_path), **SMALL)
    assert again.get_data_info(5)['img'].shape == (40, 40, 3)
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1


def test_every_parameter_and_the_generator_code_name_their_own_entry(tmp_path, monkeypatch):
    SynthAVDataset(cache_dir=str(tmp_path), **SMALL)
    SynthAVDataset(cache_dir=str(tmp_path), **dict(SMALL, img_size=48))
    SynthAVDataset(cache_dir=str(tmp_path), seed=1, **SMALL)
    SynthAVDataset(cache_dir=str(tmp_path), split='val', **SMALL)
    monkeypatch.setattr(render_cache, 'generator_fingerprint', lambda: 'edited generator')
    SynthAVDataset(cache_dir=str(tmp_path), **SMALL)
    entries = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert len(entries) == 5, entries
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.tmp-')]


def test_a_truncated_entry_names_the_file(tmp_path):
    dataset = SynthAVDataset(cache_dir=str(tmp_path), **SMALL)
    frames = dataset._cache.folder / 'frames.npy'
    frames.write_bytes(frames.read_bytes()[:1000])
    with pytest.raises(AVDatasetError, match='frames.npy.*delete'):
        SynthAVDataset(cache_dir=str(tmp_path), **SMALL)


def test_a_foreign_folder_in_the_way_is_reported_not_overwritten(tmp_path):
    dataset = SynthAVDataset(cache_dir=str(tmp_path), **SMALL)
    folder = dataset._cache.folder
    (folder / 'manifest.json').unlink()
    with pytest.raises(AVDatasetError, match='no manifest.json'):
        SynthAVDataset(cache_dir=str(tmp_path), **SMALL)
    assert (folder / 'frames.npy').exists()


def test_an_unusable_cache_dir_is_named(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a folder')
    with pytest.raises(AVDatasetError, match='cannot create cache_dir'):
        SynthAVDataset(cache_dir=str(blocker / 'cache'), **SMALL)


def test_pickled_dataset_maps_the_files_again(tmp_path):
    dataset = SynthAVDataset(cache_dir=str(tmp_path), **SMALL)
    payload = pickle.dumps(dataset)
    assert len(payload) < 100_000  # the frames and waveforms do not travel with it
    clone = pickle.loads(payload)
    assert_same_results(dataset.get_data_info(7), clone.get_data_info(7))


def test_loader_workers_read_the_same_batches(tmp_path):
    pipeline = [PackAVInputs()]
    fresh = SynthAVDataset(pipeline=pipeline, **SMALL)
    cached = SynthAVDataset(pipeline=pipeline, cache_dir=str(tmp_path), **SMALL)
    loader = DataLoader(cached, batch_size=5, num_workers=2, collate_fn=list)
    seen = [item for batch in loader for item in batch]
    assert len(seen) == len(fresh)
    for idx, item in enumerate(seen):
        assert np.array_equal(item['inputs']['img'].numpy(), fresh[idx]['inputs']['img'].numpy())
        assert np.array_equal(item['inputs']['audio'].numpy(), fresh[idx]['inputs']['audio'].numpy())


def _build_in_child(cache_dir, queue):
    dataset = SynthAVDataset(cache_dir=cache_dir, **SMALL)
    queue.put(int(dataset.get_data_info(11)['img'].sum()))


def test_concurrent_builders_share_one_render(tmp_path):
    context = multiprocessing.get_context('fork')
    queue = context.Queue()
    children = [context.Process(target=_build_in_child, args=(str(tmp_path), queue)) for _ in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
        assert child.exitcode == 0
    sums = {queue.get(timeout=10) for _ in children}
    expected = int(SynthAVDataset(**SMALL).get_data_info(11)['img'].sum())
    assert sums == {expected}
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1


def test_a_full_disk_is_reported_before_rendering(tmp_path, monkeypatch):
    import errno
    import os

    def no_space(fd, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(render_cache.os, 'posix_fallocate', no_space, raising=False)
    with pytest.raises(AVDatasetError, match='not enough disk space'):
        SynthAVDataset(cache_dir=str(tmp_path), **SMALL)
    assert not list(tmp_path.glob('.tmp-*')) and not [p for p in tmp_path.iterdir() if p.is_dir()]


def test_losing_the_rename_race_to_another_host_keeps_its_entry(tmp_path, monkeypatch):
    import shutil
    real_rename = render_cache.os.rename

    def other_host_finished_first(src, dst):
        shutil.copytree(src, dst)  # the other host's identical, complete entry
        real_rename(src, dst)  # ours now fails: the destination is not empty

    monkeypatch.setattr(render_cache.os, 'rename', other_host_finished_first)
    dataset = SynthAVDataset(cache_dir=str(tmp_path), **SMALL)
    assert_same_results(SynthAVDataset(**SMALL).get_data_info(2), dataset.get_data_info(2))
    assert not list(tmp_path.glob('.tmp-*'))


def test_the_fingerprint_covers_every_module_the_generator_draws_with():
    import ast
    from pathlib import Path

    # generator.py and every synthav module it imports, directly or through another one, decide the samples.
    folder = Path(render_cache.__file__).parent
    drawn_with, todo = set(), ['generator']
    while todo:
        name = todo.pop()
        drawn_with.add(name)
        tree = ast.parse((folder / f'{name}.py').read_text(encoding='utf-8'))
        todo += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1
                 and node.module and node.module not in drawn_with]
    assert {'scene_layout', 'scene_render', 'sounds', 'classes'} <= drawn_with
    hashed = set(render_cache.generator_fingerprint.__code__.co_names)
    assert drawn_with <= hashed, f'not in generator_fingerprint: {sorted(drawn_with - hashed)}'
