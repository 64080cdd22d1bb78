"""The verifier decodes every file of a split and finds every corrupt one, with the reason; clean list + report."""
import json

import pytest
from corrupt_media import GOOD_IDS, make_corrupt_frames_root

from icl_av.datasets.verify import reason_category, verify_dataset


def frames_cfg(root):
    return dict(type='AVFramesDataset', data_root=root, ann_file='train.txt', pipeline=[])


@pytest.mark.parametrize('workers', [1, 2])
def test_verifier_finds_every_corrupt_file_of_the_list(tmp_path, workers):
    root, corrupt = make_corrupt_frames_root(tmp_path / 'data')
    (tmp_path / 'data' / 'audio' / 'good7.wav').unlink()  # missing: reported from the build
    ticks = []
    report = verify_dataset(frames_cfg(root), workers=workers, progress_factory=lambda total: lambda: ticks.append(1))
    assert set(report.bad_files) == set(corrupt)
    for path, words in corrupt.items():
        assert words in report.bad_files[path], (path, report.bad_files[path])
    assert len(ticks) == report.files_checked == 7 * 2 + 4 * 2 + 3  # good7 dropped at build; bad_dir: 2 frames
    assert any('missing audio file' in reason for reason in report.build_problems)
    assert [video_id for video_id, _ in report.clean_entries] == list(GOOD_IDS[:7])
    assert report.bad_ids == sorted(['bad_jpg', 'bad_wav', 'bad_mp4', 'bad_huge', 'bad_dir', 'good7'])
    assert not report.ok

    clean, written = report.write(str(tmp_path / 'out'), 'train')
    assert open(clean).read().split() == list(GOOD_IDS[:7])
    data = json.load(open(written))
    assert data['entries_total'] == 13 and data['entries_clean'] == 7
    assert sum(data['counts_by_reason'].values()) == 6
    assert {item['path'] for item in data['bad_files']} == set(corrupt)


def test_a_clean_split_is_ok(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b'))
    report = verify_dataset(frames_cfg(root))
    assert report.ok and report.files_checked == 4 and len(report.clean_entries) == 2


def test_video_dataset_checks_frames_and_audio_track(tmp_path, av_media):
    if not av_media.has_av_writer:
        pytest.skip('PyAV writes the mp4 with audio')
    av_media.write_av_mp4(tmp_path / 'videos' / 'ok.mp4', seconds=1.0)
    av_media.write_video_only_mp4(tmp_path / 'videos' / 'silent.mp4')
    av_media.write_video_only_mp4(tmp_path / 'videos' / 'cut.mp4')
    data = (tmp_path / 'videos' / 'cut.mp4').read_bytes()
    (tmp_path / 'videos' / 'cut.mp4').write_bytes(data[:len(data) // 2])
    (tmp_path / 'train.txt').write_text('ok\nsilent\ncut\n')
    report = verify_dataset(dict(type='AVVideoDataset', data_root=str(tmp_path), ann_file='train.txt'))
    assert set(report.bad_files) == {str(tmp_path / 'videos' / 'silent.mp4'), str(tmp_path / 'videos' / 'cut.mp4')}
    assert 'no audio track' in report.bad_files[str(tmp_path / 'videos' / 'silent.mp4')]
    assert 'moov atom not found' in report.bad_files[str(tmp_path / 'videos' / 'cut.mp4')]
    assert report.clean_entries == [('ok', None)]


def test_reason_category_drops_per_file_details():
    assert reason_category('not a decodable audio file (Error opening x.wav: Format not recognised)') == \
        'not a decodable audio file'
    assert reason_category('audio samples reach 1e+19, far beyond') == 'audio samples reach Ne+N, far beyond'
