"""Loading transforms: decode the frame, the audio, or both from a video.

They read the paths the dataset put in ``results`` and write the decoded arrays in the
conventions of ``docs/contracts.md``. A file that cannot be decoded raises
:class:`icl_av.datasets.errors.AVLoadError` naming the file and the reason.
"""
import random
from typing import Dict, Optional

from mmcv.transforms import BaseTransform

from icl_av.registry import TRANSFORMS

from ..utils.annotation_geometry import annotations_to_image
from ..utils.media_io import AudioSource, decode_image_scaled, load_audio, open_video, read_video_frame, video_fps

FRAME_SELECTIONS = ('center', 'random')

def store_waveform(results: Dict, wave, sample_rate: int, meta: Dict) -> Dict:
    """Put a decoded mono waveform and its metadata into ``results`` (the contract's audio keys)."""
    results['audio'] = wave
    results['audio_sample_rate'] = sample_rate
    results['audio_meta'] = meta
    results['audio_is_feature'] = False
    return results


@TRANSFORMS.register_module()
class LoadAVFrame(BaseTransform):
    """Decode ``results['img_path']`` into ``results['img']`` (uint8 BGR ``H×W×3``).

    Grayscale, palette, alpha, 16-bit and CMYK images all come out as 3-channel uint8.
    Truncated JPEG/PNG files are rejected rather than decoded with a grey tail. After
    decoding, dataset annotations stored in their own frame (normalised VGG-SS boxes,
    256×256 Flickr boxes, masks of another size) are converted to pixels of this image.

    Reduced decoding (``min_size``) makes libjpeg compute a 1/2, 1/4 or 1/8 size image
    straight from the DCT coefficients, several times faster than a full decode of a
    large frame that the pipeline shrinks anyway. Its pixels differ slightly from a full
    decode followed by a resize, so it is off unless a config asks for it, and the
    transform cannot see what follows it: ``min_size`` must be what the next resize or
    crop needs. For ``Resize(scale=(224, 224))`` that is 224; for
    ``RandomResizedCrop(scale=224, crop_ratio_range=(0.5, 1.0))`` with the default aspect
    ratios (3/4 to 4/3) the smallest window spans ``sqrt(0.5 * 3/4) = 0.61`` of a square
    frame's side, so ``min_size=366`` keeps every window at 224 px or more before its
    resize. Boxes given in pixels of the full frame (no ``bbox_frame_size``) are scaled to
    the reduced image.

    Required Keys:

        - img_path
        - gt_bboxes (optional; ``N×4`` x1y1x2y2 in the frame ``bbox_frame_size`` names)
        - bbox_frame_size (optional; ``(W, H)`` of the boxes' frame, absent = pixels of the file)
        - gt_map_from_boxes (optional; build the Flickr consensus map from the boxes)
        - gt_map (optional; a consensus map the dataset already gives is kept)
        - gt_masks (optional; COCO RLE, possibly of another size)

    Added Keys:

        - img (uint8 BGR ``H×W×3``, the decoded, possibly reduced, image)
        - ori_shape, img_shape (``(H, W)`` of ``img``)
        - gt_map (``H×W`` float32 consensus map; only with ``gt_map_from_boxes`` and no ``gt_map``)

    Modified Keys:

        - gt_bboxes (float32 pixels of ``img``, clipped to it)
        - gt_masks (resized to ``img`` when annotated at another size)

    Removed Keys:

        - bbox_frame_size
        - gt_map_from_boxes (when there are ``gt_bboxes``)

    Args:
        reduce_factor (int): 1 (default), 2, 4 or 8: decode every image directly at 1/k
            size (JPEG through libjpeg's scaling, other formats resized by cv2).
        min_size (int, optional): Decode each JPEG at the smallest of 1/8, 1/4, 1/2 or full
            size whose shorter side is still ``min_size`` pixels or more (chosen per file from
            its header; other formats decode at full size). ``None`` (default) decodes at full
            size. Exclusive with ``reduce_factor``.
    """

    def __init__(self, reduce_factor: int = 1, min_size: Optional[int] = None):
        if reduce_factor not in (1, 2, 4, 8):
            raise ValueError(f'LoadAVFrame reduce_factor must be 1, 2, 4 or 8, got {reduce_factor}')
        if min_size is not None and (int(min_size) < 1 or reduce_factor != 1):
            raise ValueError(f'LoadAVFrame min_size must be a positive side length and excludes reduce_factor, '
                             f'got min_size={min_size}, reduce_factor={reduce_factor}')
        self.reduce_factor = reduce_factor
        self.min_size = None if min_size is None else int(min_size)

    def transform(self, results: Dict) -> Dict:
        """Decode the frame and bring the annotations to its pixel frame."""
        img, factor, full_size = decode_image_scaled(results['img_path'], self.reduce_factor, self.min_size)
        results['img'] = img
        if factor > 1 and results.get('gt_bboxes') is not None and results.get('bbox_frame_size') is None:
            # Boxes in pixels of the full frame: name that frame so they are scaled to the reduced image.
            results['bbox_frame_size'] = full_size
        annotations_to_image(results, img.shape[0], img.shape[1])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(reduce_factor={self.reduce_factor}, min_size={self.min_size})'


