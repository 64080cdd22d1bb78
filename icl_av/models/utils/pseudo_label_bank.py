"""The pseudo-label bank: ICL's memory of the previous round's maps and audio clusters.

It is a module of the localizer holding registered buffers, so the labels are saved in
every checkpoint (a resumed run continues the same round), move with ``model.to``, and
are identical on every rank as long as every rank writes the same values (the
refresh, ``icl_av.engine.pseudo_labels.refresh_pseudo_labels``, gathers before writing).

Maps are stored at feature resolution as ``uint8`` (value × 255): 144k frames of
14×14 take about 28 MB. The bank alone owns that format: writers hand it float maps in
``[0, 1]`` (:meth:`PseudoLabelBank.update`), readers get float maps back
(:meth:`PseudoLabelBank.gather`), and :meth:`PseudoLabelBank.quantize` /
:meth:`PseudoLabelBank.dequantize` are the only conversions.
"""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn

from icl_av.registry import MODELS
from icl_av.utils.errors import UserInputError
from .stored_shapes import resize_to_stored

_BUFFERS = ('maps', 'clusters', 'valid')


@MODELS.register_module()
class PseudoLabelBank(nn.Module):
    """Per-sample pseudo-labels indexed by the dataset's ``sample_idx``.

    Buffers: ``maps`` uint8 ``N×h×w``, ``clusters`` int64 ``N``, ``valid`` bool ``N``
    (False for samples never written), ``round`` int64 scalar (number of updates).
    ``sample_list_digest`` (uint8 ``32``) records which sample list the rows index
    (:meth:`record_sample_list`; zeros when unknown), so labels written for one dataset
    are never read by position on another (see ``PseudoLabelHook``).

    Args:
        num_samples (int, optional): Dataset size, so the first update allocates
            all rows even if it does not write the last index. Without it the
            bank grows to ``max(sample_idx) + 1``.
        map_size (tuple[int, int], optional): ``(h, w)``; with ``num_samples``
            the buffers are allocated at construction (handy under DDP, whose
            buffer list is fixed when the model is wrapped).
    """

    def __init__(self, num_samples: Optional[int] = None, map_size: Optional[Sequence[int]] = None):
        super().__init__()
        self.num_samples = num_samples
        rows = num_samples if (num_samples is not None and map_size is not None) else 0
        h, w = tuple(map_size) if (map_size is not None and rows) else (0, 0)
        self.register_buffer('maps', torch.zeros(rows, h, w, dtype=torch.uint8))
        self.register_buffer('clusters', torch.full((rows,), -1, dtype=torch.long))
        self.register_buffer('valid', torch.zeros(rows, dtype=torch.bool))
        self.register_buffer('round', torch.zeros((), dtype=torch.long))
        # SHA-256 of the sample list the per-sample rows index (all zeros: not recorded); fixed size,
        # so a DDP wrapper's buffer list stays valid when it is written.
        self.register_buffer('sample_list_digest', torch.zeros(32, dtype=torch.uint8))

    @property
    def ready(self) -> bool:
        """True once at least one round of pseudo-labels was written."""
        return int(self.round) > 0

    @property
    def map_size(self):
        """``(h, w)`` of the stored maps."""
        return tuple(self.maps.shape[1:])

    def __len__(self) -> int:
        return self.maps.shape[0]

    def _allocate(self, rows: int, h: int, w: int) -> None:
        """(Re)allocate empty buffers of ``rows`` samples at ``h×w`` (old content is dropped)."""
        device = self.maps.device
        self.maps = torch.zeros(rows, h, w, dtype=torch.uint8, device=device)
        self.clusters = torch.full((rows,), -1, dtype=torch.long, device=device)
        self.valid = torch.zeros(rows, dtype=torch.bool, device=device)

    @staticmethod
    def quantize(maps: torch.Tensor) -> torch.Tensor:
        """The stored form of float maps in ``[0, 1]``: ``round(255·m)`` as uint8 (NaN -> 0, clamped)."""
        return (torch.nan_to_num(maps.float(), nan=0.0).clamp(0, 1) * 255).round().to(torch.uint8)

    @staticmethod
    def dequantize(stored: torch.Tensor) -> torch.Tensor:
        """Float32 maps in ``[0, 1]`` from their stored uint8 form (inverse of :meth:`quantize`)."""
        return stored.float() / 255.0

    @torch.no_grad()
    def update(self, sample_idx: Union[torch.Tensor, Sequence[int]], maps: torch.Tensor,
               clusters: torch.Tensor, valid: Optional[torch.Tensor] = None) -> Optional[float]:
        """Write one round of pseudo-labels and start the next round.

        Samples not written this round become invalid (their labels would be one
        round stale); non-finite maps are marked invalid.

        Args:
            sample_idx (LongTensor | list[int]): ``N`` dataset indices.
            maps (Tensor): ``N×h×w`` maps in ``[0, 1]`` (clamped).
            clusters (LongTensor): ``N`` audio cluster ids.
            valid (BoolTensor, optional): ``N`` flags; False marks a sample whose label
                must not be trained on (e.g. an uninformative map). Default: all True.

        Returns:
            float | None: How much the maps changed: the mean absolute difference (in
            ``[0, 1]`` units, as stored) between each written map and the one it replaces,
            averaged over the written samples that held a valid label before. ``None``
            on the first round, when the map size changed, or when no written sample
            held a valid label.
        """
        device = self.maps.device
        idx = torch.as_tensor(sample_idx, dtype=torch.long, device=device).flatten()
        maps = maps.detach().to(device=device, dtype=torch.float32)
        clusters = torch.as_tensor(clusters, dtype=torch.long, device=device).flatten()
        if maps.dim() != 3 or maps.shape[0] != idx.numel() or clusters.numel() != idx.numel():
            raise ValueError(f'PseudoLabelBank.update: expected sample_idx N, maps N×h×w, clusters N; got '
                             f'{idx.numel()}, {tuple(maps.shape)}, {clusters.numel()}')
        if idx.numel() and int(idx.min()) < 0:
            raise ValueError(f'PseudoLabelBank.update: negative sample_idx {int(idx.min())}')
        needed = max(int(idx.max()) + 1 if idx.numel() else 0, self.num_samples or 0)
        h, w = maps.shape[1:]
        previous = self._valid_rows(idx) if self.ready and self.map_size == (h, w) else None
        if self.map_size != (h, w) or len(self) < needed:
            self._allocate(max(needed, len(self)), h, w)
        finite = torch.isfinite(maps).flatten(1).all(dim=1)
        if valid is not None:
            valid = torch.as_tensor(valid, dtype=torch.bool, device=device).flatten()
            if valid.numel() != idx.numel():
                raise ValueError(f'PseudoLabelBank.update: valid has {valid.numel()} flags for {idx.numel()} samples')
            finite &= valid
        stored = self.quantize(maps)
        self.valid.zero_()
        self.maps[idx] = stored
        self.clusters[idx] = clusters
        self.valid[idx] = finite
        self.round += 1
        return self._mean_change(previous, stored)

    def _valid_rows(self, idx: torch.Tensor) -> Optional[Dict[str, torch.Tensor]]:
        """The stored maps of ``idx`` and which of them held a valid label (before an update)."""
        inside = idx < len(self)
        safe = torch.where(inside, idx, torch.zeros_like(idx))
        return dict(maps=self.maps[safe].clone(), valid=self.valid[safe] & inside)

    def _mean_change(self, previous: Optional[Dict[str, torch.Tensor]], stored: torch.Tensor) -> Optional[float]:
        """Mean |new - old| of the rows that held a valid label (see :meth:`update`)."""
        if previous is None or not bool(previous['valid'].any()):
            return None
        keep = previous['valid']
        change = (self.dequantize(stored[keep]) - self.dequantize(previous['maps'][keep])).abs()
        return float(change.flatten(1).mean(1).mean())

    def gather(self, sample_idx: Union[torch.Tensor, Sequence[int]]) -> Optional[Dict[str, torch.Tensor]]:
        """Read the labels of a batch (one indexing op per buffer).

        Args:
            sample_idx (LongTensor | list[int]): ``B`` dataset indices. Indices
                outside the bank come back invalid.

        Returns:
            dict | None: ``maps`` (``B×h×w`` float in [0, 1]), ``clusters`` (``B``
            long), ``valid`` (``B`` bool); ``None`` before the first update.
        """
        if not self.ready:
            return None
        idx = torch.as_tensor(sample_idx, dtype=torch.long, device=self.maps.device).flatten()
        inside = (idx >= 0) & (idx < len(self))
        safe = torch.where(inside, idx, torch.zeros_like(idx))
        return dict(maps=self.dequantize(self.maps[safe]),
                    clusters=self.clusters[safe],
                    valid=self.valid[safe] & inside)

    @property
    def sample_list(self) -> Optional[str]:
        """Hex SHA-256 of the sample list the rows index, or ``None`` when not recorded."""
        digest = self.sample_list_digest
        return bytes(digest.cpu().tolist()).hex() if bool(digest.any()) else None

    @torch.no_grad()
    def record_sample_list(self, digest: Optional[str]) -> None:
        """Record which sample list the rows index (64 hex digits, e.g. a dataset's list digest).

        The rows are looked up by ``sample_idx``, a position in that list; a reader with
        another list can then tell that they are not its labels. ``None`` clears it.
        """
        size = self.sample_list_digest.numel()
        if digest is None:
            self.sample_list_digest.zero_()
            return
        try:
            raw = bytes.fromhex(digest) if isinstance(digest, str) and len(digest) == 2 * size else None
        except ValueError:
            raw = None
        if raw is None:
            raise ValueError(f'PseudoLabelBank.record_sample_list: expected {2 * size} hex digits, got {digest!r}')
        self.sample_list_digest.copy_(torch.tensor(list(raw), dtype=torch.uint8))

    @torch.no_grad()
    def discard_labels(self) -> None:
        """Forget the per-sample labels (maps, clusters, valid, round, list digest), in place.

        The bank is then as before its first update (``ready`` is False, :meth:`gather`
        returns ``None``); the buffers keep their shapes.
        """
        self.maps.zero_()
        self.clusters.fill_(-1)
        self.valid.zero_()
        self.round.zero_()
        self.sample_list_digest.zero_()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Resize the buffers to the stored shapes before the default copy.

        A fresh model has an empty bank; without this the checkpoint's filled
        buffers would be rejected as a size mismatch. Audio prototypes stored in
        the bank are refused with the command that moves them to the localizer's
        ``posterior_maps``: loading without them would silently change the maps.
        """
        if prefix + 'prototypes' in state_dict:
            raise UserInputError(
                f'the checkpoint keeps its audio prototypes under {prefix}prototypes, which this version reads '
                f'from posterior_maps.prototypes; convert it first: python '
                f'tools/model_converters/prototypes_to_posterior_maps.py OLD.pth NEW.pth')
        if prefix + 'maps' in state_dict:
            # A state dict that does not say which list the rows index loads as unrecorded.
            state_dict.setdefault(prefix + 'sample_list_digest', torch.zeros(32, dtype=torch.uint8))
        resize_to_stored(self, state_dict, prefix, _BUFFERS)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return f'num_samples={len(self)}, map_size={self.map_size}, round={int(self.round)}'
