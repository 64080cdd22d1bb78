"""EZ-VSL's localizer: the AV map, optionally blended with an object-guided prior at test time.

The object-guided prior marks where the visual features are strong (objects tend to
activate a CNN more than background), independently of the audio. Blending it in
helps when the AV map is diffuse. It only changes ``predict``; training is untouched.
"""
from typing import Dict

import torch

from icl_av.models.localizers import AVLocalizer
from icl_av.registry import MODELS
from icl_av.structures.map_normalization import FLAT_IS_BACKGROUND, min_max_normalize


def minmax_per_map(maps: torch.Tensor) -> torch.Tensor:
    """Rescale each ``h×w`` map of a ``B×h×w`` batch to ``[0, 1]``; a flat map adds nothing (zeros)."""
    return min_max_normalize(maps, flat_value=FLAT_IS_BACKGROUND)


@MODELS.register_module()
class EZVSLLocalizer(AVLocalizer):
    """:class:`AVLocalizer` with EZ-VSL's object-guided prior.

    Args:
        prior_alpha (float): Weight of the prior in
            ``map = (1 - alpha) * AV map + alpha * prior``, where the prior is the
            channel-wise L2 magnitude of the visual backbone's map. With
            ``alpha > 0`` both maps are min-max normalised per frame first (they
            live on different scales); with ``alpha == 0`` the raw cosine map is
            returned as in :class:`AVLocalizer`. Defaults to 0.
        **kwargs: :class:`AVLocalizer` arguments.
    """

    def __init__(self, *args, prior_alpha: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0.0 <= prior_alpha <= 1.0:
            raise ValueError(f'EZVSLLocalizer: prior_alpha must be in [0, 1], got {prior_alpha}')
        self.prior_alpha = prior_alpha

    def object_prior(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-location magnitude of the visual backbone's map, normalised to [0, 1], ``B×h×w``."""
        return minmax_per_map(feats['backbone_map'].float().norm(dim=1))

    def localization_maps(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """The AV map, blended with the object prior when ``prior_alpha > 0``."""
        av_map = super().localization_maps(feats)
        if self.prior_alpha == 0:
            return av_map
        return (1 - self.prior_alpha) * minmax_per_map(av_map) + self.prior_alpha * self.object_prior(feats)