@TRANSFORMS.register_module()
class LoadAudio(BaseTransform):
    """Decode ``results['audio_path']`` into a mono float32 waveform at ``sample_rate``.

    soundfile reads wav/flac/ogg/mp3 (8/16/24/32-bit integer and float PCM, any channel
    count); other extensions (mp4, mkv, webm, avi, m4a, ...) go through PyAV. Channels
    are averaged to mono on every path (one loudness whatever the file type) and the
    result is resampled with torchaudio.

    With ``lazy=True`` nothing is decoded here: the file's header is read and checked
    and ``audio`` holds an :class:`~icl_av.datasets.utils.media_io.AudioSource`, from
    which the :class:`AudioClip` that must follow reads only the clip (a 3 s clip of a
    10 s wav reads 3 s). The clip's samples and ``audio_meta`` are identical to
    ``lazy=False`` for the same random state; wav/flac files at another rate and other
    formats are decoded whole by ``AudioClip``. NaN/Inf and the amplitude bound are then
    checked on the samples read, the clip.

    Required Keys:

        - audio_path

    Added Keys:

        - audio (``(N,)`` float32 mono, or an ``AudioSource`` with ``lazy=True``)
        - audio_sample_rate (``sample_rate``)
        - audio_meta (``rate``, ``offset`` = 0, ``duration`` of the whole file, ``source``,
          ``orig_rate``, ``orig_channels``)
        - audio_is_feature (False)

    Args:
        sample_rate (int): Output rate in Hz. Default 16000.
        nonfinite (str): NaN/Inf policy: ``'error'`` (default) raises ``AVLoadError``,
            ``'zero'`` replaces them with 0 and logs a warning.
        backend (str): ``'auto'``, ``'soundfile'`` or ``'container'`` (PyAV).
        lazy (bool): Leave the decoding to the following ``AudioClip`` (see above).
            Default False.
    """

    def __init__(self, sample_rate: int = 16000, nonfinite: str = 'error', backend: str = 'auto',
                 lazy: bool = False):
        if sample_rate <= 0:
            raise ValueError(f'LoadAudio sample_rate must be positive, got {sample_rate}')
        self.sample_rate = int(sample_rate)
        self.nonfinite = nonfinite
        self.backend = backend
        self.lazy = bool(lazy)

    def transform(self, results: Dict) -> Dict:
        """Decode the waveform (or, with ``lazy``, read the header for ``AudioClip``)."""
        if self.lazy:
            source = AudioSource(results['audio_path'], self.sample_rate, self.nonfinite, self.backend)
            if source.windowed:
                return store_waveform(results, source, self.sample_rate, source.meta())
            # Other formats: decoded whole now, as without lazy (AudioClip cuts the array).
        wave, meta = load_audio(results['audio_path'], self.sample_rate, self.nonfinite, self.backend)
        return store_waveform(results, wave, self.sample_rate, meta)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sample_rate={self.sample_rate}, nonfinite={self.nonfinite!r}, '
                f'backend={self.backend!r}, lazy={self.lazy})')


