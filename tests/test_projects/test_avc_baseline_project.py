"""projects/avc_baseline: the plain correspondence config builds the shared model with AVCorrespondenceLoss."""
from mmengine.config import Config

from icl_av.models.losses import AVCorrespondenceLoss, ICLLoss
from icl_av.registry import MODELS


def test_model_bases_differ_only_in_the_loss(repo_dir):
    icl = Config.fromfile(f'{repo_dir}/configs/_base_/models/icl_r18.py')
    avc = Config.fromfile(f'{repo_dir}/configs/_base_/models/avc_r18.py')
    assert {k: v for k, v in icl.model.items() if k != 'loss'} == {k: v for k, v in avc.model.items() if k != 'loss'}
    assert isinstance(MODELS.build(avc.model).criterion, AVCorrespondenceLoss)
    assert isinstance(MODELS.build(icl.model).criterion, ICLLoss)


def test_icl_base_gives_an_8x8_map_at_128px(repo_dir):
    import torch
    model = MODELS.build(Config.fromfile(f'{repo_dir}/configs/_base_/models/icl_r18.py').model).eval()
    with torch.no_grad():
        out = model(dict(img=torch.randn(2, 3, 128, 128), audio=torch.randn(2, 1, 64, 101)), mode='tensor')
    assert out['sim'].shape == (2, 2, 8, 8) and out['audio'].shape == (2, 128)


def test_project_config_builds(load_project_config):
    cfg = load_project_config('projects/avc_baseline/configs/avc_r18_1xb32-9e_synthav64.py')
    model = MODELS.build(cfg.model)
    assert isinstance(model.criterion, AVCorrespondenceLoss)
    assert cfg.train_dataloader.batch_size == 32
