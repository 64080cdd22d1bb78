"""What a dataset is built from, before any media file is looked at: the sample entries and their annotations.

* :func:`read_sample_entries` -- the split list's IDs (sounding, with their own audio) and the
  extended benchmark's pair-list rows, merged without listing an ID twice;
* :func:`annotation_keys` -- the box keys of one ID from a VGG-SS json or a Flickr XML folder,
  or a recorded problem when the ID must be annotated and is not.
"""
import os
from typing import Dict, List, Optional

from .annotations import FLICKR_FRAME_SIZE, load_flickr_xml, read_pair_list, read_split_list
from .errors import AVAnnotationError, AVDatasetError
from .problem_report import ProblemReport


def read_sample_entries(ann_file: str, pair_file: Optional[str], dataset_name: str) -> List[Dict]:
    """The samples to build: split-list IDs (sounding) then pair-list rows.

    Args:
        ann_file (str): Split list path, or ``''`` when the pair list alone lists the samples.
        pair_file (str, optional): Extended benchmark ``video,audio,label`` csv path.
        dataset_name (str): The dataset's class name, for the error message.

    Returns:
        list[dict]: ``video_id``, ``audio_id``, ``frame_index`` (or ``None``) and
        ``is_sounding`` (``None`` when no pair list says it).

    Raises:
        AVDatasetError: Neither list is given.
    """
    entries = []
    if ann_file:
        for entry in read_split_list(ann_file):
            entries.append(dict(video_id=entry.video_id, audio_id=entry.video_id,
                                frame_index=entry.frame_index, is_sounding=None))
    if pair_file:
        pairs = read_pair_list(pair_file)
        # A list ID already present as a sounding (ID, ID) row is not added twice.
        listed_sounding = {p.video_id for p in pairs if p.is_sounding and p.audio_id == p.video_id}
        entries = [dict(e, is_sounding=True) for e in entries if e['video_id'] not in listed_sounding]
        for pair in pairs:
            entries.append(dict(video_id=pair.video_id, audio_id=pair.audio_id, frame_index=None,
                                is_sounding=pair.is_sounding))
    if not ann_file and not pair_file:
        raise AVDatasetError(f'{dataset_name}: give ann_file (a split list) and/or pair_file')
    return entries


def annotation_keys(video_id: str, vggss: Optional[Dict], box_file: Optional[str], xml_folder: Optional[str],
                    problems: ProblemReport, xml_dropped: Dict[str, int], required: bool) -> Optional[Dict]:
    """Box keys for one ID, or ``None`` (problem recorded) when required and absent.

    Args:
        video_id (str): The ID.
        vggss (dict, optional): ``{ID: record}`` of a loaded VGG-SS json (takes precedence).
        box_file (str, optional): Its path, for the problem message.
        xml_folder (str, optional): Folder of Flickr ``ID.xml`` files (used without ``vggss``).
        problems (ProblemReport): Where a missing or malformed annotation is recorded.
        xml_dropped (dict): ``{ID: count}`` of invalid XML boxes dropped (updated).
        required (bool): Whether an ID without boxes is unusable.

    Returns:
        dict | None: ``gt_bboxes`` and ``bbox_frame_size`` (plus ``gt_map_from_boxes`` for
        Flickr), ``{}`` when the ID has none and none is required, or ``None``.
    """
    info = {}
    if vggss is not None:
        record = vggss.get(video_id)
        if record is None:
            if required:
                problems.add(video_id, f'ID not in box file {box_file}', video_id)
                return None
        else:
            info.update(gt_bboxes=record['bboxes'], bbox_frame_size=(1.0, 1.0))
    elif xml_folder:
        xml_path = os.path.join(xml_folder, video_id + '.xml')
        if not os.path.isfile(xml_path):
            if required:
                problems.add(video_id, 'missing annotation XML', xml_path)
                return None
        else:
            try:
                boxes, dropped = load_flickr_xml(xml_path)
            except AVAnnotationError as error:
                problems.add(video_id, 'malformed annotation XML', f'{xml_path} ({error.reason})')
                return None
            if dropped:
                xml_dropped[video_id] = dropped
            info.update(gt_bboxes=boxes, bbox_frame_size=FLICKR_FRAME_SIZE, gt_map_from_boxes=True)
    return info
