"""Common base of the audio-visual datasets: split lists, annotations, file checks, failure policy.

A subclass says how an ID maps to media files (:meth:`BaseAVDataset.media_paths`); this
base reads the split list (and the extended benchmark's pair list), attaches the
annotations (VGG-SS json boxes, Flickr-SoundNet XML boxes, RLE masks), checks every
entry's files once at build time and applies the ``on_missing`` policy:

* all missing / empty / unannotated entries are reported *at once* (counts per problem
  and the first few paths);
* ``on_missing='error'`` (default for test splits) raises :class:`AVDatasetError`;
  ``'skip'`` (default for training) drops them and logs how many.

With ``shuffle_audio=SEED`` (the audio-swap control) every sounding entry is then paired
with the audio of another entry, by a seeded derangement; see :class:`BaseAVDataset`.

Test-mode entries whose annotation lists boxes but none valid (all non-finite, inverted or
empty after clipping; the public ``vggss.json`` has 2 such IDs) have no ground truth to score:
they are dropped at build time with a warning naming them (whatever ``on_missing`` says).

At load time a file that fails to decode (a truncated JPEG, a corrupt wav, an mp4 without its
``moov`` atom, ...) follows the ``on_corrupt`` policy:

* ``on_corrupt='error'`` (default for test splits) raises the file's :class:`AVLoadError`,
  with a note naming the sample;
* ``'skip'`` (default for training) returns a :class:`CorruptSample` marker instead, so the
  sample is dropped from its batch by :func:`corrupt_aware_collate` and counted and logged in
  the main process by :class:`icl_av.engine.hooks.CorruptSampleHook` (which also stops a run
  when too much of an epoch fails).

Unlike MMEngine's default, no other random sample is ever substituted, so a broken file can
never go unnoticed. Errors that are not about a file (bugs, bad configs) always raise.
"""
import os
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from icl_av.registry import TRANSFORMS

from .annotations import (FLICKR_FRAME_SIZE, load_flickr_xml, load_rle_masks, load_vggss_boxes, read_pair_list,
                          read_split_list)
from .audio_swap import check_swap_seed, swap_donors
from .corrupt_samples import CorruptSample
from .errors import AVAnnotationError, AVDatasetError, AVLoadError

ON_MISSING_POLICIES = ('error', 'skip')
ON_CORRUPT_POLICIES = ('error', 'skip')
BOX_FORMATS = ('vggss', 'flickr_xml')
NUM_EXAMPLES_IN_REPORT = 5


def name_some(ids: Sequence[str], limit: int = NUM_EXAMPLES_IN_REPORT) -> str:
    """``'a, b, c'`` or ``'a, b, c (+7 more)'``: the IDs a warning names."""
    ids = list(ids)
    shown = ', '.join(str(i) for i in ids[:limit])
    return shown + (f' (+{len(ids) - limit} more)' if len(ids) > limit else '')


class FileIndex:
    """The files of one folder, indexed by stem, listed once (fast for 100k+ files).

    Args:
        folder (str): Folder to scan (may be missing: then it is empty).
        extensions (Sequence[str]): Allowed lowercase extensions, in order of preference.
    """

    def __init__(self, folder: str, extensions: Sequence[str]):
        self.folder = folder
        self.extensions = tuple(extensions)
        self.files: Dict[str, str] = {}
        self.dirs: Dict[str, str] = {}
        if not os.path.isdir(folder):
            return
        rank = {ext: i for i, ext in enumerate(self.extensions)}
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir():
                    self.dirs[entry.name] = entry.path
                    continue
                stem, ext = os.path.splitext(entry.name)
                ext = ext.lower()
                if ext not in rank:
                    continue
                known = self.files.get(stem)
                if known is None or rank[ext] < rank[os.path.splitext(known)[1].lower()]:
                    self.files[stem] = entry.path

    def find(self, stem: str) -> Optional[str]:
        """Path of ``stem`` with an allowed extension, or ``None``."""
        return self.files.get(stem)

    def find_dir(self, stem: str) -> Optional[str]:
        """Path of the sub-folder named ``stem``, or ``None``."""
        return self.dirs.get(stem)

    def expected(self, stem: str) -> str:
        """The path a user should create for ``stem`` (for error messages)."""
        return os.path.join(self.folder, stem + self.extensions[0])


