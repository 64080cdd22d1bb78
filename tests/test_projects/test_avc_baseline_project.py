"""projects/avc_baseline: the correspondence baseline is ICL's first round, model for model.

The README compares ICL with this baseline and says the two share the first ICL iteration exactly, so that
the gain is the refreshes'. These tests build both models from their configs and compare what they are
(parameters) and what they do (first-round losses), not how their configs are written.
"""
import torch

from icl_av.models.losses import AVCorrespondenceLoss, ICLLoss
from icl_av.registry import MODELS
from icl_av.structures import AVDataSample

ICL = 'configs/icl/icl_r18_1xb32-9e_synthav64.py'
AVC = 'projects/avc_baseline/configs/avc_r18_1xb32-9e_synthav64.py'


def _build(cfg, seed=0):
    torch.manual_seed(seed)
    return MODELS.build(cfg.model)


def _batch(num=4, img_size=64, audio_len=4000):
    gen = torch.Generator().manual_seed(1)
    imgs = [torch.randint(0, 256, (3, img_size, img_size), generator=gen, dtype=torch.uint8) for _ in range(num)]
    audio = [torch.randn(1, audio_len, generator=gen) for _ in range(num)]
    samples = [AVDataSample(metainfo=dict(sample_idx=i)) for i in range(num)]
    return dict(inputs=dict(img=imgs, audio=audio), data_samples=samples)


def test_both_models_have_the_same_parameters(load_project_config):
    icl, avc = _build(load_project_config(ICL)), _build(load_project_config(AVC))
    assert isinstance(icl.criterion, ICLLoss) and isinstance(avc.criterion, AVCorrespondenceLoss)
    icl_state, avc_state = icl.state_dict(), avc.state_dict()
    assert list(icl_state) == list(avc_state)
    for name, value in icl_state.items():
        assert value.shape == avc_state[name].shape, name
        assert torch.equal(value, avc_state[name]), name


def test_the_first_round_trains_the_same_objective(load_project_config):
    """Before any pseudo-label refresh, ICL's loss is the baseline's, term for term and value for value."""
    icl, avc = _build(load_project_config(ICL)), _build(load_project_config(AVC))
    losses = []
    for model in (icl, avc):
        model.train()
        data = model.data_preprocessor(_batch(), training=True)
        losses.append(model(data['inputs'], data['data_samples'], mode='loss'))
    icl_losses, avc_losses = losses
    assert set(icl_losses) == set(avc_losses) == {'loss_avc'}
    assert torch.isfinite(icl_losses['loss_avc'])
    torch.testing.assert_close(icl_losses['loss_avc'], avc_losses['loss_avc'])


def test_the_baseline_has_no_pseudo_label_rounds(load_project_config):
    cfg = load_project_config(AVC)
    assert [hook['type'] for hook in cfg.custom_hooks] == ['EpochSeedHook']
    assert cfg.train_dataloader.batch_size == 32 and cfg.train_cfg.max_epochs == 9
