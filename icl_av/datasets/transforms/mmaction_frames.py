"""Feed icl_av from mmaction2's video loading: its decoded RGB frame list becomes icl_av's one BGR frame.

mmaction2's loaders (``DecordInit`` → ``SampleFrames`` → ``DecordDecode``, and the PyAV /
OpenCV pairs) decode a *clip*: ``results['imgs']``, a list of RGB ``H×W×3`` frames. icl_av's
pipeline reads *one* uint8 BGR frame, ``results['img']``, with its annotations in that
frame's pixels (``docs/contracts.md``). :class:`MMActionFramesToImg` is the joint between
the two; icl_av's :class:`LoadAudio`, :class:`AudioClip`, geometry and packing follow it.
"""
from typing import Dict, Optional, Union

import numpy as np
from mmcv.transforms import BaseTransform

from icl_av.registry import TRANSFORMS

from ..utils.annotation_geometry import annotations_to_image
from ..utils.media_io import open_video, video_fps

#: Keys mmaction2's geometric transforms add. They move ``imgs`` and ``gt_bboxes`` but not
#: icl_av's ``gt_masks`` / ``gt_map``, so they must not run before this transform.
MMACTION_GEOMETRY_KEYS = ('crop_bbox', 'crop_quadruple', 'flip', 'flip_direction', 'scale_factor', 'keep_ratio',
                          'lazy')


