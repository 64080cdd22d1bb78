"""Where a map's peak lands among a scene's objects: the sounding one, a silent distractor, both, neither.

cIoU says how well a binarised map covers the sounding object; it does not say what the
map prefers when it is wrong. In scenes with silent distractors (StampsAV) the telling
question is where the single highest location falls: on the sounding object's box, on a
distractor's box, on an overlap of both, or on neither. Comparing the answer with the
frame's own sound and with another clip's sound shows whether the sound moves the peak.
"""
from collections import Counter
from typing import Dict, Iterable, Mapping, Sequence

#: The four places a peak can land, in report order.
PLACES = ('source', 'distractor', 'both', 'neither')


def inside(point: Sequence[float], box: Sequence[float]) -> bool:
    """Whether ``point`` ``(x, y)`` lies in ``box`` ``(x1, y1, x2, y2)`` (same units, edges included)."""
    x, y = point
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def peak_place(point: Sequence[float], source_box: Sequence[float], distractor_boxes: Iterable[Sequence[float]]) -> str:
    """One of :data:`PLACES` for a peak at ``point``."""
    on_source = inside(point, source_box)
    on_distractor = any(inside(point, box) for box in distractor_boxes)
    if on_source and on_distractor:
        return 'both'
    return 'source' if on_source else 'distractor' if on_distractor else 'neither'


def peak_placement(records: Iterable[Mapping], scenes: Mapping[str, Mapping]) -> Dict[str, float]:
    """Share of samples whose peak lands in each of :data:`PLACES`.

    Args:
        records (Iterable[dict]): Per-sample results with ``video_id`` and ``peak``
            (``[x, y]`` fractions of the frame), as ``LocalizationMetric`` writes them.
        scenes (dict): ``video_id`` -> scene with ``bbox`` (the sounding object's box) and
            ``distractors`` (a list of dicts with ``bbox``), boxes as ``[x1, y1, x2, y2]``
            fractions of the frame (StampsAV's ``scenes_<split>.jsonl`` rows).

    Returns:
        dict: ``{place: share}`` over :data:`PLACES` and ``num_samples``.

    Raises:
        KeyError: A record has no ``peak`` or its ``video_id`` is not among the scenes.
    """
    counts: Counter = Counter()
    for record in records:
        video_id = record.get('video_id')
        if record.get('peak') is None:
            raise KeyError(f'peak_placement: the record of {video_id!r} has no peak (results written by an older '
                           'LocalizationMetric?)')
        if video_id not in scenes:
            raise KeyError(f'peak_placement: {video_id!r} is not in the scene file')
        scene = scenes[video_id]
        counts[peak_place(record['peak'], scene['bbox'], [d['bbox'] for d in scene.get('distractors', [])])] += 1
    total = sum(counts.values())
    shares = {place: counts[place] / total if total else 0.0 for place in PLACES}
    shares['num_samples'] = total
    return shares
