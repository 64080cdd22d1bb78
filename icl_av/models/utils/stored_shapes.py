"""Buffers whose size is only known once data arrives, loaded from a checkpoint.

A module that allocates a buffer empty (or at a default size) and fills it later (the
pseudo-label bank's tables, the posterior maps' prototypes) would reject a checkpoint's filled
buffer as a size mismatch. Its ``_load_from_state_dict`` calls :func:`resize_to_stored` first.
"""
from typing import Iterable, Mapping

import torch
import torch.nn as nn


def resize_to_stored(module: nn.Module, state_dict: Mapping[str, torch.Tensor], prefix: str,
                     names: Iterable[str]) -> None:
    """Replace each named buffer whose stored shape differs by an empty one of the stored shape.

    The buffer keeps its dtype and device; the default copy of ``_load_from_state_dict`` then
    fills it. Names absent from ``state_dict`` are left as they are.
    """
    for name in names:
        stored = state_dict.get(prefix + name)
        current = getattr(module, name)
        if isinstance(stored, torch.Tensor) and stored.shape != current.shape:
            setattr(module, name, torch.empty(stored.shape, dtype=current.dtype, device=current.device))
