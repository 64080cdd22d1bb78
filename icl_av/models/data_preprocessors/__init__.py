"""Data preprocessors: batch, normalise and move inputs to the device."""
from .av_data_preprocessor import AVDataPreprocessor

__all__ = ['AVDataPreprocessor']
