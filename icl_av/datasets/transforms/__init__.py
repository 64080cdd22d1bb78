"""Pipeline transforms: loading (image, audio, video), audio clips/features, geometry, packing.

Typical order: ``LoadAVFrame`` + ``LoadAudio`` (or ``LoadVideoFrameAndAudio``) →
``AudioClip`` → [``ComputeAudioFeature`` → ``SpecAugment``] → geometry
(``RandomResizedCrop`` / ``Resize`` / ``CenterCrop`` / ``RandomFlip``) → ``PackAVInputs``.
With mmaction2's video loading, ``MMActionFramesToImg`` follows its decoder and
``LoadAudio`` follows it.
"""
from .audio import AudioClip, ComputeAudioFeature, SpecAugment
from .formatting import PackAVInputs
from .geometry import CenterCrop, RandomFlip, RandomResizedCrop, Resize
from .loading import LoadAudio, LoadAVFrame, LoadVideoFrameAndAudio
from .mmaction_frames import MMActionFramesToImg

__all__ = ['LoadAVFrame', 'LoadAudio', 'LoadVideoFrameAndAudio', 'AudioClip', 'ComputeAudioFeature',
           'SpecAugment', 'Resize', 'CenterCrop', 'RandomResizedCrop', 'RandomFlip', 'PackAVInputs',
           'MMActionFramesToImg']
