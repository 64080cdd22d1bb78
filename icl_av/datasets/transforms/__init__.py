"""Pipeline transforms: loading (image, audio, video), audio clips/features, geometry, packing.

Typical order: ``LoadAVFrame`` + ``LoadAudio`` (or ``LoadVideoFrameAndAudio``) →
``AudioClip`` → [``ComputeAudioFeature`` → ``SpecAugment``] → geometry
(``RandomResizedCrop`` / ``Resize`` / ``CenterCrop`` / ``RandomFlip``) → ``PackAVInputs``.
"""
from .audio import AudioClip, ComputeAudioFeature, SpecAugment
from .formatting import PackAVInputs
from .geometry import CenterCrop, RandomFlip, RandomResizedCrop, Resize
from .loading import LoadAudio, LoadAVFrame, LoadVideoFrameAndAudio

__all__ = ['LoadAVFrame', 'LoadAudio', 'LoadVideoFrameAndAudio', 'AudioClip', 'ComputeAudioFeature',
           'SpecAugment', 'Resize', 'CenterCrop', 'RandomResizedCrop', 'RandomFlip', 'PackAVInputs']
