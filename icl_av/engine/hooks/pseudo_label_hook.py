"""PseudoLabelHook: *when* the ICL iteration refreshes the model's pseudo-labels.

ICL trains in rounds ("iterations"); at the end of a round the current model labels the whole
training set for the next one with :func:`~icl_av.engine.pseudo_labels.refresh_pseudo_labels`.
This hook keeps the schedule (derived from the epoch number, so a resumed run refreshes at the
same epochs), builds the refresh loader once, logs one line per refresh, sends the numbers (and
optionally a picture) to the visualizer, and before training checks the pipelines and discards
loaded labels that index another sample list. The labels live in the model's
``PseudoLabelBank``, so every checkpoint carries them.
"""
import itertools
import time
from typing import Dict, List, Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import DataLoader

from icl_av.registry import HOOKS
from icl_av.visualization.map_grid import map_grid
from ..pseudo_labels import (build_refresh_dataloader_from_cfg, check_keeps_sample_idx, check_refresh_args,
                             discard_foreign_labels, format_refresh_line, is_positive_int, reads_training_list,
                             refresh_list_digest, refresh_pseudo_labels, runner_refresh_dataloader_cfg, unwrap_model)


@HOOKS.register_module()
class PseudoLabelHook(Hook):
    """Refresh the localizer's pseudo-labels at the boundaries of ICL iterations (epoch-based training).

    Args:
        num_clusters (int): k of the k-means of the audio embeddings (the pseudo sound
            categories); at most the number of training samples.
        iteration_epochs (Sequence[int], optional): Length in epochs of each ICL iteration,
            e.g. ``[4, 3, 3]``: refresh after epochs 4 and 7; the last iteration runs to the end
            of training (a sum other than ``max_epochs`` is warned about).
        interval (int, optional): Refresh after every ``interval`` epochs instead (never after
            the final epoch). Give exactly one of ``iteration_epochs`` and ``interval``.
        refresh_at_start (bool): Also refresh before the first epoch (not when resuming).
        kmeans_iters (int): Maximum Lloyd iterations of k-means. Defaults to 100.
        kmeans_metric (str): ``'cosine'`` (default) or ``'euclidean'``.
        seed (int): Seed of the k-means initialisation. Defaults to 0.
        dataloader (dict | DataLoader, optional): Overrides of the refresh loader (by default the
            built training list read with the test pipeline, the training loader's batch size and
            workers, in order; :func:`~icl_av.engine.pseudo_labels.refresh_dataloader_cfg`), e.g.
            ``dict(batch_size=64, num_workers=0)``. A built loader is used as is.
        fg_threshold (float): Foreground level of the logged mean foreground area. Defaults to 0.5.
        save_pictures (bool): After each refresh, send a jet-coloured grid of the first
            ``num_pictures`` maps to the visualizer's ``add_image`` (skipped quietly without one).
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
                 fg_threshold: float = 0.5,
                 save_pictures: bool = False,
                 num_pictures: int = 16) -> None:
        if (iteration_epochs is None) == (interval is None):
            raise ValueError('PseudoLabelHook: give exactly one of `iteration_epochs` (lengths of the ICL '
                             f'iterations) and `interval`, got iteration_epochs={iteration_epochs!r}, '
                             f'interval={interval!r}')
        if iteration_epochs is not None and (isinstance(iteration_epochs, (str, bytes))
                                             or not isinstance(iteration_epochs, Sequence) or not iteration_epochs
                                             or not all(is_positive_int(n) for n in iteration_epochs)):
            raise ValueError('PseudoLabelHook: `iteration_epochs` must be a non-empty list of positive ints '
                             f'(epochs per ICL iteration), got {iteration_epochs!r}')
        if interval is not None and not is_positive_int(interval):
            raise ValueError(f'PseudoLabelHook: `interval` must be a positive int, got {interval!r}')
        check_refresh_args(num_clusters, kmeans_iters, kmeans_metric, owner='PseudoLabelHook')
        if dataloader is not None and not isinstance(dataloader, (dict, DataLoader)):
            raise TypeError('PseudoLabelHook: `dataloader` must be a dict config or a DataLoader, '
                            f'got {type(dataloader).__name__}')
        self.iteration_epochs = None if iteration_epochs is None else [int(n) for n in iteration_epochs]
        self.interval = interval
        self.refresh_at_start = bool(refresh_at_start)
        self.refresh_args = dict(num_clusters=int(num_clusters), kmeans_iters=int(kmeans_iters),
                                 kmeans_metric=kmeans_metric, seed=int(seed), fg_threshold=float(fg_threshold))
        self.num_clusters = int(num_clusters)
        self.dataloader_cfg = dataloader
        self.save_pictures, self.num_pictures = bool(save_pictures), int(num_pictures)
        self._loader_cfg: Optional[dict] = None
        self._dataloader: Optional[DataLoader] = None
        self._epoch_start: Optional[float] = None
        self._last_epoch_seconds: Optional[float] = None

    def refresh_epochs(self, max_epochs: int) -> List[int]:
        """Completed-epoch counts in ``[1, max_epochs)`` after which the labels are refreshed."""
        if self.iteration_epochs is not None:
            boundaries = list(itertools.accumulate(self.iteration_epochs[:-1]))
        else:
            boundaries = list(range(self.interval, max_epochs, self.interval))
        return [epoch for epoch in boundaries if epoch < max_epochs]

    def num_refreshes_done(self, completed_epochs: int, max_epochs: int) -> int:
        """Epoch-boundary refreshes done once ``completed_epochs`` are (``refresh_at_start`` not counted)."""
        return sum(epoch <= completed_epochs for epoch in self.refresh_epochs(max_epochs))

    def before_train(self, runner) -> None:
        """Check the loop, the pipelines and the loaded labels, log the schedule, refresh first if asked to."""
        if isinstance(runner.train_loop, IterBasedTrainLoop):
            raise TypeError('PseudoLabelHook: needs epoch-based training (train_cfg.by_epoch=True); '
                            'the ICL iterations are counted in epochs')
        check_keeps_sample_idx(runner.train_dataloader.dataset, 'PseudoLabelHook: train_dataloader')
        refresh_dataset = (self.dataloader_cfg.dataset if isinstance(self.dataloader_cfg, DataLoader) else
                           self._refresh_loader_cfg(runner)['dataset'])
        check_keeps_sample_idx(refresh_dataset, 'PseudoLabelHook: refresh loader')
        self.check_loaded_labels(runner)
        max_epochs, schedule = runner.max_epochs, self.refresh_epochs(runner.max_epochs)
        if self.iteration_epochs is not None and sum(self.iteration_epochs) != max_epochs:
            runner.logger.warning(
                f'PseudoLabelHook: iteration_epochs={self.iteration_epochs} sums to {sum(self.iteration_epochs)} '
                f'epochs but training runs {max_epochs}; refreshing after epochs {schedule} and the last '
                'ICL iteration runs to the end of training')
        runner.logger.info(f'PseudoLabelHook: refreshing pseudo-labels after epochs {schedule}'
                           + (' and before training' if self.refresh_at_start else ''))
        if self.refresh_at_start and runner.epoch == 0 and runner.iter == 0:
            self.refresh(runner)
        elif (runner.epoch > 0 and self.num_refreshes_done(runner.epoch, max_epochs)
              and not unwrap_model(runner.model).pseudo_label_bank.ready):
            # Resumed past a boundary from a checkpoint without labels (e.g. branched from round 1).
            runner.logger.info(f'PseudoLabelHook: resumed at epoch {runner.epoch}, past a refresh boundary, '
                               'from a checkpoint without pseudo-labels: refreshing now')
            self.refresh(runner, completed_epochs=runner.epoch)

    def before_train_epoch(self, runner) -> None:  # the log line compares the refresh with an epoch
        self._epoch_start = time.perf_counter()

    def after_train_epoch(self, runner) -> None:
        """Refresh if the epoch that just ended closes an ICL iteration."""
        if self._epoch_start is not None:
            self._last_epoch_seconds = time.perf_counter() - self._epoch_start
        completed = runner.epoch + 1  # runner.epoch is incremented after this hook point
        if completed in self.refresh_epochs(runner.max_epochs):
            self.refresh(runner, completed_epochs=completed)

    def check_loaded_labels(self, runner) -> bool:
        """Discard loaded pseudo-labels that may index another sample list (:func:`discard_foreign_labels`)."""
        bank = unwrap_model(runner.model).pseudo_label_bank
        if not bank.ready:
            return False
        discarded, line = discard_foreign_labels(bank, refresh_list_digest(runner.train_dataloader.dataset),
                                                 resuming=runner.epoch > 0 or runner.iter > 0)
        if line is not None:
            (runner.logger.warning if discarded else runner.logger.info)(line)
        return discarded

    def refresh(self, runner, completed_epochs: Optional[int] = None) -> Dict[str, float]:
        """Refresh now (:func:`refresh_pseudo_labels`), log one line and picture the maps.

        ``completed_epochs`` (None: before training) is for the log line. Returns the logged statistics.
        """
        loader = self._refresh_loader(runner)
        result = refresh_pseudo_labels(runner.model, loader, **self.refresh_args)
        stats = dict(seconds=result.statistics.pop('seconds'))
        if self._last_epoch_seconds:
            stats['time_ratio_to_epoch'] = stats['seconds'] / self._last_epoch_seconds
        stats.update(result.statistics)
        where = (f'after epoch {completed_epochs} (ICL iteration '
                 f'{self.num_refreshes_done(completed_epochs, runner.max_epochs) + 1} starts)'
                 if completed_epochs else 'before training')
        runner.logger.info(format_refresh_line(stats, where, self.num_clusters))
        visualizer = getattr(runner, 'visualizer', None)
        if callable(getattr(visualizer, 'add_scalars', None)):
            visualizer.add_scalars({f'pseudo_label/{key}': value for key, value in stats.items()}, step=runner.iter)
        if self.save_pictures and callable(getattr(visualizer, 'add_image', None)):
            grid = map_grid(result.maps[:self.num_pictures], colormap='jet')
            visualizer.add_image('pseudo_labels', grid, step=completed_epochs or 0)
        return stats

    def _refresh_loader_cfg(self, runner) -> dict:
        """The refresh loader's merged config, once (the built training list, unless a dataset is given)."""
        if self._loader_cfg is None:
            dataset = runner.train_dataloader.dataset if reads_training_list(self.dataloader_cfg) else None
            self._loader_cfg = runner_refresh_dataloader_cfg(runner, self.dataloader_cfg, dataset)
        return self._loader_cfg

    def _refresh_loader(self, runner) -> DataLoader:
        """The refresh loader, built at the first refresh and reused."""
        if isinstance(self.dataloader_cfg, DataLoader):
            return self.dataloader_cfg
        if self._dataloader is None:
            self._dataloader = build_refresh_dataloader_from_cfg(self._refresh_loader_cfg(runner), seed=runner.seed)
        return self._dataloader
