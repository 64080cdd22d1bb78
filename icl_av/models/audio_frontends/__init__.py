"""Audio front ends: waveform -> log spectrogram, on one sample (a transform) or the batch (the preprocessor).

They are registered in MODELS (``type='LogMelFrontend'`` / ``'LinearSTFTFrontend'``), so a
config names one the same way for the per-sample transform and for the batch preprocessor.
"""
from .spectrogram_frontends import LinearSTFTFrontend, LogMelFrontend

__all__ = ['LogMelFrontend', 'LinearSTFTFrontend']
