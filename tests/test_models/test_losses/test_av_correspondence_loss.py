"""AVCorrespondenceLoss against hand-computed values and its gradient direction."""
import math

import pytest
import torch

from icl_av.models.losses import AVCorrespondenceLoss, pool_locations
from icl_av.registry import MODELS

# sim[i, j] = frame i with audio j, maps of 1×2 locations
SIM = torch.tensor([[[[0.9, 0.1]], [[0.2, 0.3]]],
                    [[[0.5, -0.1]], [[0.0, 0.7]]]])


def _nll(pos, others):
    return -pos + math.log(math.exp(pos) + sum(math.exp(o) for o in others))


def test_max_pooling_value_by_hand():
    tau = 0.5
    loss = MODELS.build(dict(type='AVCorrespondenceLoss', tau=tau, pool='max'))(SIM)['loss_avc']
    # pooled: [[0.9, 0.3], [0.5, 0.7]]
    f2a = _nll(0.9 / tau, [0.3 / tau]) + _nll(0.7 / tau, [0.5 / tau])
    a2f = _nll(0.9 / tau, [0.5 / tau]) + _nll(0.7 / tau, [0.3 / tau])
    assert loss.item() == pytest.approx((f2a + a2f) / 4, rel=1e-5)


def test_softmax_and_avg_pooling_by_hand():
    pooled = pool_locations(SIM, 'softmax', softmax_tau=0.1)
    w = [math.exp(0.9 / 0.1), math.exp(0.1 / 0.1)]
    assert pooled[0, 0].item() == pytest.approx((0.9 * w[0] + 0.1 * w[1]) / sum(w), rel=1e-5)
    assert pool_locations(SIM, 'avg')[1, 1].item() == pytest.approx(0.35)
    small = pool_locations(SIM, 'softmax', softmax_tau=1e-3)
    assert torch.allclose(small, pool_locations(SIM, 'max'), atol=1e-4)


def test_per_sample_and_weight():
    module = AVCorrespondenceLoss(tau=0.5, loss_weight=2.0)
    per = module.per_sample(SIM)
    assert per.shape == (2,)
    assert module(SIM)['loss_avc'].item() == pytest.approx(2.0 * per.mean().item(), rel=1e-6)


def test_gradient_raises_own_pair_and_lowers_others():
    torch.manual_seed(0)
    sim = torch.rand(3, 3, 4, 4).mul(2).sub(1).requires_grad_()
    own_before = sim.detach().diagonal(dim1=0, dim2=1).permute(2, 0, 1).flatten(1).amax(1)
    other_mask = ~torch.eye(3, dtype=torch.bool)
    others_before = sim.detach().flatten(2).amax(2)[other_mask]
    optimizer = torch.optim.SGD([sim], lr=0.1)
    AVCorrespondenceLoss(tau=0.1)(sim)['loss_avc'].backward()
    optimizer.step()
    after = sim.detach()
    assert torch.all(after.diagonal(dim1=0, dim2=1).permute(2, 0, 1).flatten(1).amax(1) > own_before)
    assert torch.all(after.flatten(2).amax(2)[other_mask] < others_before)


def test_rejects_bad_config_and_shapes():
    with pytest.raises(ValueError, match='pool'):
        AVCorrespondenceLoss(pool='median')
    with pytest.raises(ValueError, match='B×B×h×w'):
        AVCorrespondenceLoss()(torch.randn(2, 3, 4, 4))
