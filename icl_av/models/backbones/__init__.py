"""Backbones: timm wrappers for the visual map and the audio embedding."""
from .checkpoint_loading import LoadReport, load_local_weights, read_state_dict
from .timm_backbones import TimmAudioEncoder, TimmVisualBackbone

__all__ = ['TimmVisualBackbone', 'TimmAudioEncoder', 'load_local_weights', 'read_state_dict', 'LoadReport']
