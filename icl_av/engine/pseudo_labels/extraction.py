"""One augmentation-free pass of the model over the refresh loader, gathered across ranks.

:func:`extract_pseudo_labels` is the "read" half of an ICL refresh: it runs
``test_step`` over this rank's shard, takes each sample's map (min-max normalised,
flat maps as background) and audio embedding, and returns every rank's samples in
``sample_idx`` order, once each. Why it looks the way it does:

- Every rank first takes rank 0's buffers (batch-norm statistics): DDP does not keep
  them in sync (MMEngine wraps with ``broadcast_buffers=False``), so without this each
  shard would be labelled by a slightly different model, not the one the checkpoint
  (written by rank 0) holds.
- The model is called through ``test_step``, which wrapped and unwrapped models both
  provide, in eval mode and under ``torch.no_grad``; its training mode is restored. A
  localizer with a ``labelling()`` context (``AVLocalizer``) is read inside it, so the refresh
  gets the maps it labels with (without test-time-only fall-backs).
- Iterating a loader draws from torch's global generator, so the pass runs under
  ``torch.random.fork_rng``: a refresh leaves the training run's random stream as it
  found it.
- Shards differ in length (``DefaultSampler`` pads the last one with duplicates), so the
  results are all-gathered as padded tensors, then sorted by ``sample_idx`` and
  de-duplicated.
"""
from contextlib import nullcontext
from dataclasses import dataclass
from typing import List

import torch
from mmengine.dist import all_gather, broadcast, get_rank, get_world_size
from mmengine.model import is_model_wrapper
from mmengine.utils import ProgressBar

from icl_av.datasets.corrupt_samples import has_samples
from icl_av.structures.map_normalization import FLAT_IS_BACKGROUND, min_max_normalize

@dataclass
class ExtractedPseudoLabels:
    """What one refresh pass read, every rank's samples in ``sample_idx`` order.

    Attributes:
        sample_idx (LongTensor): ``N`` sorted, unique dataset indices (CPU).
        maps (Tensor): ``N×h×w`` float32 maps in ``[0, 1]``, a flat map all zeros (CPU).
        embeddings (Tensor): ``N×D`` float32 audio embeddings (CPU).
        device (torch.device): Where the model computed them (clustering there keeps
            its results those of the model's device).
    """

    sample_idx: torch.Tensor
    maps: torch.Tensor
    embeddings: torch.Tensor
    device: torch.device

    @property
    def informative(self) -> torch.Tensor:
        """``N`` bool: the map is not flat (a flat map was normalised to all zeros)."""
        return self.maps.flatten(1).amax(1) > 0


def unwrap_model(model):
    """The localizer inside a DDP-style model wrapper (or the model itself)."""
    return model.module if is_model_wrapper(model) else model


def extract_pseudo_labels(model, dataloader, show_progress: bool = True) -> ExtractedPseudoLabels:
    """Run ``model.test_step`` over ``dataloader`` and gather maps and embeddings by ``sample_idx``.

    Args:
        model (nn.Module): The localizer, or a DDP-style wrapper of it. Its samples must
            carry ``metainfo['sample_idx']``, ``pred_map`` (``h×w``, one size for all)
            and ``audio_embedding`` (``D``).
        dataloader (Iterable): This rank's shard of the refresh loader
            (see :func:`build_refresh_dataloader`).
        show_progress (bool): A progress bar on rank 0. Defaults to True.

    Returns:
        ExtractedPseudoLabels: Identical on every rank.

    Raises:
        KeyError: A sample lacks ``sample_idx`` or a needed field.
        ValueError: Maps of different sizes, or ranks that disagree on the sizes.
        RuntimeError: This rank's loader produced no samples.
    """
    localizer = unwrap_model(model)
    _broadcast_buffers_from_rank0(localizer)
    was_training = model.training
    model.eval()
    cuda_devices = [torch.cuda.current_device()] if torch.cuda.is_initialized() else []
    labelling = localizer.labelling() if callable(getattr(localizer, 'labelling', None)) else nullcontext()
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=cuda_devices), labelling:
            shard = _extract_shard(model, dataloader, show_progress)
    finally:
        model.train(was_training)
    return _gather_in_index_order(*shard)


