"""Common base of the audio-visual datasets: builds the sample list and applies the failure policies.

A subclass says how an ID maps to media files (:meth:`BaseAVDataset.media_paths`); this
base reads the split list (and the extended benchmark's pair list; :mod:`.sample_entries`),
attaches the annotations (VGG-SS json boxes, Flickr-SoundNet XML boxes, RLE masks), checks
every entry's files once at build time (:mod:`.file_index`, :mod:`.problem_report`) and
applies the ``on_missing`` policy:

* all missing / empty / unannotated entries are reported *at once* (counts per problem
  and the first few paths);
* ``on_missing='error'`` (default for test splits) raises :class:`AVDatasetError`;
  ``'skip'`` (default for training) drops them and logs how many.

With ``shuffle_audio=SEED`` (the audio-swap control) every sounding entry is then paired
with the audio of another entry, by a seeded derangement (:mod:`.audio_swap`); see :class:`BaseAVDataset`.

Test-mode entries whose annotation lists boxes but none valid (all non-finite, inverted or
empty after clipping; the public ``vggss.json`` has 2 such IDs) have no ground truth to score:
they are dropped at build time with a warning naming them (whatever ``on_missing`` says).

At load time a file that fails to decode (a truncated JPEG, a corrupt wav, an mp4 without its
``moov`` atom, ...) follows the ``on_corrupt`` policy:

* ``on_corrupt='error'`` (default for test splits) raises the file's :class:`AVLoadError`,
  with a note naming the sample;
* ``'skip'`` (default for training) returns a :class:`CorruptSample` marker instead, so the
  sample is dropped from its batch before collating (``CorruptSampleHook`` wraps whatever
  collate the training loader uses; :func:`corrupt_aware_collate` does it for other loaders)
  and counted and logged in the main process by :class:`icl_av.engine.hooks.CorruptSampleHook`
  (which also stops a run when too much of an epoch fails).

Unlike MMEngine's default, no other random sample is ever substituted, so a broken file can
never go unnoticed. Errors that are not about a file (bugs, bad configs) always raise.

In a process group of two or more ranks, ``full_init`` ends by checking that every rank
built the same list (:func:`~icl_av.datasets.sample_list.check_ranks_agree_on_samples`):
``sample_idx`` is a position in it, so ranks that saw different files would otherwise hang
DDP or label one clip with another's pseudo-labels.
"""
import os
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from icl_av.registry import build_transforms
from .annotations import load_rle_masks, load_vggss_boxes
from .audio_swap import check_swap_seed, swap_audio_sources
from .corrupt_samples import CorruptSample
from .errors import AVDatasetError, AVLoadError
from .problem_report import ProblemReport, name_some
from .sample_entries import annotation_keys, read_sample_entries
from .sample_list import check_ranks_agree_on_samples, in_loader_worker, report_failed_build

ON_MISSING_POLICIES = ('error', 'skip')
ON_CORRUPT_POLICIES = ('error', 'skip')
BOX_FORMATS = ('vggss', 'flickr_xml')


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
            :class:`CorruptSample` marker (dropped before collating by :class:`CorruptSampleHook`
            in training, by ``collate_fn=dict(type='corrupt_aware_collate')`` elsewhere). Default ``'error'`` when
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
        # Built in icl_av's scope: unprefixed transforms are icl_av's whatever the caller's default scope.
        kwargs['pipeline'] = build_transforms(kwargs.get('pipeline'))
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
        """The samples to build (see :func:`~icl_av.datasets.sample_entries.read_sample_entries`)."""
        return read_sample_entries(self.ann_file, self._join(self.pair_file), type(self).__name__)

    def _annotations_for(self, video_id: str, vggss: Optional[Dict], problems: ProblemReport,
                         xml_dropped: Dict[str, int], required: bool) -> Optional[Dict]:
        """Box keys for one ID (see :func:`~icl_av.datasets.sample_entries.annotation_keys`)."""
        return annotation_keys(video_id, vggss, self.box_file, self._join(self.xml_dir), problems, xml_dropped,
                               required)

    def full_init(self) -> None:
        """Build the sample list (MMEngine's steps), then check that every rank built the same one.

        The check is collective: in a process group every rank builds the dataset, as
        MMEngine's ``Runner`` does. A rank whose build fails tells the others before raising,
        so they stop too rather than wait for it. A loader worker that initialises a lazy
        dataset skips the check (workers take no part in collectives; the main process
        checked before forking them).
        """
        if self._fully_initialized:
            return
        if in_loader_worker():
            super().full_init()
            return
        try:
            super().full_init()
        except Exception as error:
            report_failed_build(error)
            raise
        check_ranks_agree_on_samples(self, self._name())

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
        swap_audio_sources(data_list, self.shuffle_audio, self.audio_source, self._name())

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
