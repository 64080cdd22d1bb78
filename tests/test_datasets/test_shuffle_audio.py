"""The audio-swap control (``shuffle_audio``): a seeded derangement of the audio, ground truth kept."""
import json
import os

import numpy as np
import pytest
import torch

from icl_av.datasets.errors import AVDatasetError
from icl_av.registry import DATASETS

IDS = ('a', 'b', 'c', 'd', 'e', 'f')


def _build(root, pipeline, **kwargs):
    cfg = dict(type='AVFramesDataset', data_root=str(root), ann_file='test.txt', pipeline=pipeline, test_mode=True)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def _infos(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def _pairing(dataset):
    """video_id -> audio file stem actually used."""
    return {i['video_id']: os.path.splitext(os.path.basename(i['audio_path']))[0] for i in _infos(dataset)}


def test_every_frame_gets_another_samples_audio_each_audio_once(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=IDS)
    plain = _build(root, av_media.base_pipeline())
    swapped = _build(root, av_media.base_pipeline(), shuffle_audio=0)
    own = {i['video_id']: i['audio_path'] for i in _infos(plain)}
    infos = _infos(swapped)
    assert [i['video_id'] for i in infos] == list(IDS)  # frames keep their order and identity
    for info in infos:
        assert info['audio_path'] != own[info['video_id']]
        assert info['audio_id'] != info['video_id']
        assert info['audio_path'] == own[info['audio_id']]  # audio_id names the file really used
        assert info['img_path'].endswith(f"frames/{info['video_id']}.jpg")
    assert sorted(i['audio_path'] for i in infos) == sorted(own.values())  # a permutation: each audio once
    # the pairing is a single cycle (follow video -> donor from 'a': all samples visited before returning)
    donor = {i['video_id']: i['audio_id'] for i in infos}
    seen, current = [], 'a'
    while current not in seen:
        seen.append(current)
        current = donor[current]
    assert len(seen) == len(IDS)
    # plain datasets are untouched: no audio_id when the audio is the frame's own
    assert all('audio_id' not in i for i in _infos(plain))


def test_loaded_waveform_is_the_donors(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=IDS[:3])
    plain = _build(root, av_media.base_pipeline())
    swapped = _build(root, av_media.base_pipeline(), shuffle_audio=5)
    own_audio = {plain[i]['data_samples'].video_id: plain[i]['inputs']['audio'] for i in range(3)}
    for i in range(3):
        sample = swapped[i]
        meta = sample['data_samples'].metainfo
        assert meta['audio_id'] != meta['video_id']
        assert meta['audio_meta']['source'].endswith(f"audio/{meta['audio_id']}.wav")
        torch.testing.assert_close(sample['inputs']['audio'], own_audio[meta['audio_id']])
        assert not torch.allclose(sample['inputs']['audio'], own_audio[meta['video_id']])
        torch.testing.assert_close(sample['inputs']['img'], plain[i]['inputs']['img'])


def test_same_seed_same_pairing_other_seed_other_pairing(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=IDS)
    first = _pairing(_build(root, av_media.base_pipeline(), shuffle_audio=0))
    again = _pairing(_build(root, av_media.base_pipeline(), shuffle_audio=0))
    other = _pairing(_build(root, av_media.base_pipeline(), shuffle_audio=1))
    assert first == again
    assert other != first
    assert all(k != v for k, v in other.items()) and sorted(other.values()) == list(IDS)
    # it does not depend on (or disturb) numpy's global random state
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    assert _pairing(_build(root, av_media.base_pipeline(), shuffle_audio=0)) == first
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_ground_truth_boxes_and_masks_stay_with_their_frame(tmp_path, av_media):
    ids = IDS[:4]
    root = av_media.make_frames_root(tmp_path, ids=ids, img_hw=(40, 80))
    boxes = {vid: [[0.1 * k, 0.05 * k, 0.5 + 0.1 * k, 0.6 + 0.05 * k]] for k, vid in enumerate(ids)}
    (tmp_path / 'boxes.json').write_text(json.dumps([dict(file=vid, bbox=b) for vid, b in boxes.items()]))
    (tmp_path / 'masks.json').write_text(json.dumps({'b': {'size': [40, 80], 'counts': 'PQ1'}}))
    dataset = _build(root, av_media.base_pipeline(), box_file='boxes.json', mask_file='masks.json', shuffle_audio=2)
    for info in _infos(dataset):
        assert info['audio_id'] != info['video_id']
        np.testing.assert_allclose(info['gt_bboxes'], boxes[info['video_id']])
        assert ('gt_masks' in info) == (info['video_id'] == 'b')
    loaded = dataset[0]['data_samples']
    assert loaded.video_id == 'a' and loaded.metainfo['audio_id'] != 'a'
    torch.testing.assert_close(loaded.gt_bboxes, torch.tensor([[0., 0., 16., 19.2]]))  # a's box, 32x32 frame


def test_one_sample_split_raises_naming_the_dataset(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('solo',))
    with pytest.raises(AVDatasetError, match=r'AVFramesDataset\(test.txt.*shuffle_audio=0 needs at least 2 '
                                             r'sounding samples.*has 1'):
        _build(root, av_media.base_pipeline(), shuffle_audio=0)


@pytest.mark.parametrize('bad', [True, -1, 1.5, 'x'])
def test_invalid_seed_is_rejected(tmp_path, av_media, bad):
    root = av_media.make_frames_root(tmp_path)
    with pytest.raises(ValueError, match='shuffle_audio must be None'):
        _build(root, av_media.base_pipeline(), shuffle_audio=bad)


def test_non_sounding_pairs_keep_their_audio(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=IDS[:3])
    (tmp_path / 'pairs.csv').write_text('video,audio,label\na,b,non-sounding\nc,a,non-sounding\n')
    dataset = _build(root, av_media.base_pipeline(), pair_file='pairs.csv', shuffle_audio=0)
    infos = _infos(dataset)
    assert len(infos) == 5
    sounding = [i for i in infos if i['is_sounding']]
    assert [(i['video_id'], i['audio_id']) for i in infos if not i['is_sounding']] == [('a', 'b'), ('c', 'a')]
    assert [i['audio_path'].rsplit('/', 1)[1] for i in infos if not i['is_sounding']] == ['b.wav', 'a.wav']
    assert len(sounding) == 3 and all(i['audio_id'] != i['video_id'] for i in sounding)
    assert sorted(i['audio_id'] for i in sounding) == ['a', 'b', 'c']
    # one sounding sample among non-sounding ones cannot be swapped
    (tmp_path / 'one.txt').write_text('a\n')
    (tmp_path / 'pairs1.csv').write_text('video,audio,label\nb,c,non-sounding\n')
    with pytest.raises(AVDatasetError, match='needs at least 2 sounding samples'):
        _build(root, av_media.base_pipeline(), ann_file='one.txt', pair_file='pairs1.csv', shuffle_audio=0)


def test_skipped_entries_do_not_take_part(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=IDS[:4])
    os.remove(tmp_path / 'frames' / 'b.jpg')
    dataset = _build(root, av_media.base_pipeline(), on_missing='skip', shuffle_audio=0)
    infos = _infos(dataset)
    assert [i['video_id'] for i in infos] == ['a', 'c', 'd']
    assert sorted(i['audio_id'] for i in infos) == ['a', 'c', 'd']
    assert all(i['audio_id'] != i['video_id'] for i in infos)


def test_raw_video_dataset_swaps_the_audio_source_video(tmp_path, av_media):
    for video_id in IDS[:3]:
        av_media.write_video_only_mp4(tmp_path / 'videos' / f'{video_id}.mp4')
    (tmp_path / 'test.txt').write_text('a\nb\nc\n')
    cfg = dict(type='AVVideoDataset', data_root=str(tmp_path), ann_file='test.txt', test_mode=True,
               pipeline=[dict(type='LoadVideoFrameAndAudio', sample_rate=8000)], shuffle_audio=0)
    dataset = DATASETS.build(cfg)
    infos = _infos(dataset)
    for info in infos:
        assert info['video_path'].endswith(f"videos/{info['video_id']}.mp4")
        assert info['audio_id'] != info['video_id']
        assert info['audio_path'].endswith(f"videos/{info['audio_id']}.mp4")
    assert sorted(i['audio_id'] for i in infos) == ['a', 'b', 'c']
