"""PseudoLabelHook: *when* the ICL iteration refreshes the model's pseudo-labels.

ICL trains in rounds ("iterations"). At the end of a round the current model labels the
whole training set: its own localization maps become the sounding/silent pseudo-labels
of the next round, and k-means clusters of its audio embeddings the "same kind of sound"
pseudo-labels. The work is done by single-purpose parts; this hook only checks its
arguments, keeps the schedule, calls them at its hook points and logs one line:

``build_refresh_dataloader`` -> ``extract_pseudo_labels`` -> ``kmeans_on_rank0`` ->
``model.update_pseudo_labels(sample_idx, maps, clusters, valid)`` (see ``docs/contracts.md``).

- The labels live in the *model* (``PseudoLabelBank`` buffers), not in the dataset, so
  persistent loader workers never hold stale copies and every checkpoint carries them.
- The hook keeps no state of its own: which refreshes happened is derived from the
  epoch number, so a resumed run refreshes at the same epochs.
- The labels are looked up by ``sample_idx``, a position in the training list. The
  refresh reads that very list (a ``TrainingListView``, never a second build from disk),
  and the bank records the list's digest: labels that came with a checkpoint but index
  another list (``load_from`` a run on another dataset, or a checkpoint that does not
  say which list, when not resuming) are discarded before the first epoch, with one line.
- A refresh consumes nothing from torch's global random generator (the extraction
  forks it; k-means has its own seeded generator), so adding the hook does not change
  the augmentations the training epochs draw.
"""
import itertools
import time
import warnings
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import DataLoader

from icl_av.datasets.sample_list import sample_list_digest
from icl_av.models.utils.kmeans import KMEANS_METRICS, kmeans_on_rank0
from icl_av.registry import HOOKS
from icl_av.structures.map_normalization import FLAT_IS_BACKGROUND, min_max_normalize
from icl_av.visualization.map_grid import pseudo_label_grid  # noqa: F401 (old import path)
from ..pseudo_labels import (MAP_SOURCES, ExtractedPseudoLabels, TrainingListView, check_keeps_sample_idx,
                             describe_prototypes, evaluation_pipeline_of, extract_pseudo_labels,
                             reads_training_list, refresh_dataloader_cfg, refresh_statistics,
                             runner_loader_configs)


def normalize_maps(maps: torch.Tensor) -> torch.Tensor:
    """Old name, kept importable: per-map min-max to [0, 1] with flat maps as background.

    Use :func:`icl_av.structures.map_normalization.min_max_normalize` in new code.
    """
    return min_max_normalize(maps.float(), flat_value=FLAT_IS_BACKGROUND)