@TRANSFORMS.register_module()
class MMActionFramesToImg(BaseTransform):
    """Turn the RGB frames an mmaction2 decoder produced into icl_av's one BGR frame.

    One of the decoded frames (``frame``) becomes ``img``, converted from RGB to BGR (and
    to 3 channels: decord can hand back row-padded 4-channel frames). Its index in the
    video (from ``frame_inds``) and its timestamp are recorded, and the audio is aimed at
    that moment: ``audio_center`` is the frame's time when the audio is the video's own
    (``LoadAudio`` then reads ``audio_path``, which defaults to the video), as
    :class:`LoadVideoFrameAndAudio` does. The boxes restart from the dataset's annotation
    (``gt_bboxes_as_annotated``, which :class:`AVVideoDataset` adds), because
    mmaction's ``DecordDecode`` and ``RawFrameDecode`` rescale ``gt_bboxes`` as if they were
    normalised while ``PyAVDecode`` and ``OpenCVDecode`` leave them; then boxes, maps and
    masks are brought to the frame's pixels like every icl_av loader does.

    Put icl_av's geometric transforms (``Resize``, ``RandomResizedCrop``, ``RandomFlip``,
    ...) after this one: mmaction2's move ``imgs`` and ``gt_bboxes`` but not ``gt_masks`` or
    ``gt_map``, so running them before it raises ``ValueError``.

    Required Keys:

        - imgs (list of ``H×W×3`` uint8 RGB arrays, or one ``T×H×W×3`` array)
        - filename or video_path (the video; read for its frame rate when ``avg_fps``
          is absent)
        - frame_inds (optional; the sampled indices, ``start_index`` included)
        - start_index (optional; default 0)
        - avg_fps (optional; set by ``DecordInit``)
        - frame_index (optional; an annotated frame: the decoded one must be it)
        - audio_path (optional; another clip's audio to pair with the frame)
        - gt_bboxes_as_annotated (optional; the dataset's boxes, needed when there are
          ``gt_bboxes``)
        - bbox_frame_size, gt_map_from_boxes, gt_map, gt_masks (optional; as in
          :class:`LoadAVFrame`)

    Added Keys:

        - img (uint8 BGR ``H×W×3``)
        - frame_time (seconds; only with ``frame_inds``)
        - audio_center (``frame_time``; only with ``frame_inds`` and the video's own audio)
        - audio_path (the video, when absent)
        - gt_map (only with ``gt_map_from_boxes``, as in :class:`LoadAVFrame`)

    Modified Keys:

        - frame_index (the chosen frame's index in the video; only with ``frame_inds``)
        - ori_shape, img_shape (the frame's ``(H, W)``)
        - gt_bboxes (``gt_bboxes_as_annotated`` in pixels of the frame)
        - gt_masks (resized to the frame when annotated at another size)

    Removed Keys:

        - imgs, video_reader, gt_bboxes_as_annotated
        - bbox_frame_size
        - gt_map_from_boxes (when there are ``gt_bboxes``)

    Args:
        frame (int | str): Which decoded frame becomes ``img``: ``'center'`` (default,
            the middle one of the clip; the only one for ``clip_len=1, num_clips=1``) or
            an index into ``imgs``.
    """

    def __init__(self, frame: Union[int, str] = 'center'):
        if frame != 'center' and not isinstance(frame, int):
            raise ValueError(f"MMActionFramesToImg frame must be 'center' or an int index, got {frame!r}")
        self.frame = frame

    def _pick(self, frames) -> int:
        """Index into the decoded frames of the one that becomes ``img``."""
        count = len(frames)
        if count == 0:
            raise ValueError('MMActionFramesToImg got no decoded frames in results["imgs"]')
        index = count // 2 if self.frame == 'center' else self.frame
        if not -count <= index < count:
            raise ValueError(f'MMActionFramesToImg frame={self.frame} is out of range for {count} decoded frames')
        return index % count

    @staticmethod
    def _fps(results: Dict, path: str) -> float:
        fps = results.get('avg_fps')
        if fps is not None and np.isfinite(fps) and fps > 0:
            return float(fps)
        return video_fps(open_video(path), path)

    def transform(self, results: Dict) -> Dict:
        """Pick the frame, convert it to BGR, time the audio and move the annotations to it."""
        ahead = [key for key in MMACTION_GEOMETRY_KEYS if key in results]
        if ahead:
            raise ValueError(f'MMActionFramesToImg: a geometric transform already ran ({", ".join(ahead)} set); '
                             'put icl_av\'s geometric transforms after MMActionFramesToImg, since mmaction2\'s '
                             'move the frames and boxes but not the masks and maps')
        frames = results.pop('imgs')
        if isinstance(frames, np.ndarray) and frames.ndim == 3:
            frames = frames[None]
        chosen = self._pick(frames)
        rgb = np.asarray(frames[chosen])
        if rgb.ndim != 3 or rgb.shape[2] < 3:
            raise ValueError(f'MMActionFramesToImg expects RGB frames H×W×3, got shape {rgb.shape}')
        img = np.ascontiguousarray(rgb[:, :, 2::-1], dtype=np.uint8)
        results.pop('video_reader', None)
        results['img'] = img

        path = results.get('video_path') or results['filename']
        index: Optional[int] = None
        if results.get('frame_inds') is not None:
            inds = np.asarray(results['frame_inds']).reshape(-1)
            index = int(inds[chosen if inds.size == len(frames) else 0]) - int(results.get('start_index', 0))
        annotated = results.get('frame_index')
        if annotated is not None and index is not None and int(annotated) != index:
            raise ValueError(f'MMActionFramesToImg: {path} is annotated on frame {int(annotated)} but frame '
                             f'{index} was decoded; sample the annotated frame (or load it with '
                             'LoadVideoFrameAndAudio, which honours it)')
        if index is not None:
            results['frame_index'] = index
            results['frame_time'] = (index + 0.5) / self._fps(results, path)
            if (results.get('audio_path') or path) == path:
                results['audio_center'] = results['frame_time']
        results.setdefault('audio_path', path)

        if 'gt_bboxes_as_annotated' in results:
            results['gt_bboxes'] = results.pop('gt_bboxes_as_annotated')
        elif results.get('gt_bboxes') is not None and len(results['gt_bboxes']):
            raise ValueError('MMActionFramesToImg: the sample has gt_bboxes but no gt_bboxes_as_annotated, so '
                             'whether the mmaction decoder rescaled them is unknown; use AVVideoDataset (or add '
                             'a copy of the annotated boxes under gt_bboxes_as_annotated)')
        annotations_to_image(results, img.shape[0], img.shape[1])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(frame={self.frame!r})'


__all__ = ['MMActionFramesToImg']
