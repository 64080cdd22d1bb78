"""PosteriorMaps: the audio prototypes of a localizer's posterior maps, stored with it in every checkpoint."""
import pytest
import torch

from icl_av.models.localizers import PosteriorMaps
from icl_av.models.localizers.map_ops import posterior_maps
from icl_av.registry import MODELS


def test_prototypes_are_stored_and_travel_in_the_state_dict():
    module = PosteriorMaps()
    assert not module.ready and module.prototypes.numel() == 0
    assert torch.isneginf(module.familiarity_threshold) and module.location_prior.numel() == 0
    centroids, prior = torch.randn(5, 8), torch.rand(3, 4)
    module.set_prototypes(centroids, 0.75, prior)
    fresh = PosteriorMaps()
    fresh.load_state_dict(module.state_dict())  # the empty buffers take the stored shapes
    assert fresh.ready and torch.equal(fresh.prototypes, centroids)
    assert float(fresh.familiarity_threshold) == pytest.approx(0.75)
    assert torch.equal(fresh.location_prior, prior)
    module.set_prototypes(torch.randn(5, 8))  # new prototypes without them: unset again
    assert torch.isneginf(module.familiarity_threshold) and module.location_prior.numel() == 0


def test_bad_prototypes_and_priors_are_refused():
    with pytest.raises(ValueError, match='finite K×D'):
        PosteriorMaps().set_prototypes(torch.tensor([[float('nan')]]))
    with pytest.raises(ValueError, match='finite h×w location prior'):
        PosteriorMaps().set_prototypes(torch.randn(5, 8), 0.5, torch.rand(4))
    with pytest.raises(ValueError, match='tau must be > 0'):
        PosteriorMaps(tau=0)


def test_maps_are_left_alone_until_prototypes_are_stored_then_are_the_posterior():
    module = PosteriorMaps(tau=0.1)
    own = torch.rand(2, 3, 3)
    visual = torch.nn.functional.normalize(torch.randn(2, 4, 3, 3), dim=1)
    audio = torch.randn(2, 4)
    assert module(own, visual, audio) is own
    prototypes = torch.randn(3, 4)
    module.set_prototypes(prototypes)
    torch.testing.assert_close(module(own, visual, audio, fall_back=True), posterior_maps(own, visual, prototypes, 0.1))


def test_the_localizer_keeps_its_prototypes_out_of_the_pseudo_label_bank(tiny_localizer_cfg):
    model = MODELS.build(tiny_localizer_cfg)
    prototypes = torch.randn(3, model.head.embed_dims)
    model.set_audio_prototypes(prototypes, 0.2, torch.rand(4, 4))
    state = model.state_dict()
    assert torch.equal(state['posterior_maps.prototypes'], prototypes)
    assert {'posterior_maps.familiarity_threshold', 'posterior_maps.location_prior'} <= set(state)
    assert not [key for key in state if key.startswith('pseudo_label_bank.') and 'prototype' in key]
    fresh = MODELS.build(tiny_localizer_cfg)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.audio_prototypes, prototypes)


def test_update_pseudo_labels_records_the_sample_list_with_the_round(tiny_localizer_cfg):
    model = MODELS.build(tiny_localizer_cfg)
    model.update_pseudo_labels(torch.arange(2), torch.rand(2, 4, 4), torch.tensor([0, 1]), sample_list='ab' * 32)
    assert model.pseudo_label_bank.sample_list == 'ab' * 32
    model.update_pseudo_labels(torch.arange(2), torch.rand(2, 4, 4), torch.tensor([0, 1]))
    assert model.pseudo_label_bank.sample_list is None  # a round that does not say which list
