"""refresh_pseudo_labels: one whole refresh (extract -> cluster -> prototypes -> second pass -> keep -> update).

A stub localizer answers each ``sample_idx`` with a known map and embedding and records what the
refresh calls on it, so the chain's order and what reaches the bank are checked without a network.
"""
from contextlib import contextmanager

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from icl_av.engine.pseudo_labels import refresh_audio_prototypes, refresh_pseudo_labels
from icl_av.models.utils import PseudoLabelBank
from icl_av.structures import AVDataSample

NUM_SAMPLES = 8
DIGEST = 'cd' * 32


class StubLocalizer(nn.Module):
    """Maps and embeddings from ``sample_idx``; with ``posterior`` its maps change once prototypes are set."""

    def __init__(self, posterior=False, flat=()):
        super().__init__()
        self.pseudo_label_bank = PseudoLabelBank()
        self.posterior, self.flat = posterior, set(flat)
        self.calls, self.prototypes = [], None

    @property
    def maps_use_prototypes(self):
        return self.posterior

    @contextmanager
    def labelling(self):
        self.calls.append('labelling')
        yield self

    def set_audio_prototypes(self, prototypes, familiarity_threshold=None, location_prior=None):
        self.calls.append('set_audio_prototypes')
        self.prototypes = (prototypes, familiarity_threshold, location_prior)

    def update_pseudo_labels(self, sample_idx, maps, clusters, valid=None, sample_list=None):
        self.calls.append('update_pseudo_labels')
        change = self.pseudo_label_bank.update(sample_idx, maps, clusters, valid=valid)
        self.pseudo_label_bank.record_sample_list(sample_list)
        return change

    def test_step(self, batch):
        self.calls.append('test_step')
        second_pass = self.posterior and self.prototypes is not None
        samples = []
        for index in batch:
            sample = AVDataSample(metainfo=dict(sample_idx=index))
            pred_map = torch.arange(4.).view(2, 2) * (index + 1)
            sample.pred_map = torch.full((2, 2), 0.5) if index in self.flat else (
                pred_map.flip(-1) if second_pass else pred_map)
            sample.audio_embedding = F.normalize(torch.tensor([1.0, 0.1 * index]) if index % 2 else
                                                 torch.tensor([0.1 * index, 1.0]), dim=0)
            samples.append(sample)
        return samples


LOADER = [[3, 0, 5], [1, 7, 2], [6, 4]]


def test_a_cosine_refresh_reads_once_stores_prototypes_then_the_kept_labels():
    model = StubLocalizer(flat=[2])
    rng = torch.get_rng_state()
    result = refresh_pseudo_labels(model, LOADER, num_clusters=2, seed=3, sample_list=DIGEST, show_progress=False)
    assert torch.equal(torch.get_rng_state(), rng)
    assert model.calls == ['labelling'] + ['test_step'] * 3 + ['set_audio_prototypes', 'update_pseudo_labels']
    bank = model.pseudo_label_bank
    assert int(bank.round) == 1 and bank.sample_list == DIGEST
    assert bank.valid.tolist() == [index != 2 for index in range(NUM_SAMPLES)]  # a flat map is not kept
    kinds = {(index % 2, int(cluster)) for index, cluster in enumerate(bank.clusters)}
    assert len(kinds) == 2 and len({cluster for _, cluster in kinds}) == 2  # one cluster per kind of sound
    assert model.prototypes[0].shape == (2, 2) and model.prototypes[2].shape == (2, 2)
    torch.testing.assert_close(result.maps[1], torch.arange(4.).view(2, 2) / 3)
    stats = result.statistics
    assert stats['num_samples'] == NUM_SAMPLES and stats['kept'] == pytest.approx(7 / 8)
    assert stats['clusters_empty'] == 0 and 'map_change' not in stats and stats['seconds'] >= 0


def test_maps_that_use_the_prototypes_are_read_again_after_storing_them():
    model = StubLocalizer(posterior=True)
    result = refresh_pseudo_labels(model, LOADER, num_clusters=2, sample_list=DIGEST, show_progress=False)
    reads = ['labelling'] + ['test_step'] * 3
    assert model.calls == reads + ['set_audio_prototypes'] + reads + ['update_pseudo_labels']
    expected = torch.arange(4.).view(2, 2).flip(-1) / 3  # the second pass's maps are stored
    torch.testing.assert_close(result.maps[0], expected)
    torch.testing.assert_close(model.pseudo_label_bank.gather([0])['maps'][0], expected, atol=0.5 / 255, rtol=0)


def test_a_model_without_prototypes_is_labelled_and_a_model_without_a_bank_is_refused():
    model = StubLocalizer()
    model.set_audio_prototypes = None
    refresh_pseudo_labels(model, LOADER, num_clusters=2, sample_list=DIGEST, show_progress=False)
    assert 'set_audio_prototypes' not in model.calls and model.pseudo_label_bank.ready
    model.update_pseudo_labels = None
    with pytest.raises(TypeError, match='update_pseudo_labels'):
        refresh_pseudo_labels(model, LOADER, num_clusters=2, show_progress=False)


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_clusters=0), 'num_clusters'),
    (dict(num_clusters=2, kmeans_iters=0), 'kmeans_iters'),
    (dict(num_clusters=2, kmeans_metric='l1'), 'kmeans_metric'),
    (dict(num_clusters=NUM_SAMPLES + 1), r'num_clusters=9 exceeds the number of training samples \(8\)'),
])
def test_unusable_clustering_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        refresh_pseudo_labels(StubLocalizer(), LOADER, sample_list=DIGEST, show_progress=False, **kwargs)


def test_refreshing_the_prototypes_alone_writes_no_pseudo_labels():
    model = StubLocalizer()
    prototypes = refresh_audio_prototypes(model, LOADER, 2, show_progress=False)
    assert model.calls[-1] == 'set_audio_prototypes' and torch.equal(model.prototypes[0], prototypes.centroids)
    assert not model.pseudo_label_bank.ready
    with pytest.raises(TypeError, match='set_audio_prototypes'):
        refresh_audio_prototypes(nn.Module(), LOADER, 2, show_progress=False)