class ProblemReport:
    """Collects unusable entries by reason and formats one message for all of them."""

    def __init__(self):
        self.by_reason: Dict[str, List[str]] = OrderedDict()
        self.bad_ids = set()

    def add(self, video_id: str, reason: str, path: str) -> None:
        """Record that entry ``video_id`` is unusable because of ``reason`` (``path`` shown)."""
        self.by_reason.setdefault(reason, []).append(path)
        self.bad_ids.add(video_id)

    def __bool__(self) -> bool:
        return bool(self.bad_ids)

    def format(self, dataset_name: str, total: int) -> str:
        """One multi-line message: counts per reason and the first few paths of each."""
        lines = [f'{dataset_name}: {len(self.bad_ids)} of {total} entries are unusable:']
        for reason, paths in self.by_reason.items():
            shown = ', '.join(paths[:NUM_EXAMPLES_IN_REPORT])
            more = f' (+{len(paths) - NUM_EXAMPLES_IN_REPORT} more)' if len(paths) > NUM_EXAMPLES_IN_REPORT else ''
            lines.append(f'  - {len(paths)} × {reason}: {shown}{more}')
        return '\n'.join(lines)


class BaseAVDataset(BaseDataset):
    """Base for datasets of (frame, audio) pairs listed in a split file.

    Args:
        ann_file (str): Split list (txt/csv, first column = ID, optional second column =
            annotated frame index), relative to ``data_root``. May be ``''`` when
            ``pair_file`` alone lists the samples.
        box_file (str, optional): VGG-SS style json (normalised boxes), relative to ``data_root``.
        xml_dir (str, optional): Folder of Flickr-SoundNet ``ID.xml`` files, relative to ``data_root``.
        mask_file (str, optional): ``{ID: COCO RLE}`` json, relative to ``data_root``.
        pair_file (str, optional): Extended benchmark ``video,audio,label`` csv. Its rows are
            added after the split list's IDs (which count as sounding with their own audio,
            unless the pair file already lists them as a sounding ``ID,ID`` row).
        require_annotations (bool, optional): Treat an ID without boxes in ``box_file`` /
            ``xml_dir`` as unusable (non-sounding pairs are exempt). Default: ``test_mode``.
        on_missing (str, optional): ``'error'`` or ``'skip'``; default ``'error'`` when
            ``test_mode`` else ``'skip'``.
        on_corrupt (str, optional): What a file that fails to *decode* at load time does:
            ``'error'`` raises its :class:`AVLoadError`, ``'skip'`` returns a
            :class:`CorruptSample` marker (needs ``collate_fn=dict(type='corrupt_aware_collate')``
            and, for training, :class:`CorruptSampleHook`). Default ``'error'`` when
            ``test_mode`` else ``'skip'``.
        shuffle_audio (int, optional): The audio-swap control. ``None`` (default) keeps each
            frame with its own audio; an int ``>= 0`` is the seed of a derangement that pairs
            every sounding frame with the audio of *another* sample of the split (see below).
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments (``data_root``,
            ``data_prefix``, ``pipeline``, ``test_mode``, ``lazy_init``, ``indices``, ...).

    Audio-swap control (``shuffle_audio``):
        A model can score well on a localization benchmark by finding the *salient* object
        of the frame without listening at all. Testing the same frames with the audio of
        other samples tells the two apart: a model that localises the *sounding* object
        loses much of its score, one that ignores the sound keeps it. So, at the end of
        :meth:`load_data_list` (after the ``on_missing`` policy), the kept sounding entries
        are put in a random order drawn with ``np.random.default_rng(shuffle_audio)`` and
        each one takes the audio of the next one in that cycle. The cycle is a single one,
        so no sample keeps its own audio and every audio is used exactly once (a
        derangement); the same seed always gives the same pairing. Only the audio source
        (``audio_path``, which :class:`LoadAudio` and :class:`LoadVideoFrameAndAudio` read;
        for a raw video it is the donor's video) and ``audio_id`` (the donor's ID, so the
        per-sample output names the audio used) change; the frame, its ground truth
        (boxes, masks) and ``video_id`` stay the frame's own. Entries of an extended pair
        list marked non-sounding keep their pairing. Fewer than two sounding entries
        raise :class:`AVDatasetError`.
    """

    def __init__(self, ann_file: str = '', box_file: Optional[str] = None, xml_dir: Optional[str] = None,
                 mask_file: Optional[str] = None, pair_file: Optional[str] = None,
                 require_annotations: Optional[bool] = None, on_missing: Optional[str] = None,
                 on_corrupt: Optional[str] = None, shuffle_audio: Optional[int] = None, test_mode: bool = False,
                 **kwargs):
        if box_file and xml_dir:
            raise ValueError('give either box_file (VGG-SS json) or xml_dir (Flickr XML), not both')
        check_swap_seed(shuffle_audio)
        self.shuffle_audio = shuffle_audio
        self.on_missing = on_missing or ('error' if test_mode else 'skip')
        if self.on_missing not in ON_MISSING_POLICIES:
            raise ValueError(f'on_missing must be one of {ON_MISSING_POLICIES}, got {on_missing!r}')
        self.on_corrupt = on_corrupt or ('error' if test_mode else 'skip')
        if self.on_corrupt not in ON_CORRUPT_POLICIES:
            raise ValueError(f'on_corrupt must be one of {ON_CORRUPT_POLICIES}, got {on_corrupt!r}')
        self.build_problems = ProblemReport()
        self.box_file, self.xml_dir, self.mask_file, self.pair_file = box_file, xml_dir, mask_file, pair_file
        self.require_annotations = test_mode if require_annotations is None else require_annotations
        kwargs.setdefault('max_refetch', 0)
        # Build the transforms from icl_av's registry so the dataset works without default_scope.
        kwargs['pipeline'] = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in kwargs.get('pipeline', [])]
        super().__init__(ann_file=ann_file, test_mode=test_mode, **kwargs)

    # ---- to implement in subclasses -------------------------------------------------------
    def build_file_indexes(self) -> None:
        """Scan the media folders once (called at the start of :meth:`load_data_list`)."""
        raise NotImplementedError

    def media_paths(self, video_id: str, audio_id: str, frame_index: Optional[int],
                    problems: ProblemReport) -> Optional[Dict]:
        """Return the path keys of a sample, or record its problems and return ``None``."""
        raise NotImplementedError

    # ---- common machinery ----------------------------------------------------------------
    def _join(self, path: Optional[str]) -> Optional[str]:
        if not path:
            return path
        return path if os.path.isabs(path) or not self.data_root else os.path.join(self.data_root, path)

    def _name(self) -> str:
        source = os.path.basename(self.ann_file) if self.ann_file else os.path.basename(self.pair_file or '')
        return f'{type(self).__name__}({source}, data_root={self.data_root!r})'

    def _read_entries(self) -> List[Dict]:
        """The samples to build: split-list IDs (sounding) then pair-list rows."""
        entries = []
        if self.ann_file:
            for entry in read_split_list(self.ann_file):
                entries.append(dict(video_id=entry.video_id, audio_id=entry.video_id,
                                    frame_index=entry.frame_index, is_sounding=None))
        if self.pair_file:
            pairs = read_pair_list(self._join(self.pair_file))
            # A list ID already present as a sounding (ID, ID) row is not added twice.
            listed_sounding = {p.video_id for p in pairs if p.is_sounding and p.audio_id == p.video_id}
            entries = [dict(e, is_sounding=True) for e in entries if e['video_id'] not in listed_sounding]
            for pair in pairs:
                entries.append(dict(video_id=pair.video_id, audio_id=pair.audio_id, frame_index=None,
                                    is_sounding=pair.is_sounding))
        if not self.ann_file and not self.pair_file:
            raise AVDatasetError(f'{type(self).__name__}: give ann_file (a split list) and/or pair_file')
        return entries

    def _annotations_for(self, video_id: str, vggss: Optional[Dict], problems: ProblemReport,
                         xml_dropped: Dict[str, int], required: bool) -> Optional[Dict]:
        """Box/mask keys for one ID, or ``None`` (problem recorded) when required and absent."""
        info = {}
        if vggss is not None:
            record = vggss.get(video_id)
            if record is None:
                if required:
                    problems.add(video_id, f'ID not in box file {self.box_file}', video_id)
                    return None
            else:
                info.update(gt_bboxes=record['bboxes'], bbox_frame_size=(1.0, 1.0))
        elif self.xml_dir:
            xml_path = os.path.join(self._join(self.xml_dir), video_id + '.xml')
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

    def load_data_list(self) -> List[Dict]:
        """Build the sample list and apply the ``on_missing`` policy (see module docstring)."""
        if self.data_root and not os.path.isdir(self.data_root):
            raise AVDatasetError(f'{type(self).__name__}: data_root {self.data_root!r} does not exist (expected '
                                 'the dataset folder holding the media folders and the split list)')
        entries = self._read_entries()
        if not entries:
            raise AVDatasetError(f'{self._name()}: the split list is empty (no IDs in '
                                 f'{self.ann_file or self.pair_file})')
        vggss = load_vggss_boxes(self._join(self.box_file)) if self.box_file else None
        masks = load_rle_masks(self._join(self.mask_file)) if self.mask_file else None
        self.build_file_indexes()
        problems = ProblemReport()
        self.build_problems = problems
        xml_dropped: Dict[str, int] = {}
        without_box: List[str] = []
        data_list = []
        for entry in entries:
            video_id, audio_id = entry['video_id'], entry['audio_id']
            paths = self.media_paths(video_id, audio_id, entry['frame_index'], problems)
            # Non-sounding pairs (extended benchmarks) may have no boxes: nothing sounds in them.
            required = self.require_annotations and entry['is_sounding'] is not False
            annotations = self._annotations_for(video_id, vggss, problems, xml_dropped, required)
            if paths is None or annotations is None:
                continue
            info = dict(video_id=video_id, **paths, **annotations)
            if audio_id != video_id:
                info['audio_id'] = audio_id
            if entry['frame_index'] is not None:
                info['frame_index'] = entry['frame_index']
            if entry['is_sounding'] is not None:
                info['is_sounding'] = entry['is_sounding']
            if masks is not None and video_id in masks:
                info['gt_masks'] = masks[video_id]
            if self.test_mode and 'gt_bboxes' in info and len(info['gt_bboxes']) == 0 \
                    and entry['is_sounding'] is not False and 'gt_masks' not in info:
                without_box.append(video_id)  # annotated, but no box survived cleaning: nothing to score
                continue
            if self.test_mode and 'gt_bboxes' not in info:
                info['gt_bboxes'] = np.zeros((0, 4), dtype=np.float32)
            data_list.append(info)
        if xml_dropped:
            print_log(f'{self._name()}: dropped {sum(xml_dropped.values())} invalid boxes from the XML annotations '
                      f'of {len(xml_dropped)} IDs: {name_some(xml_dropped)}', logger='current', level=30)
        if without_box:
            print_log(f'{self._name()}: dropped {len(without_box)} test entries whose annotation has no valid box '
                      f'(nothing to score): {name_some(without_box)}', logger='current', level=30)
        if problems:
            message = problems.format(self._name(), len(entries))
            if self.on_missing == 'error':
                raise AVDatasetError(message + "\n(on_missing='error'; use on_missing='skip' to drop them)")
            print_log(message + f'\n-> skipped {len(problems.bad_ids)} entries (on_missing=\'skip\'), '
                      f'{len(data_list)} remain', logger='current', level=30)
        if not data_list:
            raise AVDatasetError(f'{self._name()}: no usable samples left out of {len(entries)}')
        if self.shuffle_audio is not None:
            self._swap_audio(data_list)
        return data_list

    def audio_source(self, info: Dict) -> Tuple[str, str]:
        """``(path, audio ID)`` of the audio a data-list entry is loaded with.

        ``audio_path`` when the entry has one (frames layout, or a raw video paired with
        another video's audio), else the entry's own ``video_path``.
        """
        path = info.get('audio_path') or info.get('video_path')
        if not path:
            raise AVDatasetError(f'{self._name()}: shuffle_audio cannot swap the audio of {type(self).__name__}: '
                                 f'its samples have neither an audio_path nor a video_path (sample '
                                 f'{info.get("video_id")!r} has keys {sorted(info)})')
        return path, info.get('audio_id', info['video_id'])

    def _swap_audio(self, data_list: List[Dict]) -> None:
        """Give each sounding entry the audio of the next one in a seeded random cycle (in place)."""
        seed = self.shuffle_audio
        swapped = [i for i, info in enumerate(data_list) if info.get('is_sounding') is not False]
        if len(swapped) < 2:
            raise AVDatasetError(f'{self._name()}: shuffle_audio={seed} needs at least 2 sounding samples to pair '
                                 f'each frame with another sample\'s audio; the split has {len(swapped)}')
        sources = [self.audio_source(data_list[i]) for i in swapped]
        same_file = 0
        for position, donor in enumerate(swap_donors(len(swapped), seed)):
            receiver = data_list[swapped[position]]
            path, audio_id = sources[donor]
            same_file += path == sources[position][0]
            receiver['audio_path'] = path
            receiver['audio_id'] = audio_id
        print_log(f'{self._name()}: audio swapped (shuffle_audio={seed}): each of {len(swapped)} sounding samples '
                  f'is paired with another sample\'s audio; {len(data_list) - len(swapped)} non-sounding keep theirs',
                  logger='current')
        if same_file:
            print_log(f'{self._name()}: {same_file} samples got an audio file identical to their own after the swap '
                      '(the split lists the same ID more than once)', logger='current', level=30)

    def prepare_data(self, idx: int):
        """Run the pipeline on sample ``idx``; failures name the sample and are never swallowed.

        Returns:
            The pipeline's output, or a :class:`CorruptSample` marker when a file failed to
            decode and ``on_corrupt='skip'``.
        """
        data_info = None
        try:
            data_info = self.get_data_info(idx)
            data = self.pipeline(data_info)
        except AVLoadError as error:
            video_id = (data_info or BaseDataset.get_data_info(self, idx)).get('video_id')
            if self.on_corrupt == 'skip':
                return CorruptSample(sample_idx=idx, video_id=str(video_id), path=error.path, reason=error.reason)
            error.add_note(f'while loading sample {idx} (video_id={video_id!r}) of {self._name()}')
            raise
        except Exception as error:
            video_id = (data_info or {}).get('video_id')
            error.add_note(f'while loading sample {idx} (video_id={video_id!r}) of {self._name()}')
            raise
        if data is None:
            raise AVLoadError(data_info.get('img_path') or data_info.get('video_path') or str(idx),
                              f'the pipeline returned None for sample {idx} '
                              f'(video_id={data_info.get("video_id")!r}); samples are never replaced')
        return data

    def __getitem__(self, idx: int) -> dict:
        """Return the processed sample ``idx`` (no retry with another index on failure)."""
        if not self._fully_initialized:
            print_log('Please call `full_init()` to speed up data loading when lazy_init=True.',
                      logger='current', level=10)
            self.full_init()
        return self.prepare_data(idx)
