"""projects/lvs: the tri-map loss and the config."""
import math

import pytest
import torch
from mmengine.config import Config

from icl_av.registry import MODELS

SIM = torch.tensor([[[[0.9, 0.1]], [[0.2, 0.3]]],
                    [[[0.5, -0.1]], [[0.0, 0.7]]]])


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_trimap_loss_by_hand(repo_dir):
    from projects.lvs.lvs import LVSLoss
    pos_t, neg_t, s_tau, tau = 0.5, 0.2, 0.1, 0.5
    loss = LVSLoss(pos_threshold=pos_t, neg_threshold=neg_t, sigmoid_tau=s_tau, tau=tau)(SIM)['loss_trimap']
    expected = 0.0
    own = {0: [0.9, 0.1], 1: [0.0, 0.7]}
    for i in (0, 1):
        mp = [_sigmoid((v - pos_t) / s_tau) for v in own[i]]
        mn = [1 - _sigmoid((v - neg_t) / s_tau) for v in own[i]]
        positive = sum(m * v for m, v in zip(mp, own[i])) / sum(mp)
        hard = sum(m * v for m, v in zip(mn, own[i])) / sum(mn)
        j = 1 - i
        easy = sum(SIM[j, i, 0].tolist()) / 2  # other frame with audio i, mean over locations
        logits = [positive / tau, easy / tau, hard / tau]
        expected += -logits[0] + math.log(sum(math.exp(v) for v in logits))
    assert loss.item() == pytest.approx(expected / 2, rel=1e-5)


def test_trimap_gradient_separates_regions(repo_dir):
    from projects.lvs.lvs import LVSLoss
    torch.manual_seed(0)
    sim = (torch.rand(3, 3, 4, 4) * 1.4 - 0.4).requires_grad_()
    loss = LVSLoss(detach_masks=True)
    own = sim.detach().diagonal(dim1=0, dim2=1).permute(2, 0, 1).clone()
    optimizer = torch.optim.SGD([sim], lr=0.05)
    loss(sim)['loss_trimap'].backward()
    optimizer.step()
    delta = sim.detach().diagonal(dim1=0, dim2=1).permute(2, 0, 1) - own
    assert torch.all(delta[own > 0.75] > 0)  # confidently sounding: pushed up
    assert torch.all(delta[own < 0.3] < 0)  # confidently silent (hard negatives): pushed down


def test_thresholds_are_checked(repo_dir):
    from projects.lvs.lvs import LVSLoss
    with pytest.raises(ValueError, match='neg_threshold'):
        LVSLoss(pos_threshold=0.3, neg_threshold=0.6)


def test_custom_imports_registers_loss(tmp_path, repo_dir):
    cfg_file = tmp_path / 'lvs_tiny.py'
    cfg_file.write_text(
        f"_base_ = ['{repo_dir}/configs/_base_/models/icl_r18.py']\n"
        "custom_imports = dict(imports=['projects.lvs.lvs'], allow_failed_imports=False)\n"
        "model = dict(loss=dict(_delete_=True, type='LVSLoss', pos_threshold=0.6))\n")
    model = MODELS.build(Config.fromfile(str(cfg_file)).model)
    assert type(model.criterion).__name__ == 'LVSLoss' and model.criterion.pos_threshold == 0.6


def test_project_config_builds(load_project_config):
    cfg = load_project_config('projects/lvs/configs/lvs_r18_1xb32-9e_synthav64.py')
    model = MODELS.build(cfg.model)
    assert type(model.criterion).__name__ == 'LVSLoss'
    assert (cfg.model.loss.pos_threshold, cfg.model.loss.neg_threshold) == (0.65, 0.4)
