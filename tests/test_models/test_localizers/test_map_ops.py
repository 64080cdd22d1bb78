"""The localizer's map computations, without a model."""
import torch
import torch.nn.functional as F

from icl_av.models.localizers.map_ops import align_to_views, posterior_maps, specificity_against_batch


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


def test_specificity_cancels_what_every_sound_lights_and_ranks_the_own_clip():
    sim = torch.zeros(2, 2, 1, 2)
    sim[:, :, 0, 0] = 1.0  # location 0 answers every sound
    sim[0, 0, 0, 1] = 0.8  # frame 0 answers its own sound at location 1
    sim[1, 0, 0, 1] = 2.0  # frame 1 prefers clip 0 to its own
    own = torch.stack([sim[0, 0], sim[1, 1]])
    specific, ranks = specificity_against_batch(own, sim)
    torch.testing.assert_close(specific[0], torch.tensor([[0.0, 0.8]]))
    assert ranks.tolist() == [0, 1]

