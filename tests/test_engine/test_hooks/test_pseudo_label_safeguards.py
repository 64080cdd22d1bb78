"""Safeguards that keep ICL's pseudo-labels from poisoning the next round.

* the refresh keeps a sample's pseudo-label only when its map carries information (not
  constant);
* a sample whose label was not kept trains on the correspondence objective alone, so with
  no informative label at all ICL's loss *is* the correspondence objective.
"""
import os.path as osp
import sys

import torch

from icl_av.models.losses import AVCorrespondenceLoss, ICLLoss

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from test_pseudo_label_hook import NUM_SAMPLES, hook_cfg, hook_of, make_runner  # noqa: E402


def _predict_with(localizer, **fields):
    """Make ``localizer.predict`` return fixed fields (per sample, by ``sample_idx``) on top of its own."""
    original = localizer.predict

    def predict(inputs, data_samples=None):
        samples = original(inputs, data_samples)
        for sample in samples:
            index = int(sample.metainfo['sample_idx'])
            for name, values in fields.items():
                setattr(sample, name, values[index].clone() if torch.is_tensor(values[index]) else values[index])
        return samples

    localizer.predict = predict


def test_constant_maps_are_never_kept(tmp_path):
    runner = make_runner(tmp_path, hook_cfg())
    localizer = runner.model
    maps = torch.rand(NUM_SAMPLES, 4, 4)
    flat = [1, 4, 7]
    maps[flat] = 0.3
    _predict_with(localizer, pred_map=maps)
    stats = hook_of(runner).refresh(runner)
    valid = localizer.pseudo_label_bank.valid
    assert valid.tolist() == [index not in flat for index in range(NUM_SAMPLES)]
    assert abs(stats['kept'] - (NUM_SAMPLES - len(flat)) / NUM_SAMPLES) < 1e-6


def _batch(seed=0, batch=6, size=5):
    generator = torch.Generator().manual_seed(seed)
    sim = torch.rand(batch, batch, size, size, generator=generator) * 2 - 1
    maps = torch.rand(batch, size, size, generator=generator)
    clusters = torch.randint(0, 3, (batch,), generator=generator)
    return sim, maps, clusters


def test_without_a_kept_label_the_loss_is_the_correspondence_objective():
    sim, maps, clusters = _batch()
    correspondence = dict(type='AVCorrespondenceLoss', tau=0.03, pool='softmax', pool_tau=0.1)
    reference = AVCorrespondenceLoss(tau=0.03, pool='softmax', pool_tau=0.1)(sim)['loss_avc']
    for keep_correspondence in (True, False):
        loss = ICLLoss(mask_mode='soft', keep_correspondence=keep_correspondence, correspondence=correspondence)
        terms = loss(sim, pseudo_labels=dict(maps=maps, clusters=clusters, valid=torch.zeros(6, dtype=torch.bool)))
        total = sum(terms.values())
        torch.testing.assert_close(total, reference)
        assert terms['loss_intra'] == 0 and terms['loss_inter'] == 0


def test_kept_labels_add_to_the_correspondence_objective_when_it_is_kept():
    sim, maps, clusters = _batch(seed=1)
    correspondence = dict(type='AVCorrespondenceLoss', tau=0.03, pool='softmax', pool_tau=0.1)
    reference = AVCorrespondenceLoss(tau=0.03, pool='softmax', pool_tau=0.1)(sim)['loss_avc']
    valid = torch.tensor([True, False, True, True, False, True])
    terms = ICLLoss(mask_mode='soft', keep_correspondence=True, correspondence=correspondence)(
        sim, pseudo_labels=dict(maps=maps, clusters=clusters, valid=valid))
    torch.testing.assert_close(terms['loss_avc'], reference)
    assert terms['loss_intra'] > 0 and terms['loss_inter'] > 0


def test_resuming_past_a_boundary_without_labels_refreshes_first(tmp_path):
    """ICL branched from a first-round checkpoint that holds no pseudo-labels labels before training on."""
    import os.path as osp
    plain = make_runner(tmp_path / 'plain', dict(type='EpochSeedHook'), max_epochs=1)
    plain.train()
    assert not plain.model.pseudo_label_bank.ready
    branched = make_runner(tmp_path / 'branched', hook_cfg(iteration_epochs=[1, 1]), max_epochs=2,
                           load_from=osp.join(plain.work_dir, 'epoch_1.pth'), resume=True)
    calls = []
    hook = hook_of(branched)
    original = hook.refresh
    hook.refresh = lambda runner, completed_epochs=None: calls.append(completed_epochs) or original(
        runner, completed_epochs)
    branched.train()
    assert calls == [1]  # once, at the resume, not again
    assert int(branched.model.pseudo_label_bank.round) == 1


def test_posterior_model_is_labelled_with_the_maps_of_the_new_centroids(tmp_path):
    """With map_mode='posterior' the refresh stores the k-means centroids, then labels with the maps they give."""
    from test_pseudo_label_hook import direct_predictions, tiny_localizer_cfg
    model_cfg = dict(tiny_localizer_cfg(), map_mode='posterior')
    runner = make_runner(tmp_path, hook_cfg(), model=model_cfg)
    localizer = runner.model
    hook_of(runner).refresh(runner)
    bank = localizer.pseudo_label_bank
    assert localizer.audio_prototypes.shape == (3, localizer.head.embed_dims)
    maps, _ = direct_predictions(localizer)  # now computed against the stored centroids
    low = maps.flatten(1).min(1).values[:, None, None]
    high = maps.flatten(1).max(1).values[:, None, None]
    expected = (maps - low) / (high - low)
    stored = bank.gather(torch.arange(NUM_SAMPLES))['maps']
    torch.testing.assert_close(stored, expected, atol=0.5 / 255 + 1e-5, rtol=0)


def test_uninformative_refresh_leaves_training_on_the_correspondence_objective(tmp_path):
    """End to end: a refresh whose maps are all constant keeps no label, so the next round's loss is round 1's."""
    from mmengine.dataset import pseudo_collate

    from test_pseudo_label_hook import TRAIN_PIPELINE, PseudoLabelToyAVDataset
    runner = make_runner(tmp_path, hook_cfg())
    localizer = runner.model
    _predict_with(localizer, pred_map=torch.full((NUM_SAMPLES, 4, 4), 0.7))
    stats = hook_of(runner).refresh(runner)
    assert stats['kept'] == 0 and localizer.pseudo_label_bank.ready
    batch = pseudo_collate([PseudoLabelToyAVDataset(pipeline=TRAIN_PIPELINE)[i] for i in range(4)])
    data = localizer.data_preprocessor(batch, True)
    localizer.eval()  # fixed batch-norm statistics: both passes see the same features
    with torch.no_grad():
        losses = localizer.loss(data['inputs'], data['data_samples'])
        feats = localizer.extract_feat(data['inputs'])
        sim = localizer.head.similarity(feats['visual'], feats['audio'])
        reference = localizer.criterion.correspondence.per_sample(sim).mean()
    torch.testing.assert_close(sum(losses.values()), reference)
