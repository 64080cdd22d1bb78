"""Decode every file a split lists, before training: the verifier behind ``tools/misc/verify_dataset.py``.

At build time a dataset only checks that its files exist and are not empty; a truncated JPEG,
a corrupt wav or an mp4 without its ``moov`` atom shows up only when the loader reaches it
(and a corrupt frame of a per-video frame folder only when the random training frame lands
on it). :func:`verify_dataset` finds all of them up front:

* the dataset is built as configured but with ``on_missing='skip'``, so the build report
  (missing / empty files, IDs without annotations) is collected instead of raised;
* every file of every entry is decoded the way the loaders decode it: the frame (or *every*
  frame of the entry's frame folder), the audio file, the video (its first, middle and last
  frame, and its audio track), in parallel worker processes;
* the result names the bad files with their reasons, counts them per reason, and gives the
  clean list of IDs (a split list the config can point ``ann_file`` at).
"""
import json
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from mmengine.dataset import BaseDataset

from .av_frames_dataset import list_frames
from .base_av_dataset import BaseAVDataset
from .errors import AVDatasetError, AVLoadError
from .utils.media_io import decode_image, load_audio, open_video, read_video_frame, video_fps

VERIFY_SAMPLE_RATE = 16000  # decoding rate of audio checks; any rate decodes the same file
NUM_PATHS_SHOWN = 5


@dataclass
class FileCheck:
    """One file to decode: ``kind`` is ``'image'``, ``'audio'`` or ``'video'``."""
    kind: str
    path: str


@dataclass
class VerifyReport:
    """What :func:`verify_dataset` found.

    Attributes:
        dataset (str): The dataset's name (type, split list, data root).
        entries_total (int): Entries the split lists (before the build dropped any).
        files_checked (int): Distinct files decoded.
        bad_files (dict): ``{path: reason}`` of the files that failed to decode.
        build_problems (dict): ``{reason: [paths]}`` the build found (missing, empty, unannotated).
        clean_entries (list): ``(video_id, frame_index or None)`` of the entries whose files all decode.
        bad_ids (list): IDs dropped at build or with a bad file.
    """
    dataset: str
    entries_total: int
    files_checked: int = 0
    bad_files: Dict[str, str] = field(default_factory=OrderedDict)
    build_problems: Dict[str, List[str]] = field(default_factory=OrderedDict)
    clean_entries: List[Tuple[str, Optional[int]]] = field(default_factory=list)
    bad_ids: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad_files and not self.build_problems

    def counts_by_reason(self) -> Dict[str, List[str]]:
        """``{reason: [paths]}`` over the build problems and the undecodable files."""
        grouped: Dict[str, List[str]] = OrderedDict()
        for reason, paths in self.build_problems.items():
            grouped.setdefault(reason, []).extend(paths)
        for path, reason in self.bad_files.items():
            grouped.setdefault(reason_category(reason), []).append(path)
        return grouped

    def summary_lines(self) -> List[str]:
        """The printed summary: totals, then each reason with its count and first paths."""
        lines = [f'{self.dataset}: {self.entries_total} entries, {self.files_checked} files decoded, '
                 f'{len(self.bad_files)} undecodable, {sum(map(len, self.build_problems.values()))} missing/unusable '
                 f'at build; {len(self.clean_entries)} entries clean']
        for reason, paths in self.counts_by_reason().items():
            more = f' (+{len(paths) - NUM_PATHS_SHOWN} more)' if len(paths) > NUM_PATHS_SHOWN else ''
            lines.append(f'  {len(paths):6d} × {reason}: {", ".join(paths[:NUM_PATHS_SHOWN])}{more}')
        return lines

    def to_json(self) -> dict:
        return dict(dataset=self.dataset, entries_total=self.entries_total, entries_clean=len(self.clean_entries),
                    files_checked=self.files_checked,
                    counts_by_reason={reason: len(paths) for reason, paths in self.counts_by_reason().items()},
                    bad_files=[dict(path=path, reason=reason) for path, reason in self.bad_files.items()],
                    build_problems=self.build_problems, bad_ids=self.bad_ids)

    def write(self, out_dir: str, split: str) -> Tuple[str, str]:
        """Write ``<split>_clean.txt`` (one ``ID`` or ``ID,frame`` a line) and ``<split>_report.json``."""
        os.makedirs(out_dir, exist_ok=True)
        clean_path = os.path.join(out_dir, f'{split}_clean.txt')
        with open(clean_path, 'w') as handle:
            for video_id, frame_index in self.clean_entries:
                handle.write(video_id if frame_index is None else f'{video_id},{frame_index}')
                handle.write('\n')
        report_path = os.path.join(out_dir, f'{split}_report.json')
        with open(report_path, 'w') as handle:
            json.dump(self.to_json(), handle, indent=1)
        return clean_path, report_path


def reason_category(reason: str) -> str:
    """A reason without its per-file details (the decoder's message in brackets, byte counts)."""
    return re.sub(r'\d+', 'N', reason.split(' (')[0]).strip()


