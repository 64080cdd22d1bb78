"""Audio front ends: waveform -> log spectrogram, on one sample (a transform) or the batch (the preprocessor).

They are MODELS (``type='LogMelFrontend'`` / ``'LinearSTFTFrontend'``); until the house
redesign of issue 11 they lived in ``icl_av.utils.audio_frontends``.
"""
from .spectrogram_frontends import LinearSTFTFrontend, LogMelFrontend

__all__ = ['LogMelFrontend', 'LinearSTFTFrontend']
