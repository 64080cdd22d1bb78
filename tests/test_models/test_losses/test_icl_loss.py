"""ICLLoss: hand-computed terms, gradient direction, the one-hot reduction and the fallbacks."""
import math

import pytest
import torch

from icl_av.models.losses import AVCorrespondenceLoss, ICLLoss
from icl_av.registry import MODELS

TAU = 0.5
# B=2 frames/audios, maps of 1×4 locations; sim[i, j] = frame i with audio j.
SIM = torch.tensor([[[[0.8, 0.5, 0.1, -0.2]], [[0.3, 0.2, 0.0, 0.1]]],
                    [[[0.1, 0.4, 0.2, 0.0]], [[0.2, 0.6, -0.1, 0.3]]]])
# fg (top 25% = 1 location): frame 0 -> loc 0, frame 1 -> loc 1; bg (bottom 50%): frame 0 -> {2, 3}, frame 1 -> {0, 2}
MAPS = torch.tensor([[[1.0, 0.6, 0.2, 0.0]], [[0.1, 0.9, 0.0, 0.3]]])


def _log_softmax(values, index):
    return values[index] - math.log(sum(math.exp(v) for v in values))


def _loss(**kwargs):
    cfg = dict(type='ICLLoss', tau=TAU, fg_ratio=0.25, bg_ratio=0.5, correspondence=dict(tau=TAU))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _labels(clusters, valid=(True, True)):
    return dict(maps=MAPS.clone(), clusters=torch.tensor(clusters), valid=torch.tensor(valid))


# candidates per audio, divided by tau: [frame 0 fg, frame 1 fg, own bg]
AUDIO0 = [0.8 / TAU, 0.4 / TAU, -0.05 / TAU]
AUDIO1 = [0.3 / TAU, 0.6 / TAU, 0.05 / TAU]


def test_region_masks_hard():
    fg, bg = _loss().region_masks(MAPS)
    assert fg.tolist() == [[[1, 0, 0, 0]], [[0, 1, 0, 0]]]
    assert bg.tolist() == [[[0, 0, 1, 1]], [[1, 0, 1, 0]]]


def test_intra_and_inter_by_hand():
    out = _loss()(SIM, pseudo_labels=_labels([0, 0]))
    intra = -(_log_softmax(AUDIO0, 0) + _log_softmax(AUDIO1, 1)) / 2
    inter0 = -0.5 * (_log_softmax(AUDIO0, 0) + _log_softmax(AUDIO0, 1))
    inter1 = -0.5 * (_log_softmax(AUDIO1, 1) + _log_softmax(AUDIO1, 0))
    assert out['loss_intra'].item() == pytest.approx(intra, rel=1e-5)
    assert out['loss_inter'].item() == pytest.approx((inter0 + inter1) / 2, rel=1e-5)
    assert out['loss_avc'].item() == 0.0


def test_one_hot_clusters_reduce_inter_to_intra():
    torch.manual_seed(0)
    sim = torch.rand(5, 5, 3, 3) * 2 - 1
    labels = dict(maps=torch.rand(5, 3, 3), clusters=torch.arange(5), valid=torch.ones(5, dtype=torch.bool))
    out = ICLLoss(inter_weight=1.0, intra_weight=1.0)(sim, pseudo_labels=labels)
    assert torch.allclose(out['loss_inter'], out['loss_intra'])
    labels['clusters'] = torch.zeros(5, dtype=torch.long)  # shared clusters add positives -> differs
    out = ICLLoss()(sim, pseudo_labels=labels)
    assert not torch.allclose(out['loss_inter'], out['loss_intra'])


def test_invalid_samples_fall_back_to_correspondence():
    loss = _loss()
    out = loss(SIM, pseudo_labels=_labels([0, 0], valid=(True, False)))
    own_only = [AUDIO0[0], AUDIO0[2]]  # frame 1's foreground is unknown: not a negative
    assert out['loss_intra'].item() == pytest.approx(-_log_softmax(own_only, 0) / 2, rel=1e-5)
    assert out['loss_inter'].item() == pytest.approx(-_log_softmax(own_only, 0) / 2, rel=1e-5)
    avc = AVCorrespondenceLoss(tau=TAU).per_sample(SIM)[1].item()
    assert out['loss_avc'].item() == pytest.approx(avc / 2, rel=1e-5)


