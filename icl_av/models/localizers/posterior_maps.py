"""PosteriorMaps: the kinds of sound a localizer compares each sound with, and the maps they give.

A ``'posterior'`` map (``AVLocalizer(map_mode='posterior')``) asks, at each location, how much
more it answers *this* sound than the kinds of sound in the training data: the softmax of the
location's similarity to the sound against its similarities to those kinds (the audio
prototypes, k-means centroids of the training clips' audio embeddings). A silent object answers
its own kind of sound more than this one and drops out.

This module holds the prototypes as registered buffers (so they travel in every checkpoint and
move with ``model.to``) together with what tells a known sound from an unknown one: the
familiarity threshold (how close a sound must lie to its nearest prototype) and the location
prior (where the training clips' sounds were), the map an unfamiliar sound falls back to.
It has no parameters; the maps themselves are :mod:`~icl_av.models.localizers.map_ops`'
pure functions.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..utils.stored_shapes import resize_to_stored
from .map_ops import familiarity, posterior_maps

_RESIZABLE = ('prototypes', 'location_prior')


class PosteriorMaps(nn.Module):
    """Audio prototypes and the posterior maps against them.

    Buffers: ``prototypes`` float ``K×D`` (empty until set), ``familiarity_threshold`` float
    scalar (-inf until set, so no sound is below it) and ``location_prior`` float ``h×w``
    (empty until set).

    Args:
        tau (float): Softmax temperature of the maps. Defaults to 0.03.
    """

    def __init__(self, tau: float = 0.03):
        super().__init__()
        if tau <= 0:
            raise ValueError(f'PosteriorMaps: tau must be > 0, got {tau}')
        self.tau = float(tau)
        self.register_buffer('prototypes', torch.zeros(0, 0))
        self.register_buffer('familiarity_threshold', torch.tensor(float('-inf')))
        self.register_buffer('location_prior', torch.zeros(0, 0))

    @property
    def ready(self) -> bool:
        """True once prototypes are stored (before that the maps are left as they are)."""
        return self.prototypes.numel() > 0

    @torch.no_grad()
    def set_prototypes(self, prototypes: torch.Tensor, familiarity_threshold: Optional[float] = None,
                       location_prior: Optional[torch.Tensor] = None) -> None:
        """Store ``K×D`` prototypes (replacing the previous ones) with what describes them.

        Args:
            prototypes (Tensor): ``K×D`` audio cluster centroids.
            familiarity_threshold (float, optional): Cosine similarity with the nearest prototype
                below which a sound is unfamiliar; ``None`` leaves it unset.
            location_prior (Tensor, optional): ``h×w`` map of where the training clips' sounds were;
                ``None`` leaves it unset.
        """
        if prototypes.dim() != 2 or not torch.isfinite(prototypes).all():
            raise ValueError(f'PosteriorMaps.set_prototypes: expected finite K×D prototypes, got '
                             f'{tuple(prototypes.shape)}')
        if location_prior is not None and (location_prior.dim() != 2 or not torch.isfinite(location_prior).all()):
            raise ValueError(f'PosteriorMaps.set_prototypes: expected a finite h×w location prior, got '
                             f'{tuple(location_prior.shape)}')
        device = self.prototypes.device
        self.prototypes = prototypes.detach().to(device=device, dtype=torch.float32).clone()
        self.familiarity_threshold = torch.tensor(float('-inf') if familiarity_threshold is None
                                                  else float(familiarity_threshold), device=device)
        self.location_prior = (torch.zeros(0, 0, device=device) if location_prior is None else
                               location_prior.detach().to(device=device, dtype=torch.float32).clone())

    def forward(self, own_maps: torch.Tensor, visual: torch.Tensor, audio: torch.Tensor,
                fall_back: bool = False) -> torch.Tensor:
        """The posterior maps of ``B`` frames with their own sounds.

        Args:
            own_maps (Tensor): ``B×h×w`` cosine maps of each frame with its own sound.
            visual (Tensor): ``B×D×h×w`` L2-normalised visual embeddings.
            audio (Tensor): ``B×D`` audio embeddings.
            fall_back (bool): Give a sound less familiar than the threshold the location prior
                instead of its posterior (see :meth:`fall_back_for_unfamiliar_sounds`).

        Returns:
            Tensor: ``B×h×w`` maps; ``own_maps`` unchanged while no prototypes are stored.
        """
        if not self.ready:
            return own_maps
        maps = posterior_maps(own_maps, visual, self.prototypes, self.tau)
        return self.fall_back_for_unfamiliar_sounds(maps, audio) if fall_back else maps

    def fall_back_for_unfamiliar_sounds(self, maps: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """Replace the maps of sounds unlike every kind of training sound by the location prior.

        For a sound of no known kind the audio tower still lands it near one, and its posterior
        then follows the objects of that kind, silent ones included. Below the familiarity
        threshold (a low quantile of the training clips' own familiarity) the map says only what
        is known: where sounds were in the training clips. Without a threshold or prior the maps
        are returned unchanged.
        """
        threshold, prior = self.familiarity_threshold, self.location_prior
        if not bool(torch.isfinite(threshold)) or not prior.numel():
            return maps
        unfamiliar = familiarity(audio, self.prototypes) < threshold
        if not bool(unfamiliar.any()):
            return maps
        prior = F.interpolate(prior[None, None].to(maps.dtype), size=maps.shape[-2:], mode='bilinear',
                              align_corners=False)[0]
        return torch.where(unfamiliar[:, None, None], prior.expand_as(maps), maps)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Resize the empty buffers to the stored shapes before the default copy."""
        resize_to_stored(self, state_dict, prefix, _RESIZABLE)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return f'tau={self.tau}, prototypes={tuple(self.prototypes.shape)}'
