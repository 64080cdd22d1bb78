"""AVLocalizer: the three forward modes, the pseudo-label path and a few training steps."""
import pytest
import torch
from mmengine.optim import OptimWrapper

from icl_av.registry import MODELS
from icl_av.structures import AVDataSample


def _preprocessed(model, batch, training=False):
    return model.data_preprocessor(batch, training)


def test_three_modes(tiny_localizer_cfg, tiny_batch):
    model = MODELS.build(tiny_localizer_cfg).eval()
    data = _preprocessed(model, tiny_batch)
    assert data['inputs']['img'].shape == (4, 3, 64, 64)

    tensors = model(**data, mode='tensor')
    assert tensors['sim'].shape == (4, 4, 4, 4)
    assert tensors['visual'].shape == (4, 16, 4, 4) and tensors['audio'].shape == (4, 16)

    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_avc'} and losses['loss_avc'].requires_grad

    samples = model(**data, mode='predict')
    assert len(samples) == 4 and all(isinstance(s, AVDataSample) for s in samples)
    for i, sample in enumerate(samples):
        assert sample.pred_map.shape == (4, 4)
        assert torch.allclose(sample.pred_map, tensors['sim'][i, i], atol=1e-5)  # own audio, raw cosine
        assert sample.confidence.dim() == 0 and sample.confidence == sample.pred_map.max()
        assert sample.audio_embedding.shape == (16,)
        assert sample.metainfo['sample_idx'] == i  # the incoming sample is filled in place

    with pytest.raises(ValueError, match='mode'):
        model(**data, mode='features')


def test_predict_without_data_samples(tiny_localizer_cfg, tiny_batch):
    model = MODELS.build(tiny_localizer_cfg).eval()
    data = _preprocessed(model, tiny_batch)
    samples = model.predict(data['inputs'])
    assert len(samples) == 4 and samples[0].pred_map.shape == (4, 4)


def test_icl_losses_come_from_each_samples_own_bank_row(tiny_localizer_cfg, batch_factory):
    """Bank rows are found by ``sample_idx``, not by batch position: a permuted batch gives the same losses.

    The batch holds rows 6, 1, 3, 4 of an 8-row bank, so a model that read rows by
    position (or ignored ``sample_idx``) would train on other samples' labels.
    """
    model = MODELS.build(tiny_localizer_cfg).eval()  # fixed batch-norm statistics: per-sample features
    generator = torch.Generator().manual_seed(0)
    maps = torch.randint(0, 256, (8, 4, 4), generator=generator).float() / 255  # exact in the uint8 bank
    clusters = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    model.update_pseudo_labels(torch.arange(8), maps, clusters)
    rows = [6, 1, 3, 4]
    batch = batch_factory(batch_size=4)
    for sample, row in zip(batch['data_samples'], rows):
        sample.set_metainfo(dict(sample_idx=row))

    def losses_and_reference(batch, rows):
        data = _preprocessed(model, batch)
        with torch.no_grad():
            losses = model(**data, mode='loss')
            feats = model.extract_feat(data['inputs'])
            sim = model.head.similarity(feats['visual'], feats['audio'])
            reference = model.criterion(sim, pseudo_labels=dict(maps=maps[rows], clusters=clusters[rows],
                                                                valid=torch.ones(len(rows), dtype=torch.bool)))
        return losses, reference

    losses, reference = losses_and_reference(batch, rows)
    assert set(losses) == {'loss_intra', 'loss_inter', 'loss_avc'}
    for name, value in reference.items():
        torch.testing.assert_close(losses[name], value)

    order = [2, 0, 3, 1]
    permuted = dict(inputs={key: [values[i] for i in order] for key, values in batch['inputs'].items()},
                    data_samples=[batch['data_samples'][i] for i in order])
    permuted_losses, permuted_reference = losses_and_reference(permuted, [rows[i] for i in order])
    for name, value in losses.items():
        torch.testing.assert_close(permuted_losses[name], value)  # the loss is a mean over the batch
        torch.testing.assert_close(permuted_losses[name], permuted_reference[name])
    _, by_position = losses_and_reference(permuted, list(range(4)))  # what a model ignoring sample_idx reads
    assert not torch.allclose(by_position['loss_intra'], permuted_losses['loss_intra'])