@HOOKS.register_module()
class PseudoLabelHook(Hook):
    """Refresh the localizer's pseudo-labels at the boundaries of ICL iterations.

    At a boundary (after the last epoch of an ICL iteration, and before training when
    ``refresh_at_start``) the hook extracts every training sample's map and audio
    embedding with :func:`extract_pseudo_labels` over its refresh loader, clusters the
    embeddings with a seeded k-means and writes both with the (unwrapped) model's
    ``update_pseudo_labels``. Each refresh logs one line (time, samples, cluster sizes,
    foreground area, change of the maps, share kept) and sends its numbers to the
    visualizer as scalars under ``pseudo_label/``. Before training it checks that the
    training and refresh pipelines keep ``sample_idx``, the bank's key, and discards
    pseudo-labels loaded with the checkpoint that index another sample list
    (:meth:`check_loaded_labels`).

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
        refresh_at_start (bool): Also refresh before the first training epoch. Skipped
            when resuming. Defaults to False.
        kmeans_iters (int): Maximum Lloyd iterations of k-means. Defaults to 100.
        kmeans_metric (str): ``'cosine'`` (spherical k-means, for the L2-normalised audio
            embeddings) or ``'euclidean'``. Defaults to ``'cosine'``.
        seed (int): Seed of the k-means initialisation. Defaults to 0.
        dataloader (dict | DataLoader, optional): Overrides of the refresh loader, which
            by default is the built training dataset's own list read with the config's test
            pipeline (``test_dataloader``'s, else ``val_dataloader``'s), the training
            loader's batch size and workers, and ``DefaultSampler(shuffle=False)``; see
            :func:`~icl_av.engine.pseudo_labels.refresh_dataloader_cfg`. Normally only
            speed settings, e.g. ``dict(batch_size=64, num_workers=0)``; a partial
            ``dataset`` may set only ``pipeline``, a complete one (with ``type``) labels
            that dataset instead. A built ``DataLoader`` is used as is. Defaults to None.
        map_dtype (str, optional): Deprecated and ignored: the bank alone decides how maps
            are stored (uint8); they are exchanged between ranks as float32.
        fg_threshold (float): Threshold on the normalised maps used only for the logged
            mean foreground area. Defaults to 0.5.
        map_source (str): Which map of each sample becomes its pseudo map:
            ``'pred_map'`` or ``'specific_map'`` (see :meth:`AVLocalizer.audio_specificity`).
            Defaults to ``'pred_map'``.
        max_match_rank (int, optional): Keep a sample's pseudo-label only when its frame
            prefers its own clip to all but at most this many of the batch's other clips
            (the model's ``match_rank``). Flat maps are never kept. ``None`` keeps every
            sample with a non-flat map. Defaults to None.
        save_pictures (bool): After each refresh, send a jet-coloured grid of the first
            ``num_pictures`` maps (``sample_idx`` order) to the runner's visualizer via
            ``add_image``; skipped quietly if it has none. Defaults to False.
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
                 map_dtype: Optional[str] = None,
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
        if map_dtype is not None:
            warnings.warn('PseudoLabelHook: `map_dtype` is deprecated and ignored (the pseudo-label bank alone '
                          'decides how maps are stored)', DeprecationWarning, stacklevel=2)
        self.num_clusters = int(num_clusters)
        self.iteration_epochs = iteration_epochs
        self.interval = interval
        self.refresh_at_start = bool(refresh_at_start)
        self.kmeans_iters = int(kmeans_iters)
        self.kmeans_metric = kmeans_metric
        self.seed = int(seed)
        self.dataloader_cfg = dataloader
        self.fg_threshold = float(fg_threshold)
        self.map_source = map_source
        self.max_match_rank = max_match_rank
        self.save_pictures = bool(save_pictures)
        self.num_pictures = int(num_pictures)

        self._loader_cfg: Optional[dict] = None
        self._dataloader: Optional[DataLoader] = None
        self._list_digests: Dict[str, Optional[str]] = {}  # 'training' / 'refresh' -> digest (None: unnamed)
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
        """Check the loop and the pipelines, log the schedule and refresh first if asked to."""
        if isinstance(runner.train_loop, IterBasedTrainLoop):
            raise TypeError('PseudoLabelHook: needs epoch-based training (train_cfg.by_epoch=True); '
                            'the ICL iterations are counted in epochs')
        self.check_sample_idx(runner)
        self.check_loaded_labels(runner)
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
            # Resumed past a boundary from a checkpoint without pseudo-labels (e.g. ICL branched
            # from the correspondence baseline): label with the loaded model now.
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

    def check_sample_idx(self, runner) -> None:
        """Fail now, not an ICL round later, if a pipeline feeding the bank drops ``sample_idx``."""
        check_keeps_sample_idx(runner.train_dataloader.dataset, 'PseudoLabelHook: train_dataloader')
        if isinstance(self.dataloader_cfg, DataLoader):
            check_keeps_sample_idx(self.dataloader_cfg.dataset, 'PseudoLabelHook: refresh loader')
        else:
            check_keeps_sample_idx(self._refresh_loader_cfg(runner)['dataset'], 'PseudoLabelHook: refresh loader')

    def check_loaded_labels(self, runner) -> bool:
        """Discard pseudo-labels that came with the checkpoint but may index another sample list.

        The bank's rows are read by ``sample_idx``, a position in the list they were made
        on. Loaded labels are kept when the bank's recorded list digest equals the training
        list's (``load_from`` or resume on the same data), and when resuming from a
        checkpoint that records none (as such runs always resumed). They are discarded
        when the digests differ (``load_from`` or resume on another dataset; a resumed run
        past a boundary then refreshes at once) and, when not resuming, whenever the two
        cannot be compared. Discarding logs one warning line.

        Returns:
            bool: Whether loaded labels were discarded.
        """
        bank = getattr(_unwrap(runner.model), 'pseudo_label_bank', None)
        if not getattr(bank, 'ready', False) or not callable(getattr(bank, 'discard_labels', None)):
            return False
        resuming = runner.epoch > 0 or runner.iter > 0
        recorded = bank.sample_list
        current = self._list_digest('training', runner.train_dataloader.dataset)
        if recorded is not None and current is not None:
            if recorded == current:
                if not resuming:
                    runner.logger.info(f'PseudoLabelHook: the checkpoint\'s pseudo-labels (round {int(bank.round)}) '
                                       f'were made on this training list (sha256 {current[:12]}); round 1 trains '
                                       'on them')
                return False
            reason = f'they index another sample list (sha256 {recorded[:12]}; this training list: {current[:12]})'
        elif resuming:
            return False
        elif recorded is None:
            reason = 'the checkpoint does not record which sample list they index, and load_from starts a new run'
        else:
            reason = ('the training dataset has no sample IDs to compare with the list they index, and load_from '
                      'starts a new run')
        loaded_round = int(bank.round)
        bank.discard_labels()
        runner.logger.warning(f'PseudoLabelHook: discarded the pseudo-labels (round {loaded_round}) loaded from the '
                              f'checkpoint: {reason}; training runs without pseudo-labels until the next refresh')
        return True

    def _list_digest(self, which: str, dataset) -> Optional[str]:
        """The digest of ``which`` list (``'training'`` or ``'refresh'``), computed once per run."""
        if which not in self._list_digests:
            if isinstance(dataset, TrainingListView):
                dataset = dataset.dataset
            self._list_digests[which] = sample_list_digest(dataset)
        return self._list_digests[which]

    # ------------------------------------------------------------------ the refresh
    def refresh(self, runner, completed_epochs: Optional[int] = None) -> Dict[str, float]:
        """Extract, cluster and write the pseudo-labels now.

        Args:
            runner (Runner): Uses ``model``, ``iter``, ``max_epochs``, ``seed``, ``logger``,
                ``visualizer`` and, the first time, the loader configs.
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
        loader = self._refresh_loader(runner)
        start = time.perf_counter()
        extracted = self._extract(model, loader)
        if self.num_clusters > extracted.sample_idx.numel():
            raise ValueError(f'PseudoLabelHook: num_clusters={self.num_clusters} exceeds the number of '
                             f'training samples ({extracted.sample_idx.numel()}) the refresh loader produced')
        clusters, centroids = kmeans_on_rank0(extracted.embeddings.to(extracted.device), self.num_clusters,
                                              num_iters=self.kmeans_iters, seed=self.seed, metric=self.kmeans_metric)
        if callable(getattr(localizer, 'set_audio_prototypes', None)):
            prototypes = describe_prototypes(extracted, centroids)
            localizer.set_audio_prototypes(prototypes.centroids, prototypes.familiarity_threshold,
                                           prototypes.location_prior)
            if getattr(localizer, 'maps_use_prototypes', False):
                # The model's maps compare each sound with the kinds of sound just found:
                # label with the maps the new centroids give (a second pass).
                extracted = self._extract(model, loader)
        keep = self._keep(extracted)
        device = extracted.device
        map_change = localizer.update_pseudo_labels(extracted.sample_idx.to(device), extracted.maps.to(device),
                                                    clusters.to(device), valid=keep.to(device))
        bank = getattr(localizer, 'pseudo_label_bank', None)
        if callable(getattr(bank, 'record_sample_list', None)):
            bank.record_sample_list(self._list_digest('refresh', loader.dataset))
        stats = dict(seconds=time.perf_counter() - start)
        if self._last_epoch_seconds:
            stats['time_ratio_to_epoch'] = stats['seconds'] / self._last_epoch_seconds
        stats.update(refresh_statistics(extracted.maps, clusters, keep, self.num_clusters, self.fg_threshold,
                                        map_change))
        self._log(runner, stats, completed_epochs)
        if self.save_pictures:
            self._save_pictures(runner, extracted.maps, completed_epochs or 0)
        return stats

    def _extract(self, model, loader) -> ExtractedPseudoLabels:
        return extract_pseudo_labels(model, loader, map_source=self.map_source,
                                     with_match_rank=self.max_match_rank is not None)

    def _keep(self, extracted: ExtractedPseudoLabels) -> torch.Tensor:
        """Which samples' labels may be trained on: an informative map, and a good enough match rank."""
        keep = extracted.informative
        if self.max_match_rank is not None:
            keep &= extracted.match_rank <= self.max_match_rank
        return keep

    # ------------------------------------------------------------------ the refresh loader
    def _refresh_loader_cfg(self, runner) -> dict:
        """The refresh loader's merged config (once; see :func:`refresh_dataloader_cfg`).

        Unless a complete dataset is given, its dataset is the built training dataset's
        list read with the test pipeline (a :class:`TrainingListView`).
        """
        if self._loader_cfg is None:
            train_cfg, evaluation_cfg = runner_loader_configs(runner)
            train_dataset = runner.train_dataloader.dataset if reads_training_list(self.dataloader_cfg) else None
            self._loader_cfg = refresh_dataloader_cfg(train_cfg, self.dataloader_cfg,
                                                      evaluation_pipeline_of(evaluation_cfg), logger=runner.logger,
                                                      train_dataset=train_dataset)
        return self._loader_cfg

    def _refresh_loader(self, runner) -> DataLoader:
        """The refresh loader, built at the first refresh and reused."""
        if isinstance(self.dataloader_cfg, DataLoader):
            return self.dataloader_cfg
        if self._dataloader is None:
            loader_cfg = self._refresh_loader_cfg(runner)
            self._dataloader = runner.build_dataloader(loader_cfg, seed=runner.seed)
        return self._dataloader

    # ------------------------------------------------------------------ reporting
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
        visualizer.add_image('pseudo_labels', pseudo_label_grid(maps[:self.num_pictures]), step=step)


def _is_positive_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _unwrap(model):
    """The localizer inside a DDP-style model wrapper (or the model itself)."""
    return model.module if is_model_wrapper(model) else model


def _bank_ready(model) -> bool:
    """Whether the (possibly wrapped) model's pseudo-label bank holds labels."""
    bank = getattr(_unwrap(model), 'pseudo_label_bank', None)
    return bool(getattr(bank, 'ready', False))
