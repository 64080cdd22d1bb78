"""AVSimilarityHead: projections, normalisation and the all-pairs cosine maps."""
import pytest
import torch
import torch.nn.functional as F

from icl_av.models.heads import AVSimilarityHead


@pytest.mark.parametrize('hidden', [None, 32])
def test_projection_shapes_and_unit_norm(hidden):
    head = AVSimilarityHead(visual_channels=8, audio_channels=12, embed_dims=6,
                            visual_hidden=hidden, audio_hidden=hidden)
    visual, audio = head(torch.randn(3, 8, 4, 5), torch.randn(3, 12))
    assert visual.shape == (3, 6, 4, 5) and audio.shape == (3, 6)
    assert torch.allclose(visual.norm(dim=1), torch.ones(3, 4, 5), atol=1e-5)
    assert torch.allclose(audio.norm(dim=1), torch.ones(3), atol=1e-5)


def test_similarity_matches_per_location_cosine():
    visual = F.normalize(torch.randn(2, 4, 3, 3), dim=1)
    audio = F.normalize(torch.randn(3, 4), dim=1)
    sim = AVSimilarityHead.similarity(visual, audio)
    assert sim.shape == (2, 3, 3, 3)
    for i in range(2):
        for j in range(3):
            expected = F.cosine_similarity(visual[i], audio[j][:, None, None], dim=0)
            assert torch.allclose(sim[i, j], expected, atol=1e-6)
    paired = AVSimilarityHead.paired_similarity(visual, audio[:2])
    assert torch.allclose(paired, torch.stack([sim[0, 0], sim[1, 1]]), atol=1e-6)


def test_missing_channels_is_explained():
    with pytest.raises(ValueError, match='visual_channels'):
        AVSimilarityHead(embed_dims=4)
