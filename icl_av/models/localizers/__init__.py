"""Localizers: the BaseModel that wires backbones, head, loss, the pseudo-label bank and the
audio prototypes of its posterior maps."""
from .av_localizer import AVLocalizer
from .posterior_maps import PosteriorMaps

__all__ = ['AVLocalizer', 'PosteriorMaps']
