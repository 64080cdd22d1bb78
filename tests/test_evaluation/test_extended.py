"""Extended-benchmark scores (AP, max-F1, precision@0.5) on a hand-made set."""
import math

import numpy as np
import pytest

from icl_av.evaluation.metrics.extended import (average_precision, extended_scores, max_f1,
                                                precision_recall_curve)

# A sounding + well localised; B silent; C sounding but mislocalised; D sounding, good; E silent.
CONF = [0.9, 0.8, 0.7, 0.6, 0.1]
SOUNDING = [True, False, True, True, False]
CIOU = [0.8, 0.0, 0.2, 0.6, 0.0]


def test_slavc_curve_hand_values():
    precision, recall = precision_recall_curve(CONF, SOUNDING, CIOU)
    assert precision.tolist() == pytest.approx([1, 1 / 2, 1 / 3, 1 / 2, 2 / 5])
    assert recall.tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 2, 1, 1])
    assert average_precision(precision, recall) == pytest.approx(1 / 3 + 1 / 6 * 0.5 + 0.5 * 0.5)
    assert max_f1(precision, recall) == pytest.approx(2 / 3)


def test_detection_recall_mode_hand_values():
    precision, recall = precision_recall_curve(CONF, SOUNDING, CIOU, recall_mode='detection')
    assert recall.tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3])
    assert average_precision(precision, recall) == pytest.approx(0.5)
    assert max_f1(precision, recall) == pytest.approx(4 / 7)


def test_extended_scores_and_precision_at_half():
    scores = extended_scores(CONF, SOUNDING, CIOU)
    assert scores['ap'] == pytest.approx(2 / 3)
    assert scores['max_f1'] == pytest.approx(2 / 3)
    assert scores['precision@0.5'] == pytest.approx(2 / 5)


def test_tied_confidences_form_one_point():
    precision, recall = precision_recall_curve([0.5, 0.5, 0.5], [True, False, True], [1.0, 0.0, 1.0])
    assert precision.tolist() == pytest.approx([2 / 3]) and recall.tolist() == pytest.approx([1.0])


def test_perfect_detector_scores_one_and_order_does_not_matter():
    conf = np.array([0.9, 0.8, 0.2, 0.1])
    sounding = [True, True, False, False]
    cious = [1.0, 0.7, 0.0, 0.0]
    assert extended_scores(conf, sounding, cious)['ap'] == pytest.approx(1.0)
    perm = [2, 0, 3, 1]
    shuffled = extended_scores(conf[perm], [sounding[i] for i in perm], [cious[i] for i in perm])
    assert shuffled == pytest.approx(extended_scores(conf, sounding, cious))


def test_empty_and_invalid_inputs():
    assert math.isnan(extended_scores([], [], [])['ap'])
    with pytest.raises(ValueError, match='recall_mode'):
        precision_recall_curve([1.0], [True], [1.0], recall_mode='voc')