def test_pseudo_maps_follow_flip_and_resolution(tiny_localizer_cfg, batch_factory):
    model = MODELS.build(tiny_localizer_cfg)
    maps = torch.zeros(2, 2, 2)
    maps[:, :, 0] = 1.0  # sounding on the left half
    model.update_pseudo_labels(torch.tensor([0, 1]), maps, torch.tensor([0, 1]))
    samples = batch_factory(batch_size=2, flips=[False, True])['data_samples']
    labels = model.read_pseudo_labels(samples, (4, 4))
    assert labels['maps'].shape == (2, 4, 4)
    assert labels['maps'][0, :, 0].min() > labels['maps'][0, :, 3].max()  # left stays left
    assert labels['maps'][1, :, 3].min() > labels['maps'][1, :, 0].max()  # mirrored for the flipped frame
    with pytest.raises(ValueError, match='sample_idx'):
        model.read_pseudo_labels([AVDataSample(), AVDataSample()], (4, 4))


def test_training_steps_decrease_the_loss(tiny_localizer_cfg, tiny_batch):
    torch.manual_seed(0)
    tiny_localizer_cfg['loss'] = dict(type='AVCorrespondenceLoss', tau=0.1)
    model = MODELS.build(tiny_localizer_cfg).train()
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    first = model.train_step(tiny_batch, wrapper)['loss_avc'].item()
    for _ in range(6):
        last = model.train_step(tiny_batch, wrapper)['loss_avc'].item()
    assert last < first


