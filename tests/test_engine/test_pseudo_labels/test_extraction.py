"""extract_pseudo_labels: every rank's samples once each, in sample_idx order, maps normalised.

A stub model answers each sample with a map and an embedding made from its
``sample_idx``, so the expected result is known without a network. Two ranks are
simulated by replacing the module's ``get_world_size`` / ``all_gather`` with a fake
group whose other rank holds a different shard (with the sampler's duplicate padding).
"""
import pytest
import torch
import torch.nn as nn

from icl_av.engine.pseudo_labels import extraction, extract_pseudo_labels
from icl_av.structures import AVDataSample


def raw_map(index: int) -> torch.Tensor:
    return torch.rand(2, 3, generator=torch.Generator().manual_seed(index)) * (index + 1)


def embedding(index: int) -> torch.Tensor:
    return torch.tensor([float(index), index + 0.5])


class StubLocalizer(nn.Module):
    """``test_step`` of a list of sample indices -> samples carrying the map and embedding of each."""

    def __init__(self, flat=(), drop_sample_idx=False):
        super().__init__()
        self.layer = nn.Linear(1, 1)
        self.flat, self.drop_sample_idx = set(flat), drop_sample_idx
        self.modes = []

    def test_step(self, batch):
        self.modes.append(self.training)
        torch.rand(1)  # a model that draws from the global generator must not move the training stream
        samples = []
        for index in batch:
            sample = AVDataSample(metainfo={} if self.drop_sample_idx else dict(sample_idx=index))
            sample.pred_map = torch.full((2, 3), 0.3) if index in self.flat else raw_map(index)
            sample.audio_embedding = embedding(index)
            samples.append(sample)
        return samples


class WithoutEmbedding(StubLocalizer):
    """Samples without the ``audio_embedding`` the contract asks for."""

    def test_step(self, batch):
        samples = super().test_step(batch)
        for sample in samples:
            del sample.audio_embedding
        return samples


def expected_maps(indices, flat=()):
    maps = []
    for index in indices:
        raw = raw_map(index)
        maps.append(torch.zeros(2, 3) if index in flat else (raw - raw.min()) / (raw.max() - raw.min()))
    return torch.stack(maps)


def test_one_rank_returns_sorted_unique_samples_with_normalised_maps():
    model = StubLocalizer(flat=[2]).train()
    rng_before = torch.get_rng_state()
    result = extract_pseudo_labels(model, [[4, 0], [2, 3], [1, 0]], show_progress=False)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert model.modes == [False, False, False] and model.training  # eval for the pass, then back
    assert result.sample_idx.tolist() == [0, 1, 2, 3, 4]
    torch.testing.assert_close(result.maps, expected_maps(range(5), flat=[2]))
    torch.testing.assert_close(result.embeddings, torch.stack([embedding(i) for i in range(5)]))
    assert result.informative.tolist() == [True, True, False, True, True]
    assert result.device == torch.device('cpu')


def test_two_ranks_are_gathered_padded_then_sorted_and_deduplicated(monkeypatch):
    other_rank = [3, 1, 5, 0]  # longer shard; 0 is the sampler's padding duplicate of rank 0's sample
    other = dict(sample_idx=torch.tensor(other_rank), maps=expected_maps(other_rank),
                 embeddings=torch.stack([embedding(i) for i in other_rank]))

    def fake_all_gather(tensor):
        if not calls:  # first the per-rank [n, h, w, D]
            calls.append('shape')
            return [tensor, torch.tensor([len(other_rank), 2, 3, 2])]
        name = ('sample_idx', 'maps', 'embeddings')[len(calls) - 1]
        calls.append(name)
        assert tensor.shape[0] == len(other_rank)  # padded to the longest shard
        return [tensor, other[name]]

    calls = []
    monkeypatch.setattr(extraction, 'get_world_size', lambda: 2)
    monkeypatch.setattr(extraction, 'all_gather', fake_all_gather)
    monkeypatch.setattr(extraction, 'broadcast', lambda tensor, src: tensor)
    result = extract_pseudo_labels(StubLocalizer(), [[4, 0], [2]], show_progress=False)
    assert calls == ['shape', 'sample_idx', 'maps', 'embeddings']
    assert result.sample_idx.tolist() == [0, 1, 2, 3, 4, 5]
    torch.testing.assert_close(result.maps, expected_maps(range(6)))
    torch.testing.assert_close(result.embeddings, torch.stack([embedding(i) for i in range(6)]))


def test_contract_breaches_are_clear_errors():
    with pytest.raises(KeyError, match='sample_idx'):
        extract_pseudo_labels(StubLocalizer(drop_sample_idx=True), [[0]], show_progress=False)
    with pytest.raises(KeyError, match='audio_embedding'):
        extract_pseudo_labels(WithoutEmbedding(), [[0]], show_progress=False)
    with pytest.raises(RuntimeError, match='no samples'):
        extract_pseudo_labels(StubLocalizer(), [], show_progress=False)


def test_a_batch_whose_samples_all_failed_to_load_is_skipped():
    """on_corrupt='skip' can leave a refresh batch with no samples: it adds nothing and does not reach the model."""
    from icl_av.datasets.corrupt_samples import CorruptSample, corrupt_aware_collate
    empty = corrupt_aware_collate([CorruptSample(sample_idx=2, video_id='v2', path='v2.jpg', reason='truncated')])
    model = StubLocalizer()
    result = extract_pseudo_labels(model, [[4, 0], empty, [1]], show_progress=False)
    assert result.sample_idx.tolist() == [0, 1, 4]
    assert len(model.modes) == 2
