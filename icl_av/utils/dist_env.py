"""Start the process group on CPU-only hosts, where MMEngine's pytorch launcher cannot, and gather
rows across ranks with gradients (for losses that contrast every rank's samples)."""
import gc
from typing import List, Optional

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


def _group_world_size(group=None) -> int:
    """Processes in ``group`` (the default group when ``None``); 1 without a started process group."""
    if not (dist.is_available() and dist.is_initialized()):
        return 1
    return dist.get_world_size(group)


def gather_batch_sizes(local_size: int, device: torch.device, group=None) -> List[int]:
    """Every rank's batch size, in rank order (``[local_size]`` without a process group).

    Ranks may hold different numbers of samples (the last batch of an epoch without
    ``drop_last``); the differentiable gathers below need them to pad and cut.
    """
    if _group_world_size(group) == 1:
        return [int(local_size)]
    size = torch.tensor([int(local_size)], dtype=torch.long, device=device)
    sizes = [torch.zeros_like(size) for _ in range(dist.get_world_size(group))]
    dist.all_gather(sizes, size, group=group)
    return [int(s.item()) for s in sizes]


class _AllGatherRows(torch.autograd.Function):
    """Concatenate every rank's rows; the backward hands each rank the summed gradient of its own rows.

    Each rank's loss may depend on every rank's rows, so the gradient of rank r's rows is
    the sum over ranks of what their losses send back to them: the backward all-reduces
    (sums) the gradient of the whole gathered tensor and keeps this rank's slice. It uses
    ``all_reduce`` rather than ``reduce_scatter`` so that it also runs on gloo (CPU) and
    with uneven batch sizes.
    """

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, sizes: List[int], group) -> torch.Tensor:
        rank = dist.get_rank(group)
        ctx.group, ctx.start, ctx.stop = group, sum(sizes[:rank]), sum(sizes[:rank + 1])
        longest = max(sizes)
        padded = tensor.contiguous()
        if tensor.shape[0] < longest:  # all_gather moves equal shapes: pad, then cut each part back
            padded = tensor.new_zeros((longest, *tensor.shape[1:]))
            padded[:tensor.shape[0]] = tensor
        parts = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(parts, padded, group=group)
        return torch.cat([part[:size] for part, size in zip(parts, sizes)])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        grad = grad.contiguous().clone()  # all_reduce works in place; the incoming gradient may be shared
        dist.all_reduce(grad, group=ctx.group)
        return grad[ctx.start:ctx.stop], None, None


def all_gather_rows(tensor: torch.Tensor, sizes: Optional[List[int]] = None, group=None) -> torch.Tensor:
    """Every rank's ``tensor`` concatenated along dim 0 in rank order, with gradients flowing back.

    The gradient that rank r's rows receive is the sum of the gradients that every rank's
    computation sends to them, so a loss that each rank computes over the gathered rows
    trains each rank's parameters as if the losses of all ranks were summed. Without a
    process group, or in a group of one, the tensor itself is returned (no copy, no change).

    Args:
        tensor (Tensor): ``B_r×...`` rows of this rank; the trailing shape must match across
            ranks. Bool tensors travel as uint8 (not every backend carries bool).
        sizes (list[int], optional): Every rank's ``B_r`` (from :func:`gather_batch_sizes`);
            gathered here when omitted.
        group (ProcessGroup, optional): Defaults to the default group.

    Returns:
        Tensor: ``(sum of B_r)×...``.
    """
    if _group_world_size(group) == 1:
        return tensor
    if sizes is None:
        sizes = gather_batch_sizes(tensor.shape[0], tensor.device, group)
    if tensor.dtype == torch.bool:
        return _AllGatherRows.apply(tensor.to(torch.uint8), sizes, group).bool()
    return _AllGatherRows.apply(tensor, sizes, group)