def test_needs_visual_feats_keywords(tiny_localizer_cfg, tiny_batch):
    seen = {}

    class Probe(torch.nn.Module):
        needs_visual_feats = True

        def forward(self, sim, pseudo_labels=None, **kwargs):
            seen.update(kwargs)
            return sim.mean()

    model = MODELS.build(dict(tiny_localizer_cfg, loss=Probe()))
    losses = model(**_preprocessed(model, tiny_batch), mode='loss')
    assert set(losses) == {'loss'}
    assert seen['visual_feats'].shape == (4, 16, 4, 4) and seen['audio_feats'].shape == (4, 16)
    assert seen['backbone_map'].shape == (4, 256, 4, 4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_runs_on_cuda_with_cpu_pseudo_labels(tiny_localizer_cfg, tiny_batch):
    model = MODELS.build(tiny_localizer_cfg).cuda()
    model.update_pseudo_labels(torch.arange(4), torch.rand(4, 4, 4), torch.tensor([0, 1, 0, 1]))
    assert model.pseudo_label_bank.maps.is_cuda
    data = model.data_preprocessor(tiny_batch, True)
    assert data['inputs']['img'].is_cuda and data['inputs']['audio'].is_cuda
    with torch.autocast('cuda', dtype=torch.float16):
        losses = model(**data, mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    samples = model.eval()(**data, mode='predict')
    assert samples[0].pred_map.is_cuda


def test_pseudo_maps_follow_the_crop_window_then_the_flip(tiny_localizer_cfg, batch_factory):
    """A frame cropped to its right half sees the right half of its whole-frame pseudo map."""
    model = MODELS.build(tiny_localizer_cfg)
    maps = torch.zeros(2, 4, 4)
    maps[:, :, 3] = 1.0  # sounding in the rightmost quarter of the whole frame
    model.update_pseudo_labels(torch.tensor([0, 1]), maps, torch.tensor([0, 1]))
    samples = batch_factory(batch_size=2, flips=[False, True])['data_samples']
    for sample in samples:
        sample.set_metainfo(dict(crop_window=(0.5, 0.0, 1.0, 1.0)))
    labels = model.read_pseudo_labels(samples, (2, 2))
    torch.testing.assert_close(labels['maps'][0], torch.tensor([[0.0, 1.0], [0.0, 1.0]]))
    torch.testing.assert_close(labels['maps'][1], torch.tensor([[1.0, 0.0], [1.0, 0.0]]))  # then mirrored


def test_crop_maps_is_exact_for_the_whole_frame_and_mixes_windows():
    from icl_av.models.localizers.map_ops import crop_maps
    maps = torch.arange(32.).view(2, 4, 4)
    assert torch.equal(crop_maps(maps, [None, None], (4, 4)), maps)
    out = crop_maps(maps, [(0.0, 0.0, 1.0, 1.0), (0.0, 0.5, 0.5, 1.0)], (4, 4))
    torch.testing.assert_close(out[0], maps[0])
    torch.testing.assert_close(crop_maps(maps[1:], [(0.0, 0.5, 0.5, 1.0)], (2, 2))[0], maps[1, 2:, :2])


def test_posterior_maps_compare_the_sound_with_the_stored_kinds_of_sound(tiny_localizer_cfg, tiny_batch):
    model = MODELS.build(dict(tiny_localizer_cfg, map_mode='posterior', posterior_tau=0.1)).eval()
    data = _preprocessed(model, tiny_batch)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        cosine = model.head.paired_similarity(feats['visual'], feats['audio'])
        torch.testing.assert_close(model.localization_maps(feats), cosine)  # no prototypes yet: cosine
        prototypes = torch.randn(3, model.head.embed_dims)
        model.set_audio_prototypes(prototypes)
        maps = model.localization_maps(feats)
    unit = torch.nn.functional.normalize(prototypes, dim=1)
    others = torch.einsum('bdhw,kd->bkhw', feats['visual'], unit)
    expected = 1.0 / (1.0 + torch.exp((others - cosine[:, None]) / 0.1).sum(dim=1))
    torch.testing.assert_close(maps, expected)
    assert model.maps_use_prototypes and torch.all((maps > 0) & (maps < 1))
    with pytest.raises(ValueError, match='map_mode'):
        MODELS.build(dict(tiny_localizer_cfg, map_mode='nope'))


def _posterior_model(cfg, fallback):
    cfg.update(map_mode='posterior', unfamiliar_fallback=fallback)
    return MODELS.build(cfg).eval()


def test_an_unfamiliar_sound_gets_the_location_prior_and_a_familiar_one_its_posterior(tiny_localizer_cfg,
                                                                                     tiny_batch):
    import torch.nn.functional as F
    model = _posterior_model(tiny_localizer_cfg, True)
    with torch.no_grad():
        feats = model.extract_feat(model.data_preprocessor(tiny_batch, False)['inputs'])
        audio = F.normalize(feats['audio'], dim=1)
        # Samples 0 and 1 are the two kinds of training sound; samples 2 and 3 lie away from both.
        prototypes = audio[:2].clone()
        prior = torch.zeros(4, 4)
        prior[1:3, 1:3] = 1.0
        familiarity = (audio @ prototypes.t()).amax(1)
        threshold = float(familiarity[2:].max()) + 1e-4
        assert float(familiarity[:2].min()) > threshold
        model.set_audio_prototypes(prototypes, threshold, prior)
        maps = model.localization_maps(feats)
        model.unfamiliar_fallback = False
        posterior = model.localization_maps(feats)
        with model.labelling():
            model.unfamiliar_fallback = True
            labelled = model.localization_maps(feats)
    assert torch.equal(maps[:2], posterior[:2])  # familiar sounds: the posterior, unchanged
    assert torch.equal(maps[2], prior) and torch.equal(maps[3], prior)  # unfamiliar: the prior
    assert not torch.allclose(posterior[2], prior)  # ... which switching the fallback off would not give
    assert torch.equal(labelled, posterior)  # the refresh labels with the posterior


def test_without_a_threshold_the_fallback_changes_nothing(tiny_localizer_cfg, tiny_batch):
    model = _posterior_model(tiny_localizer_cfg, True)
    with torch.no_grad():
        feats = model.extract_feat(model.data_preprocessor(tiny_batch, False)['inputs'])
        model.set_audio_prototypes(feats['audio'][:2])
        maps = model.localization_maps(feats)
        model.unfamiliar_fallback = False
        assert torch.equal(maps, model.localization_maps(feats))
