"""AVLocalizer's speed options: bf16 autocast of the towers and channels_last weights/inputs."""
import pytest
import torch

from icl_av.registry import MODELS


def _build(cfg, **options):
    cfg = dict(cfg, **options)
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


def test_bf16_towers_keep_fp32_outputs_close_to_fp32(tiny_localizer_cfg, tiny_batch):
    fp32 = _build(tiny_localizer_cfg)
    amp = _build(tiny_localizer_cfg, amp_dtype='bfloat16')
    amp.load_state_dict(fp32.state_dict())
    data = fp32.data_preprocessor(tiny_batch, False)
    with torch.no_grad():
        ref, out = fp32(**data, mode='tensor'), amp(**data, mode='tensor')
    for key in ('sim', 'visual', 'audio'):
        assert out[key].dtype == torch.float32  # the head, maps and losses stay fp32
        assert torch.allclose(out[key], ref[key], atol=0.1), key  # bf16 keeps ~3 significant digits
    assert not torch.equal(out['sim'], ref['sim'])  # the towers really ran in bf16
    losses = amp(**amp.data_preprocessor(tiny_batch, True), mode='loss')
    assert losses['loss_avc'].dtype == torch.float32
    losses['loss_avc'].backward()
    grads = [p.grad for p in amp.visual_backbone.parameters() if p.grad is not None]
    assert grads and all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)


def test_channels_last_gives_the_same_outputs(tiny_localizer_cfg, tiny_batch):
    ref_model = _build(tiny_localizer_cfg)
    model = _build(tiny_localizer_cfg, channels_last=True)
    model.load_state_dict(ref_model.state_dict())
    conv = next(m for m in model.visual_backbone.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    data = ref_model.data_preprocessor(tiny_batch, False)
    with torch.no_grad():
        ref, out = ref_model(**data, mode='tensor'), model(**data, mode='tensor')
    assert torch.allclose(out['sim'], ref['sim'], atol=1e-4)


def test_unknown_amp_dtype_is_rejected(tiny_localizer_cfg):
    with pytest.raises(ValueError, match='amp_dtype'):
        MODELS.build(dict(tiny_localizer_cfg, amp_dtype='int8'))


@pytest.mark.parametrize('amx, expected', [(True, 'bfloat16'), (False, None)])
def test_auto_precision_follows_the_cpu_and_is_logged_once(tiny_localizer_cfg, tiny_batch, monkeypatch, amx,
                                                           expected):
    from icl_av.models.localizers import av_localizer
    from icl_av.utils.machine import CpuCapabilities, choose_amp_dtype
    cpu = CpuCapabilities('test CPU', amx=amx, avx512_bf16=True, avx512=True, avx2=True)
    monkeypatch.setattr(av_localizer, 'choose_amp_dtype',
                        lambda requested, device_type: choose_amp_dtype(requested, device_type, cpu=cpu))
    lines = []
    monkeypatch.setattr(av_localizer, 'print_log', lambda msg, logger=None: lines.append(msg))
    model = _build(tiny_localizer_cfg, amp_dtype='auto')
    ref = _build(tiny_localizer_cfg, amp_dtype=expected)
    ref.load_state_dict(model.state_dict())
    data = model.data_preprocessor(tiny_batch, False)
    with torch.no_grad():
        out, again, want = model(**data, mode='tensor'), model(**data, mode='tensor'), ref(**data, mode='tensor')
    assert model.autocast_dtype('cpu') == expected
    assert torch.equal(out['sim'], want['sim']) and torch.equal(again['sim'], want['sim'])
    assert len(lines) == 1 and 'test CPU' in lines[0]
    assert lines[0].startswith('AVLocalizer: precision ' + ('bf16' if amx else 'fp32'))


@pytest.mark.parametrize('explicit', [None, 'bfloat16'])
def test_an_explicit_amp_dtype_is_never_auto_resolved(tiny_localizer_cfg, monkeypatch, explicit):
    from icl_av.models.localizers import av_localizer
    monkeypatch.setattr(av_localizer, 'choose_amp_dtype', lambda *a, **k: pytest.fail('auto rule consulted'))
    assert _build(tiny_localizer_cfg, amp_dtype=explicit).autocast_dtype('cpu') == explicit
