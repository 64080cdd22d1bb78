"""What the machine can do, and the precision that is fast on it.

Speed figures mean little without the machine they were taken on: bf16 autocast is
2.9× faster than fp32 on a CPU with AMX, but slower than fp32 on a CPU whose bf16 is
only AVX512-BF16 (and much slower on AVX2). This module reads the capabilities once
(:func:`cpu_capabilities`, :func:`describe_machine`) and turns them into the
``amp_dtype='auto'`` rule (:func:`choose_amp_dtype`), kept as a pure function of the
capabilities so that the rule itself is testable on any machine.
"""
import os
import platform
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Optional, Tuple

import torch

#: The flags that decide precision, in the order they are reported.
CPU_FLAGS = ('amx', 'avx512_bf16', 'avx512', 'avx2')


@dataclass(frozen=True)
class CpuCapabilities:
    """The CPU's model name and the vector/matrix extensions torch can use.

    Attributes:
        model (str): The model name (``/proc/cpuinfo``'s ``model name``, else
            ``platform.processor()``).
        amx (bool): AMX tiles (Sapphire Rapids and later): native bf16 matrix units.
        avx512_bf16 (bool): AVX512-BF16 dot products (bf16 storage, fp32 maths).
        avx512 (bool): AVX-512 foundation.
        avx2 (bool): AVX2.
    """

    model: str
    amx: bool = False
    avx512_bf16: bool = False
    avx512: bool = False
    avx2: bool = False

    def flags(self) -> str:
        """The set flags in :data:`CPU_FLAGS` order, e.g. ``'avx512_bf16 avx512 avx2'``."""
        names = [name for name in CPU_FLAGS if getattr(self, name)]
        return ' '.join(names) if names else 'none of ' + '/'.join(CPU_FLAGS)


def _read_cpuinfo() -> Dict[str, str]:
    """The first processor's fields in ``/proc/cpuinfo`` (empty where there is none)."""
    fields: Dict[str, str] = {}
    try:
        with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as f:
            for line in f:
                key, _, value = line.partition(':')
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return {}
    return fields


@lru_cache(maxsize=1)
def cpu_capabilities() -> CpuCapabilities:
    """Read this machine's CPU capabilities (cached).

    torch's own CPU probes (the ones its kernels dispatch on) answer first; the
    ``/proc/cpuinfo`` flags are the fallback where a probe is missing.
    """
    cpuinfo = _read_cpuinfo()  # read once: the flags fallback and the model name
    flags = set(cpuinfo.get('flags', '').split())
    probes = getattr(torch, 'cpu', None)

    def probe(name: str, cpuinfo_flag: str) -> bool:
        check = getattr(probes, name, None)
        if check is not None:
            try:
                return bool(check())
            except Exception:  # noqa: BLE001 - a probe that fails means "unknown": fall back
                pass
        return cpuinfo_flag in flags

    model = cpuinfo.get('model name') or platform.processor() or platform.machine() or 'unknown CPU'
    return CpuCapabilities(
        model=model,
        amx=probe('_is_amx_tile_supported', 'amx_tile'),
        avx512_bf16=probe('_is_avx512_bf16_supported', 'avx512_bf16'),
        avx512=probe('_is_avx512_supported', 'avx512f'),
        avx2=probe('_is_avx2_supported', 'avx2'),
    )


def cuda_native_bf16() -> bool:
    """Whether the current CUDA device computes in bf16 natively (Ampere, compute capability 8.0, and later).

    ``torch.cuda.is_bf16_supported()`` also answers True where bf16 tensors merely work
    (emulated through fp32 on V100 / T4, slower than fp32), so it is asked with
    ``including_emulation=False``; a torch without that argument is answered from the
    compute capability. ROCm devices answer through torch (bf16 is native on the AMD
    GPUs torch supports).
    """
    if not torch.cuda.is_available():
        return False
    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # torch without the including_emulation argument
        if getattr(torch.version, 'hip', None):
            return bool(torch.cuda.is_bf16_supported())
        major, _ = torch.cuda.get_device_capability()
        return major >= 8


