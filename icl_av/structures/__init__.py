"""Data structures that travel with a sample."""
from .av_data_sample import AVDataSample

__all__ = ['AVDataSample']
