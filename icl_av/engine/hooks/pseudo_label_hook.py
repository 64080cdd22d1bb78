"""PseudoLabelHook: the ICL iteration — refresh the model's pseudo-labels between rounds.

ICL trains in rounds ("iterations"). At the end of a round the current model is run,
without augmentation, over the whole training set; its own localization maps become
the sounding/silent pseudo-labels of the next round, and k-means clusters of its audio
embeddings become the "same kind of sound" pseudo-labels. This hook does exactly that
and hands the result to ``model.update_pseudo_labels(sample_idx, maps, clusters)``
(see ``docs/contracts.md``).

Why it looks the way it does:

- The tables live in the *model* (``PseudoLabelBank`` buffers), not in the dataset, so
  persistent data-loader workers never hold stale copies and every checkpoint carries
  the labels: a resumed run trains on the same labels as an uninterrupted one.
- The hook keeps no state of its own: which refreshes have happened is derived from
  the epoch number, so a resumed run refreshes at the same epochs.
- Every rank extracts its shard of the training set (``DefaultSampler(shuffle=False)``);
  the results are all-gathered as padded tensors, ordered by ``sample_idx`` and
  de-duplicated (the sampler pads the last shard); k-means runs on rank 0 and its
  labels are broadcast, so every rank writes identical tables.
- Before extracting, every rank takes rank 0's buffers (batch-norm statistics): DDP
  does not keep them in sync (MMEngine wraps with ``broadcast_buffers=False``), so
  without this each half of the set would be labelled by a slightly different model,
  not the one the checkpoint (written by rank 0) holds.
- The model is called through ``test_step`` (which wrapped and unwrapped models both
  provide) and unwrapped only to call ``update_pseudo_labels``.
- A refresh consumes nothing from torch's global random generator (the extraction runs
  under ``torch.random.fork_rng``; k-means has its own seeded generator), so adding the
  hook does not change the augmentations the training epochs draw.
"""
import copy
import itertools
import math
import time
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, broadcast, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader

from icl_av.models.utils.kmeans import KMEANS_METRICS, kmeans
from icl_av.registry import HOOKS

#: Fields of a predicted data sample that may serve as its pseudo map.
MAP_SOURCES = ('pred_map', 'specific_map')

#: Dtypes in which the hook may carry the normalised maps between ranks.
MAP_DTYPES = {'uint8': torch.uint8, 'float16': torch.float16, 'float32': torch.float32}

# Maps whose max - min is below this are treated as constant (all background).
_FLAT_MAP_RANGE = 1e-12


def normalize_maps(maps: torch.Tensor) -> torch.Tensor:
    """Min-max normalise each map of an ``N×h×w`` stack to ``[0, 1]``.

    A constant map (nothing stands out) becomes all zeros, i.e. all background.

    Args:
        maps (Tensor): ``N×h×w`` raw localization maps (e.g. cosine similarities).

    Returns:
        Tensor: float32 ``N×h×w`` maps with per-map minimum 0 and maximum 1.
    """
    flat = maps.float().flatten(1)
    low = flat.min(dim=1, keepdim=True).values
    span = flat.max(dim=1, keepdim=True).values - low
    normalised = (flat - low) / span.clamp_min(_FLAT_MAP_RANGE)
    normalised = torch.where(span > _FLAT_MAP_RANGE, normalised, torch.zeros_like(normalised))
    return normalised.clamp(0.0, 1.0).view_as(maps)


def quantize_maps(maps: torch.Tensor, map_dtype: str) -> torch.Tensor:
    """Store ``[0, 1]`` maps compactly: ``'uint8'`` keeps ``round(255·m)``, else a float cast."""
    if MAP_DTYPES[map_dtype] is torch.uint8:
        return (maps * 255.0).round().to(torch.uint8)
    return maps.to(MAP_DTYPES[map_dtype])


