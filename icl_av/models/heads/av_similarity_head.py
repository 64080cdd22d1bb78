"""Projection of both towers into one embedding space and the all-pairs similarity map."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from icl_av.registry import MODELS


def _projection(in_channels: int, out_channels: int, hidden_channels: Optional[int], dense: bool) -> nn.Module:
    """A linear (1×1 conv for maps) projection, or a 2-layer MLP when ``hidden_channels`` is set."""
    layer = (lambda i, o: nn.Conv2d(i, o, kernel_size=1)) if dense else nn.Linear
    if not hidden_channels:
        return layer(in_channels, out_channels)
    return nn.Sequential(layer(in_channels, hidden_channels), nn.ReLU(inplace=True),
                         layer(hidden_channels, out_channels))


@MODELS.register_module()
class AVSimilarityHead(nn.Module):
    """Project the visual map and the audio embedding to ``embed_dims`` and compare them.

    Both projections are L2-normalised (over channels), so :meth:`similarity` gives
    cosine similarities in ``[-1, 1]``; the losses' temperatures set the sharpness.

    Args:
        visual_channels (int): Channels of the visual backbone's map. The localizer
            fills it from ``visual_backbone.out_channels`` when left ``None``.
        audio_channels (int): Channels of the audio embedding (likewise filled in).
        embed_dims (int): Shared embedding size D. Defaults to 128.
        visual_hidden (int, optional): Hidden width of a 2-layer MLP (1×1 convs)
            for the visual side; ``None`` = a single 1×1 conv.
        audio_hidden (int, optional): Hidden width of a 2-layer MLP for the audio
            side; ``None`` = a single linear layer.
    """

    def __init__(self, visual_channels: int = None, audio_channels: int = None, embed_dims: int = 128,
                 visual_hidden: Optional[int] = None, audio_hidden: Optional[int] = None):
        super().__init__()
        if visual_channels is None or audio_channels is None:
            raise ValueError('AVSimilarityHead needs visual_channels and audio_channels '
                             '(AVLocalizer fills them from the backbones\' out_channels)')
        self.embed_dims = embed_dims
        self.visual_proj = _projection(visual_channels, embed_dims, visual_hidden, dense=True)
        self.audio_proj = _projection(audio_channels, embed_dims, audio_hidden, dense=False)

    def forward(self, visual: torch.Tensor, audio: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Project and normalise.

        Args:
            visual (Tensor): ``B×C×h×w`` backbone map.
            audio (Tensor): ``B×Ca`` audio embedding.

        Returns:
            tuple[Tensor, Tensor]: ``B×D×h×w`` and ``B×D``, unit norm over D.
        """
        return (F.normalize(self.visual_proj(visual), dim=1),
                F.normalize(self.audio_proj(audio), dim=1))

    @staticmethod
    def similarity(visual: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """All-pairs cosine maps: ``out[i, j]`` is frame i's map against audio j.

        Args:
            visual (Tensor): ``B_v×D×h×w`` normalised visual embeddings.
            audio (Tensor): ``B_a×D`` normalised audio embeddings.

        Returns:
            Tensor: ``B_v×B_a×h×w``.
        """
        return torch.einsum('vdhw,ad->vahw', visual, audio)

    @staticmethod
    def paired_similarity(visual: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """Each frame against its own audio only (the diagonal of :meth:`similarity`), ``B×h×w``."""
        return torch.einsum('bdhw,bd->bhw', visual, audio)