def _extract_shard(model, dataloader, show_progress: bool):
    """This rank's samples in loader order: idx, maps, embeddings, device."""
    sample_idx: List[int] = []
    maps: List[torch.Tensor] = []
    embeddings: List[torch.Tensor] = []
    device = torch.device('cpu')
    map_size = None
    progress = ProgressBar(len(dataloader)) if show_progress and get_rank() == 0 else None
    for data_batch in dataloader:
        batch_maps, batch_embeddings = [], []
        # Samples whose files failed to decode (the dataset's on_corrupt='skip') are not in the batch: their
        # sample_idx gets no map and stays invalid in the bank. A batch in which all of them failed is skipped.
        samples = model.test_step(data_batch) if has_samples(data_batch) else []
        for sample in samples:
            sample_idx.append(_read_sample_idx(sample))
            pred_map = _read_field(sample, 'pred_map').detach()
            if pred_map.dim() == 3 and pred_map.shape[0] == 1:
                pred_map = pred_map[0]
            map_size = map_size or tuple(pred_map.shape)
            if pred_map.dim() != 2 or tuple(pred_map.shape) != map_size:
                raise ValueError(f'extract_pseudo_labels: every pred_map must be h×w of one size (use a test '
                                 f'pipeline with a fixed input size); got {tuple(pred_map.shape)} for sample_idx '
                                 f'{sample_idx[-1]}, expected {map_size}')
            batch_maps.append(pred_map)
            batch_embeddings.append(_read_field(sample, 'audio_embedding').detach().flatten())
        if batch_maps:  # normalised on the model's device, one device-to-host copy per batch
            device = batch_embeddings[0].device
            maps.append(min_max_normalize(torch.stack(batch_maps).float(), flat_value=FLAT_IS_BACKGROUND).cpu())
            embeddings.append(torch.stack(batch_embeddings).float().cpu())
        if progress is not None:
            progress.update()
    if progress is not None:
        progress.file.write('\n')
    if not sample_idx:
        raise RuntimeError(f'extract_pseudo_labels: the refresh loader produced no samples on rank {get_rank()}')
    return torch.tensor(sample_idx, dtype=torch.long), torch.cat(maps), torch.cat(embeddings), device


def _gather_in_index_order(sample_idx: torch.Tensor, maps: torch.Tensor, embeddings: torch.Tensor,
                           device: torch.device) -> ExtractedPseudoLabels:
    """All-gather every rank's shard, sort by ``sample_idx`` and drop the sampler's duplicates."""
    if get_world_size() > 1:
        shape = torch.tensor([sample_idx.numel(), maps.shape[1], maps.shape[2], embeddings.shape[1]])
        shapes = torch.stack(all_gather(shape))
        if not (shapes[:, 1:] == shape[1:]).all():
            raise ValueError('extract_pseudo_labels: ranks disagree on the map size / embedding dim '
                             f'(per rank [n, h, w, D]: {shapes.tolist()})')
        counts = shapes[:, 0].tolist()
        longest = max(counts)
        sample_idx = _gather_padded(sample_idx, longest, counts)
        maps = _gather_padded(maps, longest, counts)
        embeddings = _gather_padded(embeddings, longest, counts)
    order = torch.argsort(sample_idx, stable=True)
    sample_idx = sample_idx[order]
    first = torch.ones_like(sample_idx, dtype=torch.bool)
    first[1:] = sample_idx[1:] != sample_idx[:-1]
    keep = order[first]
    return ExtractedPseudoLabels(sample_idx=sample_idx[first], maps=maps[keep], embeddings=embeddings[keep],
                                 device=device)


def _gather_padded(tensor: torch.Tensor, longest: int, counts: List[int]) -> torch.Tensor:
    """All-gather tensors whose first dim differs per rank (``counts``) by padding to ``longest``."""
    padded = tensor.new_zeros((longest, ) + tuple(tensor.shape[1:]))
    padded[:tensor.shape[0]] = tensor
    parts = all_gather(padded)
    return torch.cat([part[:count] for part, count in zip(parts, counts)])


def _broadcast_buffers_from_rank0(localizer) -> None:
    """Give every rank rank 0's buffers (BN statistics), the pseudo-label bank excepted (the audio
    prototypes are the same on every rank already)."""
    if get_world_size() < 2:
        return
    for name, buffer in localizer.named_buffers():
        if not name.startswith('pseudo_label_bank.') and buffer.numel():
            broadcast(buffer, src=0)


def _read_sample_idx(sample) -> int:
    """``metainfo['sample_idx']`` of a returned data sample, with a contract-naming error."""
    metainfo = getattr(sample, 'metainfo', None)
    if metainfo is None or metainfo.get('sample_idx') is None:
        raise KeyError('extract_pseudo_labels: a sample returned by test_step has no metainfo["sample_idx"] '
                       '(the dataset sets it and PackAVInputs must keep it in meta_keys; see docs/contracts.md)')
    return int(metainfo['sample_idx'])


def _read_field(sample, name: str) -> torch.Tensor:
    """A tensor field (``pred_map`` / ``audio_embedding``) of a returned data sample."""
    value = getattr(sample, name, None)
    if not isinstance(value, torch.Tensor):
        raise KeyError(f'extract_pseudo_labels: the samples returned by test_step must carry `{name}` '
                       f'(a tensor; see docs/contracts.md), got {type(value).__name__} for sample_idx '
                       f'{sample.metainfo.get("sample_idx")}')
    return value