def dequantize_maps(maps: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`quantize_maps`: float32 maps in ``[0, 1]``."""
    if maps.dtype == torch.uint8:
        return maps.float() / 255.0
    return maps.float()


@HOOKS.register_module()
class PseudoLabelHook(Hook):
    """Refresh the localizer's pseudo-labels at the boundaries of ICL iterations.

    At a boundary (after the last epoch of an ICL iteration, and before training when
    ``refresh_at_start``) the hook puts the model in eval mode, runs ``test_step`` over
    the training set with its own augmentation-free loader, reads ``sample_idx``,
    ``pred_map`` (h×w) and ``audio_embedding`` (D) from every returned sample,
    min-max normalises each map to [0, 1], gathers everything across ranks in
    dataset-index order, clusters the embeddings with a seeded k-means and calls
    ``update_pseudo_labels(sample_idx, maps, clusters)`` on the (unwrapped) model.
    Each refresh is logged (time, samples, cluster sizes, foreground area, change of
    the maps since the previous refresh) and its numbers are sent to the visualizer
    as scalars under ``pseudo_label/``.

    Epoch-based training only. Give exactly one of ``iteration_epochs`` and ``interval``.

    Args:
        num_clusters (int): Number of k-means clusters of the audio embeddings (the
            pseudo sound categories). Must not exceed the number of training samples.
        iteration_epochs (Sequence[int], optional): Length in epochs of each ICL
            iteration, e.g. ``[4, 3, 3]``: refresh after epoch 4 and after epoch 7; the
            last iteration runs to the end of training (its length is only checked
            against ``max_epochs``, with a warning when they disagree).
        interval (int, optional): Refresh after every ``interval`` epochs instead (not
            after the final epoch, which would be wasted work).
        refresh_at_start (bool): Also refresh before the first training epoch, so the
            first round already trains with (the initial model's) pseudo-labels. Skipped
            when resuming. Defaults to False.
        kmeans_iters (int): Maximum Lloyd iterations of k-means. Defaults to 100.
        kmeans_metric (str): ``'cosine'`` (spherical k-means, for the L2-normalised audio
            embeddings) or ``'euclidean'``. Defaults to ``'cosine'``.
        seed (int): Seed of the k-means initialisation; the same seed gives the same
            clusters on the same inputs and device. Defaults to 0.
        dataloader (dict | DataLoader, optional): The extraction loader. Keys that are
            missing are taken from the training loader: ``batch_size``, ``num_workers``,
            ``pin_memory``, ``persistent_workers``, ``collate_fn``; the sampler defaults to
            ``DefaultSampler(shuffle=False)`` (each rank gets its shard). Its ``dataset`` is
            either a complete dataset config (has ``type``) or a partial one merged into
            the training dataset config — normally just ``dict(pipeline=test_pipeline)``
            so the maps are computed without random augmentation. A built ``DataLoader``
            is used as is. Defaults to None (= the training loader's settings and dataset
            with the *training* pipeline, with a warning).
        map_dtype (str): Dtype in which the normalised maps are kept and exchanged
            between ranks: ``'uint8'`` (``round(255·m)``, lossless for the bank, which
            stores maps as uint8 too), ``'float16'`` or ``'float32'``. Defaults to ``'uint8'``.
        fg_threshold (float): Threshold on the normalised maps used only for the logged
            mean foreground area (fraction of map locations ``>= fg_threshold``). If the
            model's ``pseudo_label_bank`` has an ``fg_threshold`` attribute, that one wins.
            Defaults to 0.5.
        map_source (str): Which map of each sample becomes its pseudo map:
            ``'pred_map'`` (its map with its own audio) or ``'specific_map'`` (that map
            minus its maps with the batch's other clips; see
            :meth:`AVLocalizer.audio_specificity`), which cancels what answers any sound
            (silent distractors, salient background). Defaults to ``'pred_map'``.
        max_match_rank (int, optional): Safeguard against pseudo-labels that would poison
            the next round: a sample's pseudo-label is kept only when its frame prefers its
            own clip to all but at most ``max_match_rank`` of the batch's other clips (the
            model's ``match_rank``); the others fall back to the correspondence objective.
            Maps that carry no information (constant) are never kept. ``None`` keeps every
            sample with a non-constant map. Defaults to None.
        save_pictures (bool): After each refresh, send a grid of the first
            ``num_pictures`` pseudo-label maps (dataset-index order, jet colormap) to the
            runner's visualizer via ``add_image``; skipped quietly if it has none.
            Defaults to False.
        num_pictures (int): Number of maps in that grid. Defaults to 16.
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW): the saved epoch has the new labels

    def __init__(self,
                 num_clusters: int,
                 iteration_epochs: Optional[Sequence[int]] = None,
                 interval: Optional[int] = None,
                 refresh_at_start: bool = False,
                 kmeans_iters: int = 100,
                 kmeans_metric: str = 'cosine',
                 seed: int = 0,
                 dataloader: Optional[Union[Dict, DataLoader]] = None,
                 map_dtype: str = 'uint8',
                 fg_threshold: float = 0.5,
                 map_source: str = 'pred_map',
                 max_match_rank: Optional[int] = None,
                 save_pictures: bool = False,
                 num_pictures: int = 16) -> None:
        if (iteration_epochs is None) == (interval is None):
            raise ValueError('PseudoLabelHook: give exactly one of `iteration_epochs` (lengths of the '
                             f'ICL iterations) and `interval`, got iteration_epochs={iteration_epochs!r}, '
                             f'interval={interval!r}')
        if iteration_epochs is not None:
            if (isinstance(iteration_epochs, (str, bytes)) or not isinstance(iteration_epochs, Sequence)
                    or len(iteration_epochs) == 0 or not all(_is_positive_int(n) for n in iteration_epochs)):
                raise ValueError('PseudoLabelHook: `iteration_epochs` must be a non-empty list of positive '
                                 f'ints (epochs per ICL iteration), got {iteration_epochs!r}')
            iteration_epochs = [int(n) for n in iteration_epochs]
        if interval is not None and not _is_positive_int(interval):
            raise ValueError(f'PseudoLabelHook: `interval` must be a positive int, got {interval!r}')
        if not _is_positive_int(num_clusters):
            raise ValueError(f'PseudoLabelHook: `num_clusters` must be a positive int, got {num_clusters!r}')
        if map_dtype not in MAP_DTYPES:
            raise ValueError(f'PseudoLabelHook: `map_dtype` must be one of {list(MAP_DTYPES)}, got {map_dtype!r}')
        if kmeans_metric not in KMEANS_METRICS:
            raise ValueError(f'PseudoLabelHook: `kmeans_metric` must be one of {KMEANS_METRICS}, '
                             f'got {kmeans_metric!r}')
        if not _is_positive_int(kmeans_iters):
            raise ValueError(f'PseudoLabelHook: `kmeans_iters` must be a positive int, got {kmeans_iters!r}')
        if dataloader is not None and not isinstance(dataloader, (dict, DataLoader)):
            raise TypeError('PseudoLabelHook: `dataloader` must be a dict config or a DataLoader, '
                            f'got {type(dataloader).__name__}')
        if map_source not in MAP_SOURCES:
            raise ValueError(f'PseudoLabelHook: `map_source` must be one of {MAP_SOURCES}, got {map_source!r}')
        if max_match_rank is not None and (isinstance(max_match_rank, bool) or not isinstance(max_match_rank, int)
                                           or max_match_rank < 0):
            raise ValueError(f'PseudoLabelHook: `max_match_rank` must be None or an int >= 0, got {max_match_rank!r}')
        self.map_source = map_source
        self.max_match_rank = max_match_rank
        self.num_clusters = int(num_clusters)
        self.iteration_epochs = iteration_epochs
        self.interval = interval
        self.refresh_at_start = bool(refresh_at_start)
        self.kmeans_iters = int(kmeans_iters)
        self.kmeans_metric = kmeans_metric
        self.seed = int(seed)
        self.dataloader_cfg = dataloader
        self.map_dtype = map_dtype
        self.fg_threshold = float(fg_threshold)
        self.save_pictures = bool(save_pictures)
        self.num_pictures = int(num_pictures)

        self._dataloader: Optional[DataLoader] = None
        self._epoch_start: Optional[float] = None
        self._last_epoch_seconds: Optional[float] = None

    # ------------------------------------------------------------------ schedule
    def refresh_epochs(self, max_epochs: int) -> List[int]:
        """Numbers of completed epochs after which the pseudo-labels are refreshed.

        Args:
            max_epochs (int): Length of training.

        Returns:
            list[int]: Sorted epoch counts in ``[1, max_epochs)`` (1-based: ``4`` means
            "after the 4th epoch"); refreshing after the final epoch is pointless.
        """
        if self.iteration_epochs is not None:
            boundaries = list(itertools.accumulate(self.iteration_epochs[:-1]))
        else:
            boundaries = list(range(self.interval, max_epochs, self.interval))
        return [epoch for epoch in boundaries if epoch < max_epochs]

    def num_refreshes_done(self, completed_epochs: int, max_epochs: int) -> int:
        """How many epoch-boundary refreshes happened once ``completed_epochs`` are done.

        Derived from the epoch number only, so a resumed run agrees with an
        uninterrupted one (a ``refresh_at_start`` refresh is not counted).
        """
        return sum(epoch <= completed_epochs for epoch in self.refresh_epochs(max_epochs))

    # ------------------------------------------------------------------ hook points
    def before_train(self, runner) -> None:
        """Check the loop type, log the schedule and refresh first if asked to."""
        if isinstance(runner.train_loop, IterBasedTrainLoop):
            raise TypeError('PseudoLabelHook: needs epoch-based training (train_cfg.by_epoch=True); '
                            'the ICL iterations are counted in epochs')
        max_epochs = runner.max_epochs
        schedule = self.refresh_epochs(max_epochs)
        if self.iteration_epochs is not None and sum(self.iteration_epochs) != max_epochs:
            runner.logger.warning(
                f'PseudoLabelHook: iteration_epochs={self.iteration_epochs} sums to {sum(self.iteration_epochs)} '
                f'epochs but training runs {max_epochs}; refreshing after epochs {schedule} and the last '
                'ICL iteration runs to the end of training')
        runner.logger.info(f'PseudoLabelHook: refreshing pseudo-labels after epochs {schedule}'
                           + (' and before training' if self.refresh_at_start else ''))
        # A resumed run (epoch or iteration > 0) already has the bank in its checkpoint.
        if self.refresh_at_start and runner.epoch == 0 and runner.iter == 0:
            self.refresh(runner)
        elif runner.epoch > 0 and self.num_refreshes_done(runner.epoch, max_epochs) and not _bank_ready(runner.model):
            # Resumed from a checkpoint without pseudo-labels that is past a boundary, e.g. ICL
            # branched from the correspondence baseline's checkpoint at the end of round 1:
            # label with the loaded model now instead of training the round without labels.
            runner.logger.info(f'PseudoLabelHook: resumed at epoch {runner.epoch}, past a refresh boundary, '
                               'from a checkpoint without pseudo-labels: refreshing now')
            self.refresh(runner, completed_epochs=runner.epoch)

    def before_train_epoch(self, runner) -> None:
        """Start timing the epoch (refresh time is reported relative to it)."""
        self._epoch_start = time.perf_counter()

    def after_train_epoch(self, runner) -> None:
        """Refresh if the epoch that just ended closes an ICL iteration."""
        if self._epoch_start is not None:
            self._last_epoch_seconds = time.perf_counter() - self._epoch_start
        completed = runner.epoch + 1  # runner.epoch is incremented after this hook point
        if completed in self.refresh_epochs(runner.max_epochs):
            self.refresh(runner, completed_epochs=completed)

    # ------------------------------------------------------------------ the refresh
    def refresh(self, runner, completed_epochs: Optional[int] = None) -> Dict[str, float]:
        """Extract, gather, cluster and write the pseudo-labels now.

        Args:
            runner (Runner): The runner; uses ``model``, ``iter``, ``max_epochs``,
                ``seed``, ``logger`` and ``visualizer`` (and the training dataloader
                config to build the extraction loader the first time).
            completed_epochs (int, optional): Epochs finished when the refresh happens,
                only for the log line; None means before training.

        Returns:
            dict[str, float]: The logged statistics of this refresh.
        """
        model = runner.model
        localizer = _unwrap(model)
        if not callable(getattr(localizer, 'update_pseudo_labels', None)):
            raise TypeError(f'PseudoLabelHook: the model {type(localizer).__name__} has no '
                            '`update_pseudo_labels(sample_idx, maps, clusters)` method (see docs/contracts.md)')
        if self._dataloader is None:
            self._dataloader = self._build_dataloader(runner)

        start = time.perf_counter()
        _broadcast_buffers_from_rank0(localizer)
        sample_idx, maps, embeddings, keep, device = self._extract_all_ranks(model)
        num_samples = sample_idx.numel()
        if self.num_clusters > num_samples:
            raise ValueError(f'PseudoLabelHook: num_clusters={self.num_clusters} exceeds the number of '
                             f'training samples ({num_samples}) the extraction loader produced')
        clusters, centroids = self._cluster_on_rank0(embeddings.to(device))
        if callable(getattr(localizer, 'set_audio_prototypes', None)):
            localizer.set_audio_prototypes(centroids)
            if getattr(localizer, 'maps_use_prototypes', False):
                # The model's maps compare each sound with the kinds of sound just found:
                # label with the maps the new centroids give (a second pass).
                sample_idx, maps, _, keep, _ = self._extract_all_ranks(model)

        float_maps = dequantize_maps(maps)
        previous_maps = self._previous_maps(localizer, sample_idx, float_maps.shape[1:])
        localizer.update_pseudo_labels(sample_idx.to(device), float_maps.to(device), clusters.to(device),
                                       valid=keep.to(device))
        seconds = time.perf_counter() - start

        stats = self._statistics(localizer, float_maps, previous_maps, clusters.cpu(), seconds)
        stats['kept'] = float(keep.float().mean())
        self._log(runner, stats, completed_epochs)
        if self.save_pictures:
            self._save_pictures(runner, float_maps, completed_epochs or 0)
        return stats

    def _extract_all_ranks(self, model):
        """One augmentation-free pass in eval mode, gathered across ranks in ``sample_idx`` order."""
        was_training = model.training
        model.eval()
        # Iterating a DataLoader draws from torch's global generator; fork it so a refresh
        # leaves the training run's random stream exactly as it found it.
        cuda_devices = [torch.cuda.current_device()] if torch.cuda.is_initialized() else []
        try:
            with torch.no_grad(), torch.random.fork_rng(devices=cuda_devices):
                sample_idx, maps, embeddings, keep, device = self._extract(model, self._dataloader)
        finally:
            model.train(was_training)
        return (*self._gather_across_ranks(sample_idx, maps, embeddings, keep), device)

    def _extract(self, model, dataloader: DataLoader):
        """Run ``test_step`` over this rank's shard.

        Returns:
            tuple: sample idx, maps (``map_dtype``), embeddings, keep (bool: the map is
            informative and passes ``max_match_rank``), device.
        """
        sample_idx: List[int] = []
        maps: List[torch.Tensor] = []
        embeddings: List[torch.Tensor] = []
        keep: List[torch.Tensor] = []
        device = torch.device('cpu')
        map_size = None
        progress = ProgressBar(len(dataloader)) if get_rank() == 0 else None
        for data_batch in dataloader:
            batch_maps, batch_embeddings, batch_ranks = [], [], []
            for sample in model.test_step(data_batch):
                sample_idx.append(_read_sample_idx(sample))
                pred_map = _read_field(sample, self.map_source).detach()
                if self.max_match_rank is not None:
                    batch_ranks.append(int(_read_field(sample, 'match_rank')))
                if pred_map.dim() == 3 and pred_map.shape[0] == 1:
                    pred_map = pred_map[0]
                map_size = map_size or tuple(pred_map.shape)
                if pred_map.dim() != 2 or tuple(pred_map.shape) != map_size:
                    raise ValueError(f'PseudoLabelHook: every pred_map must be h×w of one size (use a test '
                                     f'pipeline with a fixed input size); got {tuple(pred_map.shape)} for '
                                     f'sample_idx {sample_idx[-1]}, expected {map_size}')
                batch_maps.append(pred_map)
                batch_embeddings.append(_read_field(sample, 'audio_embedding').detach().flatten())
            if batch_maps:  # one device-to-host copy per batch, maps already compact
                device = batch_embeddings[0].device
                normalised = normalize_maps(torch.stack(batch_maps))
                maps.append(quantize_maps(normalised, self.map_dtype).cpu())
                embeddings.append(torch.stack(batch_embeddings).float().cpu())
                # normalize_maps turns a constant (uninformative) map into all zeros, any other into max 1.
                informative = normalised.flatten(1).amax(1).cpu() > 0
                if self.max_match_rank is not None:
                    informative &= torch.tensor(batch_ranks) <= self.max_match_rank
                keep.append(informative)
            if progress is not None:
                progress.update()
        if progress is not None:
            progress.file.write('\n')
        if not sample_idx:
            raise RuntimeError('PseudoLabelHook: the extraction dataloader produced no samples on rank '
                               f'{get_rank()}')
        return (torch.tensor(sample_idx, dtype=torch.long), torch.cat(maps), torch.cat(embeddings), torch.cat(keep),
                device)

    def _gather_across_ranks(self, sample_idx: torch.Tensor, maps: torch.Tensor, embeddings: torch.Tensor,
                             keep: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """All-gather every rank's shard, sort by ``sample_idx`` and drop duplicates."""
        if get_world_size() > 1:
            shape = torch.tensor([sample_idx.numel(), maps.shape[1], maps.shape[2], embeddings.shape[1]])
            shapes = torch.stack(all_gather(shape))
            if not (shapes[:, 1:] == shape[1:]).all():
                raise ValueError('PseudoLabelHook: ranks disagree on the map size / embedding dim '
                                 f'(per rank [n, h, w, D]: {shapes.tolist()})')
            counts = shapes[:, 0].tolist()
            longest = max(counts)
            sample_idx = _gather_padded(sample_idx, longest, counts)
            maps = _gather_padded(maps, longest, counts)
            embeddings = _gather_padded(embeddings, longest, counts)
            keep = _gather_padded(keep.to(torch.uint8), longest, counts).bool()
        order = torch.argsort(sample_idx, stable=True)
        sample_idx, maps, embeddings, keep = sample_idx[order], maps[order], embeddings[order], keep[order]
        first = torch.ones_like(sample_idx, dtype=torch.bool)
        first[1:] = sample_idx[1:] != sample_idx[:-1]
        return sample_idx[first], maps[first], embeddings[first], keep[first]

    def _cluster_on_rank0(self, embeddings: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """k-means on rank 0; labels (``N``) and centroids (``K×D``) broadcast to every rank."""
        if get_rank() == 0:
            clusters, centroids = kmeans(embeddings, self.num_clusters, num_iters=self.kmeans_iters,
                                         seed=self.seed, metric=self.kmeans_metric)
            centroids = centroids.to(embeddings.dtype)
        else:
            clusters = torch.zeros(embeddings.shape[0], dtype=torch.long, device=embeddings.device)
            centroids = embeddings.new_zeros(self.num_clusters, embeddings.shape[1])
        broadcast(clusters, src=0)
        broadcast(centroids, src=0)
        return clusters, centroids

    # ------------------------------------------------------------------ dataloader
    def _build_dataloader(self, runner) -> DataLoader:
        """Build the augmentation-free extraction loader (see the class docstring)."""
        if isinstance(self.dataloader_cfg, DataLoader):
            return self.dataloader_cfg
        user_cfg = copy.deepcopy(dict(self.dataloader_cfg or {}))
        train_cfg = _train_dataloader_cfg(runner)
        dataset_cfg = user_cfg.pop('dataset', None) or {}
        if 'type' not in dataset_cfg:
            if train_cfg is None or not isinstance(train_cfg.get('dataset'), dict):
                raise ValueError('PseudoLabelHook: cannot find the training dataset config to reuse; give a '
                                 'complete `dataloader.dataset` (with `type`) in the hook config')
            if 'pipeline' not in dataset_cfg:
                runner.logger.warning('PseudoLabelHook: no `dataloader.dataset.pipeline` given, extracting '
                                      'pseudo-labels with the *training* pipeline (random augmentation will '
                                      'perturb them); set it to the test pipeline')
            merged_dataset = copy.deepcopy(dict(train_cfg['dataset']))
            merged_dataset.update(dataset_cfg)
            dataset_cfg = merged_dataset
        loader_cfg = dict(sampler=dict(type='DefaultSampler', shuffle=False))
        for key in ('batch_size', 'num_workers', 'pin_memory', 'persistent_workers', 'collate_fn'):
            if train_cfg is not None and key in train_cfg:
                loader_cfg[key] = copy.deepcopy(train_cfg[key])
        loader_cfg.update(user_cfg)
        loader_cfg['dataset'] = dataset_cfg
        loader_cfg.setdefault('batch_size', 1)
        if not loader_cfg.get('num_workers'):
            loader_cfg['persistent_workers'] = False
        return runner.build_dataloader(loader_cfg, seed=runner.seed)

    # ------------------------------------------------------------------ reporting
    def _previous_maps(self, localizer, sample_idx: torch.Tensor, map_size) -> Optional[torch.Tensor]:
        """The bank's current maps for ``sample_idx`` (NaN rows where not valid), if any."""
        bank = getattr(localizer, 'pseudo_label_bank', None)
        if bank is None or not getattr(bank, 'ready', False) or not callable(getattr(bank, 'gather', None)):
            return None
        bank_device = next(iter(bank.buffers()), sample_idx).device
        stored = bank.gather(sample_idx.to(bank_device))
        if stored is None or tuple(stored['maps'].shape[1:]) != tuple(map_size):
            return None
        previous = stored['maps'].float().cpu()
        valid = stored.get('valid')
        if valid is not None:
            previous[~valid.cpu().bool()] = float('nan')
        return previous

    def _statistics(self, localizer, maps: torch.Tensor, previous: Optional[torch.Tensor],
                    clusters: torch.Tensor, seconds: float) -> Dict[str, float]:
        """Numbers logged per refresh."""
        bank = getattr(localizer, 'pseudo_label_bank', None)
        threshold = float(getattr(bank, 'fg_threshold', self.fg_threshold))
        sizes = torch.bincount(clusters, minlength=self.num_clusters)
        stats = dict(
            seconds=seconds,
            num_samples=float(maps.shape[0]),
            cluster_size_min=float(sizes.min()),
            cluster_size_max=float(sizes.max()),
            clusters_empty=float((sizes == 0).sum()),
            fg_area=float((maps >= threshold).float().mean()),
        )
        if self._last_epoch_seconds:
            stats['time_ratio_to_epoch'] = seconds / self._last_epoch_seconds
        if previous is not None:
            change = (maps - previous).abs().flatten(1).mean(1)
            change = change[~torch.isnan(change)]
            if change.numel():
                stats['map_change'] = float(change.mean())
        stats['fg_threshold'] = threshold
        return stats

    def _log(self, runner, stats: Dict[str, float], completed_epochs: Optional[int]) -> None:
        """One log line per refresh, and the numbers as visualizer scalars."""
        if completed_epochs:
            done = self.num_refreshes_done(completed_epochs, runner.max_epochs)
            where = f'after epoch {completed_epochs} (ICL iteration {done + 1} starts)'
        else:
            where = 'before training'
        ratio = (f' ({stats["time_ratio_to_epoch"]:.2f}x the last training epoch)'
                 if 'time_ratio_to_epoch' in stats else '')
        change = (f'{stats["map_change"]:.4f}' if 'map_change' in stats else 'n/a (first refresh)')
        runner.logger.info(
            f'PseudoLabelHook: refresh {where}: {int(stats["num_samples"])} samples in '
            f'{stats["seconds"]:.1f} s{ratio}; {self.num_clusters} clusters, size min '
            f'{int(stats["cluster_size_min"])} / max {int(stats["cluster_size_max"])}, '
            f'{int(stats["clusters_empty"])} empty; mean foreground area {stats["fg_area"]:.3f} '
            f'(map >= {stats["fg_threshold"]:g}); mean |map change| since last refresh {change}; '
            f'{stats["kept"]:.1%} of the pseudo-labels kept')
        visualizer = getattr(runner, 'visualizer', None)
        if visualizer is not None and callable(getattr(visualizer, 'add_scalars', None)):
            visualizer.add_scalars({f'pseudo_label/{key}': value for key, value in stats.items()},
                                   step=runner.iter)

    def _save_pictures(self, runner, maps: torch.Tensor, step: int) -> None:
        """Send a jet-coloured grid of the first maps to the visualizer, if it can take images."""
        visualizer = getattr(runner, 'visualizer', None)
        if visualizer is None or not callable(getattr(visualizer, 'add_image', None)):
            return
        grid = pseudo_label_grid(maps[:self.num_pictures])
        visualizer.add_image('pseudo_labels', grid, step=step)


def pseudo_label_grid(maps: torch.Tensor, cell_size: int = 64) -> np.ndarray:
    """Tile ``N×h×w`` maps in [0, 1] into one RGB uint8 image (jet colormap, 2 px gaps).

    Args:
        maps (Tensor): ``N×h×w`` maps in ``[0, 1]``.
        cell_size (int): Side of each upsampled cell in pixels. Defaults to 64.

    Returns:
        np.ndarray: ``H×W×3`` uint8 RGB grid.
    """
    import cv2  # local: only needed when pictures are asked for

    count = maps.shape[0]
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / columns))
    gap = 2
    grid = np.full((rows * (cell_size + gap) - gap, columns * (cell_size + gap) - gap, 3), 255, np.uint8)
    cells = F.interpolate(maps[:, None].float(), size=(cell_size, cell_size), mode='bilinear',
                          align_corners=False)[:, 0]
    for index, cell in enumerate(cells):
        gray = (cell.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        rgb = cv2.cvtColor(cv2.applyColorMap(gray, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
        top = (index // columns) * (cell_size + gap)
        left = (index % columns) * (cell_size + gap)
        grid[top:top + cell_size, left:left + cell_size] = rgb
    return grid


def _is_positive_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _read_sample_idx(sample) -> int:
    """``metainfo['sample_idx']`` of a returned data sample, with a contract-naming error."""
    metainfo = getattr(sample, 'metainfo', None)
    if metainfo is None or metainfo.get('sample_idx') is None:
        raise KeyError('PseudoLabelHook: a sample returned by test_step has no metainfo["sample_idx"] '
                       '(the dataset must set it; see docs/contracts.md)')
    return int(metainfo['sample_idx'])


def _read_field(sample, name: str) -> torch.Tensor:
    """A tensor field (``pred_map`` / ``audio_embedding``) of a returned data sample."""
    value = getattr(sample, name, None)
    if not isinstance(value, torch.Tensor):
        raise KeyError(f'PseudoLabelHook: the samples returned by test_step must carry `{name}` '
                       f'(a tensor; see docs/contracts.md), got {type(value).__name__} for sample_idx '
                       f'{sample.metainfo.get("sample_idx")}')
    return value


def _train_dataloader_cfg(runner) -> Optional[dict]:
    """The training dataloader *config* (from ``runner.cfg`` or the runner's constructor args)."""
    cfg = getattr(runner, 'cfg', None)
    train_cfg = cfg.get('train_dataloader') if cfg is not None else None
    if not isinstance(train_cfg, dict):
        # A Runner built from keyword arguments keeps the unbuilt config here.
        train_cfg = getattr(runner, '_train_dataloader', None)
    return train_cfg if isinstance(train_cfg, dict) else None


def _unwrap(model):
    """The localizer inside a DDP-style model wrapper (or the model itself)."""
    return model.module if is_model_wrapper(model) else model


def _bank_ready(model) -> bool:
    """Whether the (possibly wrapped) model's pseudo-label bank holds labels."""
    bank = getattr(_unwrap(model), 'pseudo_label_bank', None)
    return bool(getattr(bank, 'ready', False))


def _broadcast_buffers_from_rank0(localizer) -> None:
    """Give every rank rank 0's buffers (BN statistics), the pseudo-label bank excepted."""
    if get_world_size() < 2:
        return
    for name, buffer in localizer.named_buffers():
        if not name.startswith('pseudo_label_bank.') and buffer.numel():
            broadcast(buffer, src=0)


def _gather_padded(tensor: torch.Tensor, longest: int, counts: List[int]) -> torch.Tensor:
    """All-gather tensors whose first dim differs per rank (``counts``) by padding to ``longest``."""
    padded = tensor.new_zeros((longest, ) + tuple(tensor.shape[1:]))
    padded[:tensor.shape[0]] = tensor
    parts = all_gather(padded)
    return torch.cat([part[:count] for part, count in zip(parts, counts)])