@TRANSFORMS.register_module()
class LoadVideoFrameAndAudio(BaseTransform):
    """Decode one frame (decord) and the audio track (PyAV) of ``results['video_path']``.

    The frame is ``results['frame_index']`` when the dataset gives one (an annotated
    frame), else the centre frame (``frame_selection='center'``, for testing) or a
    uniformly random one (``'random'``, for training). The frame's timestamp is stored
    as ``audio_center`` so :class:`AudioClip` cuts the audio around it. When the dataset
    pairs the frame with another clip's audio (``results['audio_path']``, extended
    benchmarks), that file's audio is loaded instead and clipped around its own centre.

    Required Keys:

        - video_path
        - frame_index (optional; the annotated frame, clamped to the video)
        - audio_path (optional; another clip's audio to pair with the frame)
        - gt_bboxes, bbox_frame_size, gt_map_from_boxes, gt_map, gt_masks (optional; as in
          :class:`LoadAVFrame`)

    Added Keys:

        - img (uint8 BGR ``H×W×3``)
        - ori_shape, img_shape (``(H, W)`` of ``img``)
        - frame_time (seconds: the middle of the chosen frame)
        - audio_center (``frame_time``; only when the audio is the video's own)
        - audio, audio_sample_rate, audio_meta, audio_is_feature (with ``load_audio``; as in
          :class:`LoadAudio`, ``audio`` always a decoded ``(N,)`` float32 waveform)
        - gt_map (only with ``gt_map_from_boxes``, as in :class:`LoadAVFrame`)

    Modified Keys:

        - frame_index (the decoded frame's index; added when the dataset gives none)
        - gt_bboxes, gt_masks (pixels of ``img``, as in :class:`LoadAVFrame`)

    Removed Keys:

        - bbox_frame_size
        - gt_map_from_boxes (when there are ``gt_bboxes``)

    Args:
        sample_rate (int): Audio rate in Hz (channels averaged to mono, then resampled).
        frame_selection (str): ``'center'`` (default) or ``'random'``.
        load_audio (bool): Also decode the audio track (default True). A video without
            an audio track then raises ``AVLoadError``.
        nonfinite (str): NaN/Inf audio policy, as in :class:`LoadAudio`.
        decode_size (tuple[int, int], optional): ``(width, height)`` to decode the frame
            at directly (faster for large videos). Annotations follow.
    """

    def __init__(self, sample_rate: int = 16000, frame_selection: str = 'center', load_audio: bool = True,
                 nonfinite: str = 'error', decode_size: Optional[tuple] = None):
        if frame_selection not in FRAME_SELECTIONS:
            raise ValueError(f'frame_selection must be one of {FRAME_SELECTIONS}, got {frame_selection!r}')
        self.sample_rate = int(sample_rate)
        self.frame_selection = frame_selection
        self.load_audio = load_audio
        self.nonfinite = nonfinite
        self.decode_size = tuple(decode_size) if decode_size is not None else None

    def choose_frame(self, num_frames: int, annotated: Optional[int]) -> int:
        """Pick the frame index: the annotated one (clamped), else centre or random."""
        if annotated is not None:
            return min(max(int(annotated), 0), num_frames - 1)
        if self.frame_selection == 'random':
            return random.randrange(num_frames)
        return num_frames // 2

    def transform(self, results: Dict) -> Dict:
        """Decode the frame and the audio track."""
        path = results['video_path']
        width, height = self.decode_size if self.decode_size else (-1, -1)
        reader = open_video(path, width=width, height=height)
        fps = video_fps(reader, path)
        index = self.choose_frame(len(reader), results.get('frame_index'))
        img = read_video_frame(reader, path, index)
        del reader
        results['img'] = img
        results['frame_index'] = index
        results['frame_time'] = (index + 0.5) / fps
        audio_path = results.get('audio_path') or path
        if audio_path == path:  # own audio: cut it around this frame; another clip's audio: its centre
            results['audio_center'] = results['frame_time']
        annotations_to_image(results, img.shape[0], img.shape[1])
        if self.load_audio:
            wave, meta = load_audio(audio_path, self.sample_rate, self.nonfinite)
            store_waveform(results, wave, self.sample_rate, meta)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sample_rate={self.sample_rate}, '
                f'frame_selection={self.frame_selection!r}, load_audio={self.load_audio})')