def choose_amp_dtype(requested: Optional[str],
                     device_type: str,
                     cpu: Optional[CpuCapabilities] = None,
                     cuda_bf16: Optional[bool] = None) -> Tuple[Optional[str], str]:
    """Resolve an ``amp_dtype`` setting to the dtype to run, with the reason.

    The ``'auto'`` rule, from measurements of the 224 px ResNet18 pair's training
    step (``docs/speed.md``): bf16 autocast where bf16 is native and faster, fp32
    elsewhere.

    - CUDA: bf16 where the device computes it natively (Ampere and later,
      :func:`cuda_native_bf16`), else fp32: V100 / T4 only emulate bf16, slower than
      fp32, and fp16 would need loss scaling, which the towers' autocast does not do.
    - CPU with AMX: bf16 (2.9× fp32 on a 2-core Sapphire Rapids).
    - CPU without AMX: fp32. With AVX512-BF16 only, bf16 measured 0.9× fp32
      (5.9 vs 6.5 samples/s); on AVX2 torch emulates bf16 and is slower still.
    - Anything else (MPS, XPU, ...): fp32.

    An explicit setting (``None``, ``'bfloat16'``, ``'float16'``, ...) always wins.

    Args:
        requested (str, optional): The config's ``amp_dtype``.
        device_type (str): ``'cpu'``, ``'cuda'``, ...
        cpu (CpuCapabilities, optional): Defaults to :func:`cpu_capabilities`.
        cuda_bf16 (bool, optional): Whether the CUDA device runs bf16 natively;
            defaults to :func:`cuda_native_bf16`.

    Returns:
        tuple: ``(amp_dtype or None for fp32, reason)``, e.g.
        ``(None, 'fp32 (CPU without AMX: AMD EPYC, avx2)')``.
    """
    if requested != 'auto':
        return requested, f'{requested or "fp32"} (set in the config)'
    if device_type == 'cuda':
        if cuda_bf16 is None:
            cuda_bf16 = cuda_native_bf16()
        if cuda_bf16:
            return 'bfloat16', 'bf16 autocast (CUDA device with native bf16)'
        return None, 'fp32 (CUDA device without native bf16: compute capability below 8.0)'
    if device_type == 'cpu':
        cpu = cpu or cpu_capabilities()
        where = f'{cpu.model}, {cpu.flags()}'
        if cpu.amx:
            return 'bfloat16', f'bf16 autocast (CPU with AMX: {where})'
        return None, f'fp32 (CPU without AMX: {where})'
    return None, f'fp32 ({device_type} device)'


def describe_machine(device: str = 'cpu') -> Dict[str, object]:
    """Where a speed figure was taken: CPU model and flags, GPU, torch, threads.

    Args:
        device (str): The device the figure is for (``'cpu'`` or ``'cuda'``...).

    Returns:
        dict: ``cpu``, ``cpu_flags``, ``gpu`` (None on CPU runs), ``torch``,
        ``threads`` (torch intra-op threads) and ``cores`` (``os.cpu_count()``).
    """
    cpu = cpu_capabilities()
    gpu = None
    if device.startswith('cuda') and torch.cuda.is_available():
        gpu = torch.cuda.get_device_name(torch.device(device))
    return dict(cpu=cpu.model, cpu_flags=cpu.flags(), gpu=gpu, torch=torch.__version__,
                threads=torch.get_num_threads(), cores=os.cpu_count())


def machine_line(device: str = 'cpu') -> str:
    """:func:`describe_machine` as one line for logs and benchmark output."""
    info = describe_machine(device)
    where = f'GPU {info["gpu"]}, host ' if info['gpu'] else ''
    return (f'{where}CPU {info["cpu"]} ({info["cpu_flags"]}), {info["cores"]} cores, '
            f'torch {info["torch"]}, {info["threads"]} threads')