def test_keep_correspondence_adds_it_for_every_sample():
    labels = _labels([0, 1], valid=(True, False))
    kept = _loss(keep_correspondence=True)(SIM, pseudo_labels=labels)
    fallback = _loss()(SIM, pseudo_labels=labels)
    avc = AVCorrespondenceLoss(tau=TAU).per_sample(SIM)
    assert kept['loss_avc'].item() == pytest.approx(avc.mean().item(), rel=1e-5)
    assert fallback['loss_avc'].item() == pytest.approx(avc[1].item() / 2, rel=1e-5)
    # The pseudo-label terms themselves do not change.
    assert torch.equal(kept['loss_intra'], fallback['loss_intra'])
    assert torch.equal(kept['loss_inter'], fallback['loss_inter'])


def test_first_round_delegates_to_correspondence():
    out = _loss(avc_weight=1.0)(SIM, pseudo_labels=None)
    assert set(out) == {'loss_avc'}
    expected = AVCorrespondenceLoss(tau=TAU)(SIM)['loss_avc']
    assert torch.allclose(out['loss_avc'], expected)


def test_soft_masks_by_hand():
    out = _loss(mask_mode='soft', inter_weight=0.0)(SIM, pseudo_labels=_labels([0, 1]))
    m0, m1 = MAPS[0, 0].tolist(), MAPS[1, 0].tolist()
    s = SIM[:, :, 0].tolist()

    def wmean(values, weights):
        return sum(v * w for v, w in zip(values, weights)) / sum(weights)
    audio0 = [wmean(s[0][0], m0), wmean(s[1][0], m1), wmean(s[0][0], [1 - m for m in m0])]
    audio1 = [wmean(s[0][1], m0), wmean(s[1][1], m1), wmean(s[1][1], [1 - m for m in m1])]
    expected = -(_log_softmax([v / TAU for v in audio0], 0) + _log_softmax([v / TAU for v in audio1], 1)) / 2
    assert out['loss_intra'].item() == pytest.approx(expected, rel=1e-5)
    assert out['loss_inter'].item() == 0.0


@pytest.mark.parametrize('mask_mode', ['hard', 'soft'])
def test_sgd_step_raises_foreground_and_lowers_background(mask_mode):
    torch.manual_seed(0)
    batch, size = 3, 4
    sim = (torch.rand(batch, batch, size, size) * 0.4 - 0.2).requires_grad_()
    maps = torch.rand(batch, size, size)
    labels = dict(maps=maps, clusters=torch.tensor([0, 0, 1]), valid=torch.ones(batch, dtype=torch.bool))
    loss = ICLLoss(fg_ratio=0.25, bg_ratio=0.5, mask_mode=mask_mode)
    fg, bg = loss.region_masks(maps)
    fg, bg = (fg > 0.5, bg > 0.5) if mask_mode == 'hard' else (maps > 0.75, maps < 0.25)
    own_before = sim.detach().diagonal(dim1=0, dim2=1).permute(2, 0, 1).clone()
    optimizer = torch.optim.SGD([sim], lr=0.05)
    sum(loss(sim, pseudo_labels=labels).values()).backward()
    optimizer.step()
    delta = sim.detach().diagonal(dim1=0, dim2=1).permute(2, 0, 1) - own_before
    assert torch.all(delta[fg] > 0)
    assert torch.all(delta[bg] < 0)


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match='overlap'):
        ICLLoss(fg_ratio=0.6, bg_ratio=0.6)
    with pytest.raises(ValueError, match='mask_mode'):
        ICLLoss(mask_mode='fuzzy')
    with pytest.raises(ValueError, match='pseudo maps'):
        ICLLoss()(torch.randn(2, 2, 3, 3), pseudo_labels=dict(maps=torch.rand(2, 4, 4), clusters=torch.zeros(2)))
