"""fit_audio_prototypes: the kinds of sound of the training clips, for any checkpoint's posterior maps."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from icl_av.engine.pseudo_labels import fit_audio_prototypes, has_audio_prototypes
from icl_av.structures import AVDataSample


class EmbeddingModel(nn.Module):
    """Returns each sample's audio embedding from a fixed table (and a flat map)."""

    def __init__(self, table: torch.Tensor):
        super().__init__()
        self.table = table

    def test_step(self, batch):
        samples = []
        for idx in batch:
            sample = AVDataSample(metainfo=dict(sample_idx=int(idx)))
            sample.pred_map = torch.rand(2, 2)
            sample.audio_embedding = self.table[int(idx)]
            samples.append(sample)
        return samples


def _two_kinds(n_per_kind=10, dim=8):
    torch.manual_seed(0)
    kinds = torch.eye(dim)[:2]
    points = torch.cat([kinds[k] + 0.05 * torch.randn(n_per_kind, dim) for k in range(2)])
    return F.normalize(points, dim=1), kinds


def test_the_centroids_are_the_kinds_of_sound():
    table, kinds = _two_kinds()
    loader = [list(range(i, i + 4)) for i in range(0, 20, 4)]
    prototypes = fit_audio_prototypes(EmbeddingModel(table), loader, 2, show_progress=False)
    centroids = prototypes.centroids
    assert centroids.shape == (2, 8)
    similarity = F.normalize(centroids, dim=1) @ kinds.t()
    assert sorted(similarity.argmax(dim=1).tolist()) == [0, 1]
    assert similarity.amax(dim=1).min() > 0.95


def test_same_result_for_the_same_seed():
    table, _ = _two_kinds()
    loader = [list(range(i, i + 4)) for i in range(0, 20, 4)]
    first = fit_audio_prototypes(EmbeddingModel(table), loader, 3, seed=5, show_progress=False)
    second = fit_audio_prototypes(EmbeddingModel(table), loader, 3, seed=5, show_progress=False)
    assert torch.equal(first.centroids, second.centroids)


@pytest.mark.parametrize('k', [0, -1, True, 2.0])
def test_bad_counts_are_refused(k):
    with pytest.raises(ValueError, match='num_prototypes must be a positive int'):
        fit_audio_prototypes(EmbeddingModel(torch.zeros(4, 2)), [[0, 1]], k)


def test_more_prototypes_than_clips_is_an_error():
    table, _ = _two_kinds(n_per_kind=2)
    with pytest.raises(ValueError, match='exceeds the number of training clips read \\(4\\)'):
        fit_audio_prototypes(EmbeddingModel(table), [[0, 1, 2, 3]], 5, show_progress=False)


def test_has_audio_prototypes_reads_the_localizers_prototypes():
    from icl_av.models.localizers import PosteriorMaps

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.posterior_maps = PosteriorMaps()

        @property
        def audio_prototypes(self):
            return self.posterior_maps.prototypes

    holder = Holder()
    assert not has_audio_prototypes(holder)
    holder.posterior_maps.set_prototypes(torch.ones(3, 4))
    assert has_audio_prototypes(holder)
    assert not has_audio_prototypes(nn.Module())


def test_familiarity_threshold_and_location_prior_come_from_the_training_clips():
    from icl_av.engine.pseudo_labels import ExtractedPseudoLabels, describe_prototypes
    from icl_av.models.localizers.map_ops import familiarity
    embeddings = F.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.6, 0.8]]), dim=1)
    maps = torch.stack([torch.zeros(2, 2), torch.ones(2, 2), torch.zeros(2, 2), torch.ones(2, 2)])
    extracted = ExtractedPseudoLabels(sample_idx=torch.arange(4), maps=maps, embeddings=embeddings,
                                      device=torch.device('cpu'))
    centroids = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    scores = familiarity(embeddings, centroids)
    assert torch.allclose(scores, torch.tensor([1.0, embeddings[1, 0], 1.0, 0.8]))
    described = describe_prototypes(extracted, centroids, quantile=0.0)
    assert abs(described.familiarity_threshold - 0.8) < 1e-6  # the least familiar training clip
    assert torch.equal(described.location_prior, torch.full((2, 2), 0.5))
    with pytest.raises(ValueError, match='quantile must be in'):
        describe_prototypes(extracted, centroids, quantile=1.0)
