"""Parsers for the sound-localization benchmarks' list and annotation files.

* split lists (``.txt`` / ``.csv``): first column = ID, optional second column = an
  annotated frame index (Flickr-SoundNet's ``ID,frame-index``);
* VGG-SS ``vggss.json``: ``[{"file": ID, "class": NAME, "bbox": [[x1,y1,x2,y2], ...]}]``,
  coordinates normalised to [0, 1];
* Flickr-SoundNet ``ID.xml``: boxes of up to 3 annotators in a 256×256 frame; under each
  child of the root, each ``bbox`` element holds one leading element then xmin, ymin,
  xmax, ymax integers, read by position;
* extended benchmarks' ``*_plus_silent.csv``: ``video,audio,label`` rows;
* COCO-RLE mask files: ``{ID: RLE}`` or ``{ID: [RLE, ...]}``.

Malformed files raise :class:`AVAnnotationError` naming the file and the problem.
Invalid boxes (non-finite, or empty after clipping to the frame, e.g. ``x2 <= x1``) are
*dropped and counted*, never repaired by guessing: the public ``vggss.json`` itself holds
18 such boxes (coordinates like ``-2.9e16``). Valid boxes poking outside the frame are clipped.
"""
import csv
import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from icl_av.structures.masks import compress_rle
from .errors import AVAnnotationError
from .problem_report import name_some

HEADER_FIRST_CELLS = frozenset({'id', 'ids', 'video', 'video_id', 'file', 'filename', 'name', 'youtube_id'})
FLICKR_FRAME_SIZE = (256, 256)
SOUNDING_LABELS = {'sounding': True, 'non-sounding': False, 'nonsounding': False, 'silent': False,
                   '1': True, '0': False, 'true': True, 'false': False}


@dataclass
class SplitEntry:
    """One row of a split list: an ID and, optionally, the annotated frame index."""
    video_id: str
    frame_index: Optional[int] = None


@dataclass
class PairEntry:
    """One row of an extended benchmark list: a frame, the audio paired with it, and the label."""
    video_id: str
    audio_id: str
    is_sounding: bool


@dataclass
class BoxCleaningReport:
    """How many boxes an annotation file had, how many were dropped as invalid, and in which IDs."""
    total: int = 0
    dropped: int = 0
    affected_ids: List[str] = field(default_factory=list)
    left_empty_ids: List[str] = field(default_factory=list)

    @property
    def entries_affected(self) -> int:
        return len(self.affected_ids)

    @property
    def entries_left_empty(self) -> int:
        return len(self.left_empty_ids)

    def log(self, path: str) -> None:
        """Log a one-line summary naming the IDs when anything was dropped."""
        if self.dropped:
            left = (f'; {self.entries_left_empty} have no valid box left: {name_some(self.left_empty_ids, limit=10)}'
                    if self.left_empty_ids else '')
            print_log(f'{path}: dropped {self.dropped} of {self.total} boxes as invalid (non-finite, inverted or '
                      f'empty after clipping to the frame) in {self.entries_affected} entries '
                      f'({name_some(self.affected_ids, limit=10)}){left}', logger='current', level=30)


def _read_text(path: str) -> str:
    if not os.path.isfile(path):
        raise AVAnnotationError(path, 'file does not exist')
    try:
        with open(path, 'r', encoding='utf-8-sig') as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise AVAnnotationError(path, f'cannot read as UTF-8 text ({error})') from error


def _csv_rows(path: str) -> List[List[str]]:
    """Rows of a txt/csv file with cells stripped; blank lines and ``#`` comments skipped."""
    text = _read_text(path)
    rows = []
    for row in csv.reader(text.splitlines()):
        cells = [cell.strip() for cell in row]
        if not cells or not cells[0] or cells[0].startswith('#'):
            continue
        rows.append(cells)
    return rows