def check_file(check: FileCheck) -> Tuple[str, Optional[str]]:
    """Decode one file the way the loaders do; ``(path, None)`` when fine, else ``(path, reason)``."""
    try:
        if check.kind == 'image':
            decode_image(check.path)
        elif check.kind == 'audio':
            load_audio(check.path, VERIFY_SAMPLE_RATE)
        elif check.kind == 'video':
            reader = open_video(check.path)
            video_fps(reader, check.path)
            for index in sorted({0, len(reader) // 2, len(reader) - 1}):
                read_video_frame(reader, check.path, index)
            del reader
            load_audio(check.path, VERIFY_SAMPLE_RATE, backend='container')
        else:
            raise ValueError(f'unknown file kind {check.kind!r}')
    except AVLoadError as error:
        return check.path, error.reason
    return check.path, None


def entry_files(info: dict) -> Tuple[List[FileCheck], Optional[str]]:
    """The files of one data-list entry, or a problem with its frame folder."""
    checks = []
    if info.get('img_path'):
        checks.append(FileCheck('image', info['img_path']))
    if info.get('img_dir'):
        frames = list_frames(info['img_dir'])
        if not frames:
            return [], f'frame folder holds no images: {info["img_dir"]}'
        checks.extend(FileCheck('image', os.path.join(info['img_dir'], name)) for name in frames)
    if info.get('video_path'):
        checks.append(FileCheck('video', info['video_path']))
    audio = info.get('audio_path')
    if audio and audio != info.get('video_path'):
        checks.append(FileCheck('audio', audio))
    return checks, None


def _decode_all(checks: List[FileCheck], workers: int, progress: Optional[Callable[[], None]]) -> Dict[str, str]:
    """Decode every check (in ``workers`` processes when > 1); ``{path: reason}`` of the failures."""
    bad = {}

    def consume(results: Iterable[Tuple[str, Optional[str]]]):
        for path, reason in results:
            if reason is not None:
                bad[path] = reason
            if progress is not None:
                progress()

    if workers > 1 and len(checks) > 1:
        with get_context('fork').Pool(workers) as pool:
            consume(pool.imap(check_file, checks, chunksize=max(1, min(64, len(checks) // (workers * 8)))))
    else:
        consume(map(check_file, checks))
    return bad


def verify_dataset(dataset_cfg: dict, workers: int = 1,
                   progress_factory: Optional[Callable[[int], Callable[[], None]]] = None) -> VerifyReport:
    """Build the dataset of ``dataset_cfg`` and decode every file it lists.

    Args:
        dataset_cfg (dict): A dataset config (``type`` = ``AVFramesDataset``, ``AVVideoDataset``
            or another :class:`BaseAVDataset`). Its pipeline is not run.
        workers (int): Decoding processes.
        progress_factory (callable, optional): Called with the number of files; returns a
            function called once per decoded file (a progress bar's update).

    Returns:
        VerifyReport: Bad files, build problems, clean entries.

    Raises:
        AVDatasetError: the config does not describe a dataset of files on disk, or the build
            fails for a reason that is not about single entries (no split list, ...).
    """
    from icl_av.registry import DATASETS
    cfg = dict(dataset_cfg)
    cfg.update(on_missing='skip', pipeline=[], lazy_init=False)
    dataset = DATASETS.build(cfg)
    if not isinstance(dataset, BaseAVDataset):
        raise AVDatasetError(f'verify_dataset checks datasets of files on disk (AVFramesDataset, AVVideoDataset); '
                             f'{type(dataset).__name__} has none')
    infos = [BaseDataset.get_data_info(dataset, i) for i in range(len(dataset))]
    problems = dataset.build_problems
    report = VerifyReport(dataset=dataset._name(), entries_total=len(infos) + len(problems.bad_ids),
                          build_problems=OrderedDict((reason, list(paths))
                                                     for reason, paths in problems.by_reason.items()))
    files_of_entry, checks, seen = [], [], set()
    for info in infos:
        files, folder_problem = entry_files(info)
        if folder_problem:
            report.build_problems.setdefault('empty frame folder', []).append(info['img_dir'])
        files_of_entry.append(None if folder_problem else [check.path for check in files])
        for check in files:
            if check.path not in seen:
                seen.add(check.path)
                checks.append(check)
    report.files_checked = len(checks)
    progress = progress_factory(len(checks)) if progress_factory is not None else None
    bad = _decode_all(checks, workers, progress)
    report.bad_files = OrderedDict((check.path, bad[check.path]) for check in checks if check.path in bad)
    bad_ids = list(problems.bad_ids)
    for info, paths in zip(infos, files_of_entry):
        if paths is None or any(path in bad for path in paths):
            bad_ids.append(info['video_id'])
        else:
            report.clean_entries.append((info['video_id'], info.get('frame_index')))
    report.bad_ids = sorted(set(bad_ids))
    return report
