"""AVFramesDataset: the frames + audio layout (VGG-SS, Flickr-SoundNet, VGG-Sound, SynthAV, yours).

Layout under ``data_root`` (folder names set by ``data_prefix``)::

    frames/ID.jpg            one frame per ID (also .jpeg/.png/.bmp/.webp), or
    frames/ID/*.jpg          a folder of frames per ID
    audio/ID.wav             (also .flac/.ogg/.mp3/... or a container such as .mp4/.m4a)
    train.txt / test.txt     split lists, first column = ID

With a folder of frames per ID, the frame used is the annotated index from the split
list (Flickr's ``ID,frame-index``; clamped to the folder), else the centre frame for
testing and a random one for training (chosen each time the sample is loaded).
"""
import os
import random
from typing import Dict, Optional

from icl_av.registry import DATASETS

from .base_av_dataset import BaseAVDataset
from .errors import AVLoadError
from .file_index import FileIndex
from .problem_report import ProblemReport

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
AUDIO_EXTENSIONS = ('.wav', '.flac', '.ogg', '.mp3', '.m4a', '.aac', '.mp4', '.mkv', '.webm', '.avi')


def list_frames(folder: str):
    """Sorted image files of a per-ID frame folder."""
    return sorted(name for name in os.listdir(folder) if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS)


@DATASETS.register_module()
class AVFramesDataset(BaseAVDataset):
    """Frames + audio dataset (see module docstring and :class:`BaseAVDataset` for the args).

    Args:
        data_prefix (dict): ``img`` and ``audio`` folders relative to ``data_root``.
            Default ``dict(img='frames', audio='audio')``.
        **kwargs: :class:`BaseAVDataset` arguments.

    Each sample's ``results`` holds ``video_id``, ``img_path``, ``audio_path`` and, when
    annotated, ``gt_bboxes`` (+ ``bbox_frame_size``), ``gt_masks``, ``frame_index``,
    ``is_sounding``, ``audio_id``.
    """

    def __init__(self, data_prefix: Optional[Dict] = None, **kwargs):
        super().__init__(data_prefix=data_prefix or dict(img='frames', audio='audio'), **kwargs)

    def build_file_indexes(self) -> None:
        """Scan the frames and audio folders once."""
        self.image_index = FileIndex(self.data_prefix['img'], IMAGE_EXTENSIONS)
        self.audio_index = FileIndex(self.data_prefix['audio'], AUDIO_EXTENSIONS)

    def media_paths(self, video_id: str, audio_id: str, frame_index: Optional[int],
                    problems: ProblemReport) -> Optional[Dict]:
        """``img_path`` (or ``img_dir``) and ``audio_path`` of a sample; records what is missing."""
        paths, ok = {}, True
        img_path = self.image_index.find(video_id)
        img_dir = None if img_path else self.image_index.find_dir(video_id)
        if img_path:
            if os.path.getsize(img_path) == 0:
                problems.add(video_id, 'empty image file', img_path)
                ok = False
            paths['img_path'] = img_path
        elif img_dir:
            paths['img_dir'] = img_dir
        else:
            problems.add(video_id, 'missing image file', self.image_index.expected(video_id))
            ok = False
        audio_path = self.audio_index.find(audio_id)
        if audio_path is None:
            problems.add(video_id, 'missing audio file', self.audio_index.expected(audio_id))
            ok = False
        elif os.path.getsize(audio_path) == 0:
            problems.add(video_id, 'empty audio file', audio_path)
            ok = False
        else:
            paths['audio_path'] = audio_path
        return paths if ok else None

    def get_data_info(self, idx: int) -> dict:
        """The sample's info; a per-ID frame folder is resolved to one frame file here."""
        info = super().get_data_info(idx)
        folder = info.pop('img_dir', None)
        if folder is not None:
            frames = list_frames(folder)
            if not frames:
                raise AVLoadError(folder, f'frame folder of {info["video_id"]!r} holds no images')
            if info.get('frame_index') is not None:
                chosen = min(max(int(info['frame_index']), 0), len(frames) - 1)
            elif self.test_mode:
                chosen = len(frames) // 2
            else:
                chosen = random.randrange(len(frames))
            info['img_path'] = os.path.join(folder, frames[chosen])
            info['frame_index'] = chosen
        return info
