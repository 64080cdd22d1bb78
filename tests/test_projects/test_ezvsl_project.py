"""projects/ezvsl: the MIL contrastive loss, the object-guided prior and the config."""
import math

import pytest
import torch
from mmengine.config import Config

from icl_av.registry import MODELS
from icl_av.structures import AVDataSample

SIM = torch.tensor([[[[0.9, 0.1]], [[0.2, 0.3]]],
                    [[[0.5, -0.1]], [[0.0, 0.7]]]])


def _nll(pos, others):
    return -pos + math.log(math.exp(pos) + sum(math.exp(o) for o in others))


def _tiny_model_cfg(**kwargs):
    cfg = dict(type='EZVSLLocalizer',
               data_preprocessor=dict(type='AVDataPreprocessor', audio_frontend=dict(type='LogMelFrontend',
                                                                                     n_mels=32)),
               visual_backbone=dict(type='TimmVisualBackbone', model_name='resnet18', out_index=3),
               audio_backbone=dict(type='TimmAudioEncoder', model_name='resnet18'),
               head=dict(type='AVSimilarityHead', embed_dims=8),
               loss=dict(type='EZVSLLoss', tau=0.03))
    cfg.update(kwargs)
    return cfg


def _batch(n=2):
    gen = torch.Generator().manual_seed(0)
    return dict(inputs=dict(img=[torch.randint(0, 256, (3, 64, 64), generator=gen, dtype=torch.uint8)
                                 for _ in range(n)],
                            audio=[torch.randn(1, 4000, generator=gen) for _ in range(n)]),
                data_samples=[AVDataSample(metainfo=dict(sample_idx=i)) for i in range(n)])


def test_custom_imports_registers_components(tmp_path, repo_dir):
    cfg_file = tmp_path / 'ezvsl_tiny.py'
    cfg_file.write_text(
        f"_base_ = ['{repo_dir}/configs/_base_/models/icl_r18.py']\n"
        "custom_imports = dict(imports=['projects.ezvsl.ezvsl'], allow_failed_imports=False)\n"
        "model = dict(type='EZVSLLocalizer', prior_alpha=0.3, loss=dict(_delete_=True, type='EZVSLLoss'))\n")
    cfg = Config.fromfile(str(cfg_file))
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'EZVSLLocalizer' and model.prior_alpha == 0.3
    assert type(model.criterion).__name__ == 'EZVSLLoss'


def test_mil_loss_by_hand(repo_dir):
    from projects.ezvsl.ezvsl import EZVSLLoss
    tau = 0.5
    loss = EZVSLLoss(tau=tau)(SIM)['loss_mil'].item()
    pooled = [[0.9, 0.3], [0.5, 0.7]]
    f2a = _nll(pooled[0][0] / tau, [pooled[0][1] / tau]) + _nll(pooled[1][1] / tau, [pooled[1][0] / tau])
    a2f = _nll(pooled[0][0] / tau, [pooled[1][0] / tau]) + _nll(pooled[1][1] / tau, [pooled[0][1] / tau])
    assert loss == pytest.approx(0.5 * (f2a / 2 + a2f / 2), rel=1e-5)


def test_object_prior_blend(repo_dir):
    from projects.ezvsl.ezvsl import minmax_per_map
    torch.manual_seed(0)
    model = MODELS.build(_tiny_model_cfg(prior_alpha=0.0)).eval()
    data = model.data_preprocessor(_batch())
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        raw = [s.pred_map for s in model.predict(data['inputs'])]
        model.prior_alpha = 1.0
        prior_only = [s.pred_map for s in model.predict(data['inputs'])]
        model.prior_alpha = 0.25
        blended = [s.pred_map for s in model.predict(data['inputs'])]
    av = model.head.paired_similarity(feats['visual'], feats['audio'])
    magnitude = minmax_per_map(feats['backbone_map'].norm(dim=1))
    assert torch.allclose(raw[0], av[0], atol=1e-5)
    assert torch.allclose(prior_only[1], magnitude[1], atol=1e-5)
    assert torch.allclose(blended[0], 0.75 * minmax_per_map(av)[0] + 0.25 * magnitude[0], atol=1e-5)
    with pytest.raises(ValueError, match='prior_alpha'):
        MODELS.build(_tiny_model_cfg(prior_alpha=1.5))


def test_project_config_builds(load_project_config):
    cfg = load_project_config('projects/ezvsl/configs/ezvsl_r18_1xb32-9e_synthav64.py')
    assert cfg.default_scope == 'icl_av'
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'EZVSLLocalizer' and type(model.criterion).__name__ == 'EZVSLLoss'
    assert cfg.model.prior_alpha == 0.4
