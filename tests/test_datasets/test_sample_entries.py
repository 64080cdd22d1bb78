"""Sample entries from split and pair lists, and the build-time problem report, without media files."""
import pytest

from icl_av.datasets.errors import AVDatasetError
from icl_av.datasets.problem_report import ProblemReport, name_some
from icl_av.datasets.sample_entries import annotation_keys, read_sample_entries


def test_pair_list_rows_follow_split_ids_without_listing_one_twice(tmp_path):
    split = tmp_path / 'split.txt'
    split.write_text('a\nb\n')
    pairs = tmp_path / 'pairs.csv'
    pairs.write_text('video,audio,label\na,a,sounding\nb,c,non-sounding\n')
    entries = read_sample_entries(str(split), str(pairs), 'Demo')
    assert [(e['video_id'], e['audio_id'], e['is_sounding']) for e in entries] == [
        ('b', 'b', True), ('a', 'a', True), ('b', 'c', False)]


def test_no_list_at_all_is_an_error_naming_the_dataset():
    with pytest.raises(AVDatasetError, match='Demo: give ann_file'):
        read_sample_entries('', None, 'Demo')


def test_a_required_but_missing_annotation_is_recorded_not_raised(tmp_path):
    problems = ProblemReport()
    assert annotation_keys('x', {}, 'boxes.json', None, problems, {}, required=True) is None
    assert annotation_keys('y', {}, 'boxes.json', None, problems, {}, required=False) == {}
    assert problems.bad_ids == {'x'}
    assert 'ID not in box file boxes.json' in problems.format('Demo', 2)


def test_name_some_says_how_many_it_left_out():
    assert name_some(['a', 'b']) == 'a, b'
    assert name_some([str(i) for i in range(7)], limit=5) == '0, 1, 2, 3, 4 (+2 more)'
