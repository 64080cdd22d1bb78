"""Start the process group on CPU-only hosts, where MMEngine's pytorch launcher cannot."""
import gc

import torch
import torch.distributed as dist


def init_cpu_distributed(cfg) -> None:
    """Start a gloo process group for ``--launcher pytorch`` on a host without CUDA.

    MMEngine's pytorch launcher calls ``torch.cuda.set_device`` unconditionally, which
    fails without a GPU; here the group is started first (the Runner then reuses it),
    so ``tools/dist_train.sh`` works on CPU machines (tests, laptops, CPU clusters).

    Args:
        cfg (Config): The run's config; reads ``launcher`` and ``env_cfg.dist_cfg.backend``
            (``nccl`` is replaced by ``gloo``, the CPU backend).
    """
    if cfg.get('launcher') != 'pytorch' or torch.cuda.is_available() or dist.is_initialized():
        return
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo')
    dist.init_process_group(backend='gloo' if backend == 'nccl' else backend)


def close_distributed() -> None:
    """After a run that succeeded on every rank: wait for all ranks, then destroy the process group.

    Left to interpreter shutdown, or torn down by one rank while another still talks to
    it, a gloo group's threads can die mid-operation ("terminate called without an active
    exception"), which aborts a rank of a run that had finished. Call it only where every
    rank arrives (the barrier would wait for a rank that failed).
    """
    if dist.is_available() and dist.is_initialized():
        gc.collect()  # what still holds the group (a DDP wrapper in a reference cycle) goes first
        dist.barrier()
        dist.destroy_process_group()
