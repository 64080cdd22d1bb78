"""Losses: ICL (intra-frame sampling, inter-frame relation) and AV correspondence."""
from .av_correspondence_loss import AVCorrespondenceLoss
from .icl_loss import ICLLoss
from .pooling import masked_mean, pool_locations

__all__ = ['AVCorrespondenceLoss', 'ICLLoss', 'pool_locations', 'masked_mean']