def read_split_list(path: str) -> List[SplitEntry]:
    """Read a split list: one ID per row, optional second column = annotated frame index.

    Accepts ``.txt`` and ``.csv``, CRLF line ends, a UTF-8 BOM, blank lines and an optional
    header row (first cell ``id``/``video``/``file``/...). Duplicate IDs are kept once.

    Args:
        path (str): The list file.

    Returns:
        list[SplitEntry]: The entries in file order (may be empty; the dataset decides).

    Raises:
        AVAnnotationError: missing/unreadable file, or a second column that is not an integer.
    """
    rows = _csv_rows(path)
    if rows and rows[0][0].lower() in HEADER_FIRST_CELLS:
        rows = rows[1:]
    entries, seen = [], set()
    for line_no, cells in enumerate(rows, start=1):
        video_id = cells[0]
        frame_index = None
        if len(cells) > 1 and cells[1]:
            try:
                frame_index = int(cells[1])
            except ValueError:
                raise AVAnnotationError(path, f'row {line_no} ({",".join(cells)!r}): second column must be an '
                                              f'integer frame index, got {cells[1]!r}') from None
        if video_id in seen:
            continue
        seen.add(video_id)
        entries.append(SplitEntry(video_id, frame_index))
    return entries


def clean_boxes(boxes: np.ndarray, width: float, height: float) -> Tuple[np.ndarray, int]:
    """Clip ``N×4`` boxes to ``[0, width] × [0, height]`` and drop invalid ones.

    Args:
        boxes (np.ndarray): ``N×4`` x1y1x2y2 in the annotation frame.
        width, height (float): The frame size (1, 1 for normalised boxes).

    Returns:
        tuple: ``(valid boxes M×4 float32, number dropped)``.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    finite = np.isfinite(boxes).all(axis=1)
    clipped = boxes.copy()
    clipped[:, 0::2] = np.clip(clipped[:, 0::2], 0, width)
    clipped[:, 1::2] = np.clip(clipped[:, 1::2], 0, height)
    keep = finite & (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    return clipped[keep].astype(np.float32), int((~keep).sum())


def load_vggss_boxes(path: str) -> Dict[str, Dict]:
    """Parse a VGG-SS style box file (normalised coordinates).

    Args:
        path (str): ``vggss.json`` (or any file in its format, e.g. SynthAV's ``test_boxes.json``).

    Returns:
        dict: ``{ID: {'bboxes': M×4 float32 normalised, 'class': str | None}}``.

    Raises:
        AVAnnotationError: invalid JSON, wrong structure, or a box that is not 4 numbers.
    """
    text = _read_text(path)
    try:
        records = json.loads(text)
    except json.JSONDecodeError as error:
        raise AVAnnotationError(path, f'invalid JSON ({error})') from None
    if not isinstance(records, list):
        raise AVAnnotationError(path, 'expected a JSON list of {"file", "bbox"} records, '
                                      f'got {type(records).__name__}')
    report = BoxCleaningReport()
    annotations = {}
    for position, record in enumerate(records):
        if not isinstance(record, dict) or 'file' not in record or 'bbox' not in record:
            raise AVAnnotationError(path, f'record {position} must be an object with "file" and "bbox" keys')
        raw = record['bbox']
        try:
            boxes = np.asarray(raw, dtype=np.float64)
            if boxes.size == 0:
                boxes = np.zeros((0, 4))
            elif boxes.ndim != 2 or boxes.shape[1] != 4:
                raise ValueError
        except (TypeError, ValueError):
            raise AVAnnotationError(path, f'record {position} ({record["file"]}): "bbox" must be a list of '
                                          f'[x1, y1, x2, y2] lists, got {raw!r:.80}') from None
        valid, dropped = clean_boxes(boxes, 1.0, 1.0)
        report.total += len(boxes)
        report.dropped += dropped
        video_id = str(record['file'])
        if dropped:
            report.affected_ids.append(video_id)
            if len(valid) == 0:
                report.left_empty_ids.append(video_id)
        if video_id in annotations:  # several records for one ID: merge their boxes
            valid = np.concatenate([annotations[video_id]['bboxes'], valid])
        annotations[video_id] = dict(bboxes=valid, **{'class': record.get('class')})
    report.log(path)
    return annotations


def load_flickr_xml(path: str) -> Tuple[np.ndarray, int]:
    """Parse one Flickr-SoundNet ``ID.xml`` into boxes in the 256×256 annotation frame.

    Under each child of the root, every ``bbox`` element contributes one box: its first
    sub-element is skipped, the next four are xmin, ymin, xmax, ymax (integers), by position.

    Args:
        path (str): The XML file.

    Returns:
        tuple: ``(valid boxes M×4 float32 in the 256×256 frame, number of invalid boxes dropped)``.

    Raises:
        AVAnnotationError: missing file, XML syntax error, or a ``bbox`` element with fewer
            than 5 sub-elements or non-integer coordinates.
    """
    if not os.path.isfile(path):
        raise AVAnnotationError(path, 'file does not exist')
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        raise AVAnnotationError(path, f'XML syntax error ({error})') from None
    boxes = []
    for child in root:
        for element in child:
            if element.tag != 'bbox':
                continue
            fields = list(element)
            if len(fields) < 5:
                raise AVAnnotationError(path, f'a <bbox> under <{child.tag}> has {len(fields)} sub-elements; '
                                              'expected a leading element then xmin, ymin, xmax, ymax')
            try:
                boxes.append([int((field.text or '').strip()) for field in fields[1:5]])
            except ValueError:
                texts = [field.text for field in fields[1:5]]
                raise AVAnnotationError(path, f'<bbox> coordinates must be integers, got {texts}') from None
    return clean_boxes(np.asarray(boxes, dtype=np.float64).reshape(-1, 4), *FLICKR_FRAME_SIZE)


def read_pair_list(path: str) -> List[PairEntry]:
    """Read an extended benchmark list (``video,audio,label`` with a header row).

    Args:
        path (str): e.g. ``vggss_test_plus_silent.csv``.

    Returns:
        list[PairEntry]: One entry per row.

    Raises:
        AVAnnotationError: missing header/columns or an unknown label.
    """
    rows = _csv_rows(path)
    if not rows:
        return []
    header = [cell.lower() for cell in rows[0]]
    if not {'video', 'audio', 'label'} <= set(header):
        raise AVAnnotationError(path, f'expected a header with columns video,audio,label, got {rows[0]}')
    col = {name: header.index(name) for name in ('video', 'audio', 'label')}
    entries = []
    for line_no, cells in enumerate(rows[1:], start=2):
        if len(cells) < len(header):
            raise AVAnnotationError(path, f'row {line_no} has {len(cells)} columns, expected {len(header)}')
        label = cells[col['label']].lower()
        if label not in SOUNDING_LABELS:
            raise AVAnnotationError(path, f'row {line_no}: unknown label {cells[col["label"]]!r} '
                                          f'(expected sounding / non-sounding)')
        entries.append(PairEntry(cells[col['video']], cells[col['audio']], SOUNDING_LABELS[label]))
    return entries


def load_rle_masks(path: str) -> Dict[str, List[Dict]]:
    """Parse a mask file ``{ID: RLE}`` or ``{ID: [RLE, ...]}`` (COCO RLE ``{'size': [H, W], 'counts'}``).

    Returns:
        dict: ``{ID: [RLE, ...]}`` with ``counts`` as str.

    Raises:
        AVAnnotationError: invalid JSON or an entry that is not an RLE dict.
    """
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise AVAnnotationError(path, f'invalid JSON ({error})') from None
    if not isinstance(data, dict):
        raise AVAnnotationError(path, f'expected a JSON object {{ID: RLE}}, got {type(data).__name__}')
    masks = {}
    for video_id, value in data.items():
        items = value if isinstance(value, list) else [value]
        parsed = []
        for rle in items:
            ok = (isinstance(rle, dict) and isinstance(rle.get('size'), list) and len(rle['size']) == 2
                  and isinstance(rle.get('counts'), (str, list)))
            if not ok:
                raise AVAnnotationError(path, f'entry {video_id!r}: expected a COCO RLE '
                                              f'{{"size": [H, W], "counts": ...}}, got {rle!r:.80}')
            parsed.append(compress_rle(rle))  # uncompressed (list) counts -> str
        masks[str(video_id)] = parsed
    return masks
