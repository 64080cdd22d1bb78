"""The localizer's map computations, without a model."""
import torch
import torch.nn.functional as F

from icl_av.models.localizers.map_ops import align_to_views, posterior_maps


def test_align_to_views_crops_then_mirrors_only_flipped_views():
    maps = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(2, 4, 4)
    out = align_to_views(maps, [None, (0.5, 0.0, 1.0, 0.5)], [True, False], (4, 4))
    assert torch.equal(out[0], maps[0].flip(-1))
    # The second view is the top-right quarter, upsampled: its left column comes from column 2.
    assert out[1, 0, 0] < out[1, 0, -1] and out[1, 0, 0] >= maps[1, 0, 2] - 0.5


def test_posterior_maps_prefer_locations_that_answer_this_sound_over_the_prototypes():
    visual = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]).T.reshape(1, 2, 1, 2), dim=1)  # loc0: e0, loc1: e1
    own = torch.tensor([[[1.0, 0.0]]])  # this sound is e0
    prototypes = torch.tensor([[0.0, 1.0]])  # the other kind of sound is e1
    out = posterior_maps(own, visual, prototypes, tau=0.1)
    assert out.shape == (1, 1, 2)
    assert out[0, 0, 0] > 0.99 and out[0, 0, 1] < 0.01
