"""Where a map's peak lands among the scene's objects, and the metric's per-sample peak."""
import pytest
import torch

from icl_av.evaluation.metrics.localization_metric import map_peak
from icl_av.evaluation.peak_placement import peak_place, peak_placement

SCENES = {
    'a': dict(bbox=[0.0, 0.0, 0.5, 0.5], distractors=[dict(bbox=[0.4, 0.4, 1.0, 1.0])]),
    'b': dict(bbox=[0.5, 0.0, 1.0, 0.5], distractors=[]),
}


def test_map_peak_is_the_centre_of_the_highest_cell():
    pred = torch.zeros(4, 8)
    pred[1, 6] = 1.0
    assert map_peak(pred) == [6.5 / 8, 1.5 / 4]


@pytest.mark.parametrize('point, place', [((0.1, 0.1), 'source'), ((0.45, 0.45), 'both'), ((0.9, 0.9), 'distractor'),
                                          ((0.9, 0.1), 'neither')])
def test_peak_place(point, place):
    assert peak_place(point, SCENES['a']['bbox'], [d['bbox'] for d in SCENES['a']['distractors']]) == place


def test_shares_over_records():
    records = [dict(video_id='a', peak=[0.1, 0.1]), dict(video_id='a', peak=[0.9, 0.9]),
               dict(video_id='b', peak=[0.75, 0.25]), dict(video_id='b', peak=[0.1, 0.9])]
    shares = peak_placement(records, SCENES)
    assert shares == dict(source=0.5, distractor=0.25, both=0.0, neither=0.25, num_samples=4)


def test_missing_peak_or_scene_is_named():
    with pytest.raises(KeyError, match="'a' has no peak"):
        peak_placement([dict(video_id='a')], SCENES)
    with pytest.raises(KeyError, match="'z' is not in the scene file"):
        peak_placement([dict(video_id='z', peak=[0, 0])], SCENES)
