"""AVVideoDataset: raw videos, decoded on the fly with decord (no pre-extraction).

Layout under ``data_root``::

    videos/ID.mp4            (also .mkv/.webm/.avi/.mov; any fps, audio rate, channel count)
    train.txt / test.txt     split lists, first column = ID (optional second: frame index)

Use with :class:`LoadVideoFrameAndAudio` (``frame_selection='center'`` for testing,
``'random'`` for training; an annotated frame index from the list wins) then
:class:`AudioClip`, which cuts the audio around the chosen frame's timestamp.
For extended lists whose audio comes from another video, the other video's audio
track is loaded with :class:`LoadAudio` (give ``audio_path``) — see ``pair_file``.

mmaction2's video loading (``mmaction.DecordInit`` → ``mmaction.SampleFrames`` →
``mmaction.DecordDecode``, or its PyAV/OpenCV pairs) can replace
:class:`LoadVideoFrameAndAudio`: each sample also carries the keys those transforms read
(``filename``, ``start_index``, ``modality``), and :class:`MMActionFramesToImg` turns their
decoded frames into icl_av's frame, followed by :class:`LoadAudio` and :class:`AudioClip`.
"""
import os
from typing import Dict, Optional

import numpy as np

from icl_av.registry import DATASETS

from .base_av_dataset import BaseAVDataset
from .file_index import FileIndex
from .problem_report import ProblemReport

VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm', '.avi', '.mov')


@DATASETS.register_module()
class AVVideoDataset(BaseAVDataset):
    """Raw-video dataset (see module docstring and :class:`BaseAVDataset` for the args).

    Args:
        data_prefix (dict): ``video`` folder relative to ``data_root``. Default ``dict(video='videos')``.
        **kwargs: :class:`BaseAVDataset` arguments.

    Each sample's ``results`` holds ``video_id``, ``video_path`` and, when the audio comes
    from another video (extended benchmarks), ``audio_path``; plus the annotations.

    For mmaction2's loading transforms it also holds (see :meth:`get_data_info`)
    ``filename`` (the video file, which ``DecordInit``/``PyAVInit``/``OpenCVInit`` open),
    ``start_index`` (0: the index of a video's first frame, which ``SampleFrames`` adds to
    the indices it samples), ``modality`` (``'RGB'``) and ``gt_bboxes_as_annotated``: a
    copy of the boxes, since mmaction's ``DecordDecode`` rescales ``gt_bboxes`` as if they
    were normalised while its other decoders leave them, and :class:`MMActionFramesToImg`
    starts again from the annotation whichever decoder ran.
    """

    #: Keys mmaction2's video loading reads from a sample, with their values for a video file.
    MMACTION_KEYS = dict(start_index=0, modality='RGB')

    def __init__(self, data_prefix: Optional[Dict] = None, **kwargs):
        super().__init__(data_prefix=data_prefix or dict(video='videos'), **kwargs)

    def build_file_indexes(self) -> None:
        """Scan the videos folder once."""
        self.video_index = FileIndex(self.data_prefix['video'], VIDEO_EXTENSIONS)

    def _check(self, video_id: str, stem: str, problems: ProblemReport) -> Optional[str]:
        path = self.video_index.find(stem)
        if path is None:
            problems.add(video_id, 'missing video file', self.video_index.expected(stem))
        elif os.path.getsize(path) == 0:
            problems.add(video_id, 'empty video file', path)
            path = None
        return path

    def media_paths(self, video_id: str, audio_id: str, frame_index: Optional[int],
                    problems: ProblemReport) -> Optional[Dict]:
        """``video_path`` (and ``audio_path`` when the audio is another video's); records problems."""
        video_path = self._check(video_id, video_id, problems)
        audio_path = video_path if audio_id == video_id else self._check(video_id, audio_id, problems)
        if video_path is None or audio_path is None:
            return None
        paths = dict(video_path=video_path)
        if audio_id != video_id:
            paths['audio_path'] = audio_path
        return paths

    def get_data_info(self, idx: int) -> dict:
        """The sample's info plus the keys mmaction2's video loading reads (see the class docstring).

        Added here rather than stored in the data list, so the list stays as small as before.
        """
        info = super().get_data_info(idx)
        info.setdefault('filename', info['video_path'])
        for key, value in self.MMACTION_KEYS.items():
            info.setdefault(key, value)
        if info.get('gt_bboxes') is not None:
            info['gt_bboxes_as_annotated'] = np.array(info['gt_bboxes'], dtype=np.float32, copy=True)
        return info
