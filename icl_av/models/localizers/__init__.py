"""Localizers: the BaseModel that wires backbones, head, loss and the pseudo-label bank."""
from .av_localizer import AVLocalizer

__all__ = ['AVLocalizer']
