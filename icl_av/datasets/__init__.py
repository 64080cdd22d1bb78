"""Audio-visual datasets (frames+audio layout, raw videos, SynthAV) and their transforms."""
from . import transforms  # noqa: F401  (registers the pipeline transforms)
from .av_frames_dataset import AVFramesDataset
from .av_video_dataset import AVVideoDataset
from .base_av_dataset import BaseAVDataset
from .corrupt_samples import CorruptSample, corrupt_aware_collate
from .errors import AVAnnotationError, AVDatasetError, AVLoadError, CorruptSampleLimitError
from .synthav_dataset import SynthAVDataset

__all__ = ['BaseAVDataset', 'AVFramesDataset', 'AVVideoDataset', 'AVLoadError', 'AVDatasetError',
           'AVAnnotationError', 'SynthAVDataset', 'CorruptSample', 'corrupt_aware_collate', 'CorruptSampleLimitError']
