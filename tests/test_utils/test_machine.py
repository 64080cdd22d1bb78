"""The precision rule (``amp_dtype='auto'``) and the machine description."""
import pytest
import torch

from icl_av.utils.machine import (CpuCapabilities, choose_amp_dtype, cpu_capabilities, describe_machine,
                                  machine_line)

AMX = CpuCapabilities('Xeon SPR', amx=True, avx512_bf16=True, avx512=True, avx2=True)
AVX512_BF16 = CpuCapabilities('Xeon CPL', avx512_bf16=True, avx512=True, avx2=True)
AVX2 = CpuCapabilities('AMD EPYC', avx2=True)


@pytest.mark.parametrize('cpu, expected', [(AMX, 'bfloat16'), (AVX512_BF16, None), (AVX2, None)])
def test_auto_on_cpu_uses_bf16_only_with_amx(cpu, expected):
    dtype, reason = choose_amp_dtype('auto', 'cpu', cpu=cpu)
    assert dtype == expected
    assert cpu.model in reason
    assert reason.startswith('bf16' if expected else 'fp32')


@pytest.mark.parametrize('cuda_bf16, expected', [(True, 'bfloat16'), (False, None)])
def test_auto_on_cuda_follows_bf16_support(cuda_bf16, expected):
    assert choose_amp_dtype('auto', 'cuda', cuda_bf16=cuda_bf16)[0] == expected


def test_auto_elsewhere_is_fp32():
    assert choose_amp_dtype('auto', 'mps', cpu=AMX) == (None, 'fp32 (mps device)')


@pytest.mark.parametrize('requested', [None, 'bfloat16', 'float16', 'bf16'])
@pytest.mark.parametrize('cpu', [AMX, AVX2])
def test_an_explicit_setting_always_wins(requested, cpu):
    dtype, reason = choose_amp_dtype(requested, 'cpu', cpu=cpu)
    assert dtype == requested
    assert 'set in the config' in reason


def test_flags_are_listed_in_order():
    assert AMX.flags() == 'amx avx512_bf16 avx512 avx2'
    assert CpuCapabilities('x').flags() == 'none of amx/avx512_bf16/avx512/avx2'


def test_this_machine_is_described():
    caps = cpu_capabilities()
    assert caps.model
    info = describe_machine('cpu')
    assert info['gpu'] is None and info['torch'] == torch.__version__
    assert info['threads'] == torch.get_num_threads()
    line = machine_line('cpu')
    assert caps.model in line and f'torch {torch.__version__}' in line


class FakeCuda:
    """torch.cuda as seen on a machine with one GPU of compute capability ``major.minor``."""

    def __init__(self, major, minor=0, accepts_emulation_flag=True):
        self.capability = (major, minor)
        self.accepts_emulation_flag = accepts_emulation_flag
        self.asked = []

    def is_available(self):
        return True

    def get_device_capability(self, device=None):
        return self.capability

    def is_bf16_supported(self, *args, **kwargs):
        if kwargs and not self.accepts_emulation_flag:
            raise TypeError("is_bf16_supported() got an unexpected keyword argument 'including_emulation'")
        self.asked.append(kwargs)
        including_emulation = kwargs.get('including_emulation', True)
        # As torch 2.11 answers: native from 8.0 on, and True anywhere bf16 tensors can be emulated.
        return self.capability[0] >= 8 or including_emulation


@pytest.mark.parametrize('major, native', [(7, False), (8, True), (9, True), (6, False)])
@pytest.mark.parametrize('accepts_flag', [True, False])
def test_auto_on_cuda_never_picks_emulated_bf16(monkeypatch, major, native, accepts_flag):
    from icl_av.utils import machine
    fake = FakeCuda(major, accepts_emulation_flag=accepts_flag)
    for name in ('is_available', 'get_device_capability', 'is_bf16_supported'):
        monkeypatch.setattr(torch.cuda, name, getattr(fake, name))
    monkeypatch.setattr(torch.version, 'hip', None)
    assert machine.cuda_native_bf16() is native
    dtype, reason = choose_amp_dtype('auto', 'cuda')
    assert dtype == ('bfloat16' if native else None)
    assert ('native bf16' in reason) and (reason.startswith('bf16') == native)
    if accepts_flag:
        assert fake.asked == [dict(including_emulation=False)] * 2


def test_without_cuda_there_is_no_native_bf16(monkeypatch):
    from icl_av.utils import machine
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert machine.cuda_native_bf16() is False
