"""Backbones: timm wrappers for the visual map and the audio embedding (CNN stages and ViT token grids),
and the adapters that make any other backbone (stage tuples, no ``out_channels``) a tower."""
from .backbone_adapter import (AudioBackboneAdapter, VisualBackboneAdapter, adapt_audio_backbone,
                               adapt_visual_backbone)
from .checkpoint_loading import (CheckpointMismatchError, LoadReport, load_local_weights, load_state_dict_exactly,
                                 read_state_dict)
from .timm_backbones import TimmAudioEncoder, TimmVisualBackbone
from .timm_vit import TimmViTAudioEncoder, TimmViTVisualBackbone

__all__ = ['TimmVisualBackbone', 'TimmAudioEncoder', 'TimmViTVisualBackbone', 'TimmViTAudioEncoder',
           'load_local_weights', 'load_state_dict_exactly', 'read_state_dict', 'LoadReport',
           'CheckpointMismatchError', 'VisualBackboneAdapter', 'AudioBackboneAdapter', 'adapt_visual_backbone',
           'adapt_audio_backbone']
