"""AVVideoDataset: raw videos decoded on the fly; bad videos fail loudly."""
import os

import numpy as np
import pytest
import torch
from av_test_media import HAS_PYAV, write_av_mp4

from icl_av.datasets.errors import AVDatasetError, AVLoadError
from icl_av.registry import DATASETS

VIDEO_PIPELINE = [dict(type='LoadVideoFrameAndAudio', sample_rate=8000),
                  dict(type='AudioClip', duration=0.5), dict(type='Resize', scale=(32, 32)),
                  dict(type='PackAVInputs')]


def _build(root, **kwargs):
    cfg = dict(type='AVVideoDataset', data_root=str(root), ann_file='test.txt', test_mode=True,
               pipeline=VIDEO_PIPELINE)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_missing_and_empty_videos_reported_at_build(tmp_path, av_media):
    av_media.write_video_only_mp4(tmp_path / 'videos' / 'a.mp4')
    open(tmp_path / 'videos' / 'b.mp4', 'wb').close()
    (tmp_path / 'test.txt').write_text('a\nb\nc\n')
    with pytest.raises(AVDatasetError) as info:
        _build(tmp_path)
    assert 'empty video file' in str(info.value) and 'missing video file' in str(info.value)
    assert 'videos/c.mp4' in str(info.value)


def test_video_only_mp4_fails_at_load_naming_file(tmp_path, av_media):
    av_media.write_video_only_mp4(tmp_path / 'videos' / 'a.mp4')
    (tmp_path / 'test.txt').write_text('a\n')
    with pytest.raises(AVLoadError, match='no audio track'):
        _build(tmp_path)[0]


def test_raw_videos_end_to_end(tmp_path, av_media):
    if not av_media.has_av_writer:
        pytest.skip('PyAV (av) is needed to write an mp4 with audio')
    for video_id in ('a', 'b'):
        av_media.write_av_mp4(tmp_path / 'videos' / f'{video_id}.mp4', seconds=1.0, rate=22050)
    (tmp_path / 'test.txt').write_text('a\nb\n')
    (tmp_path / 'pairs.csv').write_text('video,audio,label\na,b,non-sounding\n')
    dataset = _build(tmp_path, pair_file='pairs.csv')
    assert len(dataset) == 3
    sample = dataset[0]
    assert sample['inputs']['img'].shape == (3, 32, 32) and sample['inputs']['audio'].shape == (1, 4000)
    meta = sample['data_samples'].metainfo
    assert meta['video_id'] == 'a' and meta['audio_meta']['duration'] == 0.5
    assert sample['data_samples'].gt_bboxes.shape == (0, 4)
    paired = dataset[2]
    assert paired['data_samples'].is_sounding is False
    assert paired['data_samples'].metainfo['audio_path'].endswith(os.path.join('videos', 'b.mp4'))
    assert torch.isfinite(paired['inputs']['audio']).all()


@pytest.mark.skipif(not HAS_PYAV, reason='PyAV writes the mp4 fixture')
def test_widths_that_decord_pads_still_give_three_channels(tmp_path):
    # decord hands back 4-channel frames for 48 px wide H.264 video; frames must stay H×W×3 BGR.
    from icl_av.datasets.utils.media_io import open_video, read_video_frame
    path = tmp_path / 'narrow.mp4'
    write_av_mp4(path, seconds=0.5, fps=10, rate=16000, channels=1, size='48x32')
    reader = open_video(str(path))
    frame = read_video_frame(reader, str(path), 0)
    assert frame.shape == (32, 48, 3) and frame.dtype == np.uint8


def test_truncated_video_is_a_corrupt_sample_in_training(tmp_path, av_media):
    from icl_av.datasets import CorruptSample
    from icl_av.registry import DATASETS
    av_media.write_video_only_mp4(tmp_path / 'videos' / 'cut.mp4')
    data = (tmp_path / 'videos' / 'cut.mp4').read_bytes()
    (tmp_path / 'videos' / 'cut.mp4').write_bytes(data[:len(data) // 2])
    (tmp_path / 'train.txt').write_text('cut\n')
    dataset = DATASETS.build(dict(type='AVVideoDataset', data_root=str(tmp_path), ann_file='train.txt',
                                  pipeline=[dict(type='LoadVideoFrameAndAudio', frame_selection='random')]))
    marker = dataset[0]
    assert isinstance(marker, CorruptSample) and marker.video_id == 'cut' and 'moov' in marker.reason
