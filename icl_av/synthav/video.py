"""Compose SynthAV scenes into one video (frames + a continuous audio track) with its ground truth.

A SynthAV sample is a still frame and a short sound. Showing several of them one after
another, each for ``seconds_per_scene`` seconds with its own sound, gives a video whose
sounding object is known at every instant: a ready-made input for ``demo/demo.py`` (a
user can try the demo without their own footage) and for end-to-end tests that check
the demo's heatmap peaks against the boxes.

:func:`compose_synthav_video` builds the video in memory; :func:`write_synthav_mp4`
stores it as an mp4 (H.264, or MPEG-4 Part 2 where PyAV lacks libx264, plus AAC mono
audio; needs PyAV) and :meth:`SynthAVVideo.annotation` is the JSON-ready ground truth.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np

from .classes import CLASS_NAMES
from .generator import generate_sample
from .splits import video_id_for


@dataclass
class SynthAVScene:
    """One scene of a composed video: when it plays and where its sound comes from.

    Attributes:
        start (float): First second it is shown (inclusive).
        end (float): Second it stops being shown (exclusive).
        video_id (str): The SynthAV ID of the scene (split + index).
        class_name (str): Class of the sounding object.
        bbox (list[float]): Sounding object's box ``x1, y1, x2, y2`` in pixels of the
            video frame (right/bottom exclusive).
        distractor_class_names (list[str]): Classes of the silent objects also in view.
        distractor_bboxes (list[list[float]]): Their boxes, in the same format.
    """

    start: float
    end: float
    video_id: str
    class_name: str
    bbox: List[float]
    distractor_class_names: List[str] = field(default_factory=list)
    distractor_bboxes: List[List[float]] = field(default_factory=list)


@dataclass
class SynthAVVideo:
    """A composed SynthAV video held in memory.

    Attributes:
        frames (np.ndarray): uint8 ``T×H×W×3`` BGR frames.
        audio (np.ndarray): float32 ``(N,)`` mono waveform in [-1, 1].
        fps (int): Frame rate.
        sample_rate (int): Audio rate in Hz.
        scenes (list[SynthAVScene]): The scenes in playing order.
        seed (int): SynthAV seed the scenes come from.
        split (str): SynthAV scene split the scenes come from.
    """

    frames: np.ndarray
    audio: np.ndarray
    fps: int
    sample_rate: int
    scenes: List[SynthAVScene] = field(default_factory=list)
    seed: int = 0
    split: str = 'test'

    @property
    def duration(self) -> float:
        """Length in seconds (that of the frames; the audio has the same length)."""
        return len(self.frames) / float(self.fps)

    def scene_at(self, time: float) -> SynthAVScene:
        """The scene shown at ``time`` seconds (clamped to the video).

        Raises:
            ValueError: ``time`` is negative or beyond the end of the video.
        """
        if not 0.0 <= time <= self.duration:
            raise ValueError(f'time {time} s is outside the SynthAV video (duration {self.duration:.2f} s)')
        for scene in self.scenes:
            if scene.start <= time < scene.end:
                return scene
        return self.scenes[-1]

    def annotation(self) -> dict:
        """The ground truth as a JSON-ready dict.

        ``scenes`` lists every scene (start, end, video_id, class_name, bbox and the
        silent distractors' classes and boxes) and
        ``per_second`` the sounding box at the start of each whole second
        (``{'time': k, 'video_id', 'class_name', 'bbox'}``), plus the video's
        geometry, rates and origin (seed, split).
        """
        height, width = self.frames.shape[1:3]
        per_second = []
        for second in range(int(np.ceil(self.duration - 1e-9))):
            scene = self.scene_at(float(second))
            per_second.append(dict(time=float(second), video_id=scene.video_id, class_name=scene.class_name,
                                   bbox=list(scene.bbox)))
        return dict(width=int(width), height=int(height), fps=int(self.fps), sample_rate=int(self.sample_rate),
                    duration=float(self.duration), num_frames=int(len(self.frames)), seed=int(self.seed),
                    split=self.split, box_format='x1,y1,x2,y2 pixels (right/bottom exclusive)',
                    scenes=[vars(scene).copy() for scene in self.scenes], per_second=per_second)


def compose_synthav_video(num_scenes: int, seconds_per_scene: float = 2.0, fps: int = 10, img_size: int = 64,
                          seed: int = 0, split: str = 'test', first_index: int = 0,
                          scene_indices: Optional[Sequence[int]] = None,
                          sample_rate: int = 16000) -> SynthAVVideo:
    """Show ``num_scenes`` sounding SynthAV scenes in turn, each with its own sound.

    Scene ``k`` is sample ``first_index + k`` (or ``scene_indices[k]``) of scene split
    ``split`` generated with ``seed``; its frame is repeated for ``seconds_per_scene``
    seconds and its clip of the same length plays meanwhile. Pick a split/seed a model
    was not trained on (the default ``'test'`` split is disjoint from ``'train'``) to
    try it on unseen scenes.

    Args:
        num_scenes (int): Number of scenes (> 0); ignored when ``scene_indices`` is given.
        seconds_per_scene (float): How long each scene plays; ``seconds_per_scene * fps``
            must be a whole number of frames.
        fps (int): Frame rate.
        img_size (int): Square frame side in pixels (even, as H.264 needs; >= 16).
        seed (int): SynthAV seed.
        split (str): SynthAV scene split (any name; different names give disjoint scenes).
        first_index (int): Index of the first scene within the split.
        scene_indices (Sequence[int], optional): Explicit scene indices, in playing order.
        sample_rate (int): Audio rate in Hz.

    Returns:
        SynthAVVideo: Frames, audio and per-scene ground truth.

    Raises:
        ValueError: A non-positive count/length/rate, a scene length that is not a
            whole number of frames, or an odd frame size.
    """
    indices = list(scene_indices) if scene_indices is not None else \
        list(range(first_index, first_index + int(num_scenes)))
    if not indices:
        raise ValueError(f'SynthAV video: num_scenes must be > 0, got {num_scenes}')
    if fps <= 0 or sample_rate <= 0 or seconds_per_scene <= 0:
        raise ValueError(f'SynthAV video: fps, sample_rate and seconds_per_scene must be positive, got '
                         f'fps={fps}, sample_rate={sample_rate}, seconds_per_scene={seconds_per_scene}')
    frames_per_scene = seconds_per_scene * fps
    if abs(frames_per_scene - round(frames_per_scene)) > 1e-6:
        raise ValueError(f'SynthAV video: seconds_per_scene * fps = {seconds_per_scene} * {fps} is not a whole '
                         f'number of frames, so scene changes would fall between frames')
    if img_size % 2:
        raise ValueError(f'SynthAV video: img_size must be even (H.264 frames), got {img_size}')
    frames_per_scene = int(round(frames_per_scene))
    samples_per_scene = int(round(frames_per_scene / fps * sample_rate))

    frames, clips, scenes = [], [], []
    for order, index in enumerate(indices):
        sample = generate_sample(seed, split, int(index), img_size=img_size,
                                 audio_seconds=samples_per_scene / sample_rate, sample_rate=sample_rate)
        clip = np.zeros(samples_per_scene, np.float32)
        clip[:min(samples_per_scene, sample.audio.size)] = sample.audio[:samples_per_scene]
        frames.extend([sample.img] * frames_per_scene)
        clips.append(clip)
        start = order * frames_per_scene / fps
        scenes.append(SynthAVScene(start=float(start), end=float(start + frames_per_scene / fps),
                                   video_id=video_id_for(split, int(index)), class_name=sample.class_name,
                                   bbox=[float(v) for v in sample.gt_bbox],
                                   distractor_class_names=[CLASS_NAMES[c] for c in sample.distractor_class_ids],
                                   distractor_bboxes=[[float(v) for v in box] for box in sample.distractor_bboxes]))
    return SynthAVVideo(frames=np.stack(frames), audio=np.concatenate(clips), fps=int(fps),
                        sample_rate=int(sample_rate), scenes=scenes, seed=int(seed), split=split)


def write_synthav_mp4(video: SynthAVVideo, path: str, audio: Optional[np.ndarray] = None) -> str:
    """Write a composed video as an mp4 with its audio track (PyAV).

    Video is H.264 (near-lossless, CRF 10) or MPEG-4 Part 2 when PyAV has no libx264;
    audio is AAC mono at ``video.sample_rate``.

    Args:
        video (SynthAVVideo): From :func:`compose_synthav_video`.
        path (str): Output ``.mp4`` file (its folder is created).
        audio (np.ndarray, optional): A replacement mono waveform at ``video.sample_rate``
            (e.g. another video's, for a mismatched-sound control); default ``video.audio``.

    Returns:
        str: ``path``.

    Raises:
        ImportError: PyAV is not installed (``pip install av``).
    """
    try:
        import av
    except ImportError as error:
        raise ImportError(f'writing {path} needs PyAV (pip install av), which is not installed') from error
    wave = np.clip(np.asarray(video.audio if audio is None else audio, np.float32), -1.0, 1.0)
    height, width = video.frames.shape[1:3]
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with av.open(str(path), 'w') as container:
        codec = 'libx264' if 'libx264' in av.codecs_available else 'mpeg4'
        picture_stream = container.add_stream(codec, rate=int(video.fps))
        picture_stream.width, picture_stream.height, picture_stream.pix_fmt = width, height, 'yuv420p'
        if codec == 'libx264':
            picture_stream.options = {'crf': '10'}
        else:
            picture_stream.bit_rate = 4_000_000
        sound_stream = container.add_stream('aac', rate=int(video.sample_rate), layout='mono')
        for frame_bgr in video.frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_bgr[:, :, ::-1]), format='rgb24')
            for packet in picture_stream.encode(frame):
                container.mux(packet)
        block = 1024
        for start in range(0, wave.size, block):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave[None, start:start + block]),
                                               format='fltp', layout='mono')
            frame.sample_rate, frame.pts = int(video.sample_rate), start
            for packet in sound_stream.encode(frame):
                container.mux(packet)
        for stream in (picture_stream, sound_stream):
            for packet in stream.encode(None):
                container.mux(packet)
    return str(path)
