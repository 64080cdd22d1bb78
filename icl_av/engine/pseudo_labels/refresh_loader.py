"""The refresh loader: the training set read with the test pipeline, in order, for pseudo-labels.

An ICL refresh labels every training sample with the current model. It must see the
samples the model trains on, but without random augmentation (a flipped or cropped frame
would label the wrong place), and every rank must read its own shard in a fixed order.
So the loader is the training dataset with the *test* pipeline, the training loader's
batch size and workers, and ``DefaultSampler(shuffle=False)``.

``sample_idx``, the bank's key, is a position in the training list. When the training
dataset is built (a training run) the refresh reads *that* list (:class:`TrainingListView`):
the same entries in the same order, never a second build from disk, where a file that
appeared or vanished in between would shift every later ``sample_idx`` onto another clip.
Without a built training dataset (a tool, testing) the loader is merged from the configs.

The merging works on plain config dicts, so the hooks, the benchmark tool and the tests
build the same loader the same way (:func:`runner_refresh_dataloader_cfg` reads a Runner's
configs, :func:`build_refresh_dataloader_from_cfg` builds the merged config).
"""
import copy
from typing import Any, Iterable, List, Mapping, Optional

from mmengine.dataset import BaseDataset, Compose
from mmengine.logging import MMLogger
from torch.utils.data import DataLoader, Dataset

from icl_av.datasets.corrupt_samples import CorruptDroppingCollate
from icl_av.registry import build_transforms

#: Training-loader settings the refresh loader inherits unless it overrides them.
INHERITED_LOADER_KEYS = ('batch_size', 'num_workers', 'pin_memory', 'persistent_workers', 'collate_fn')


class TrainingListView(Dataset):
    """The built training dataset's entries, in its ``sample_idx`` order, read through another pipeline.

    A shallow copy of the dataset whose pipeline is replaced: the stored entries (MMEngine's
    serialized list) are shared with training, not rebuilt from disk, so each ``sample_idx``
    names the same clip in the refresh as in the loss. The copy keeps every other setting
    of the training dataset (``on_corrupt``, the audio-swap pairing, ...).

    ``Runner.build_dataloader`` deep-copies its config; a deep copy of the view is the view
    itself, so the list is never duplicated (nothing in the view changes after construction).

    Args:
        dataset (mmengine.dataset.BaseDataset): The built training dataset.
        pipeline (list, optional): Transform configs (or callables) to read it with, built
            in icl_av's scope; ``None`` keeps the dataset's own pipeline.

    Raises:
        TypeError: ``dataset`` is not an MMEngine ``BaseDataset`` (it has no list and
            pipeline to share).
    """

    def __init__(self, dataset: BaseDataset, pipeline: Optional[Iterable] = None):
        if not isinstance(dataset, BaseDataset):
            raise TypeError(f'TrainingListView: expected a built MMEngine BaseDataset, got {type(dataset).__name__}')
        dataset.full_init()
        view = copy.copy(dataset)
        if pipeline is not None:
            view.pipeline = Compose(build_transforms(pipeline))
        self.dataset = view

    @property
    def pipeline(self):
        """The pipeline the refresh reads with (a ``Compose``)."""
        return self.dataset.pipeline

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def full_init(self) -> None:
        """Nothing to do: the training list is built (kept for ``Runner.build_dataloader``)."""

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int):
        return self.dataset[idx]

    def __deepcopy__(self, memo) -> 'TrainingListView':
        return self

    def __repr__(self) -> str:
        return f'TrainingListView({type(self.dataset).__name__}, {len(self)} samples)'


def reads_training_list(overrides: Optional[Mapping]) -> bool:
    """Whether a refresh loader with these overrides reads the training set (no complete dataset given)."""
    dataset = overrides.get('dataset') if isinstance(overrides, Mapping) else None
    return not (isinstance(dataset, Mapping) and 'type' in dataset)


def built_training_dataset(runner) -> Optional[Dataset]:
    """The runner's training dataset if its training loop is already built, else ``None`` (builds nothing).

    A testing run never builds the training loop; reading ``runner.train_dataloader`` there
    would build (and scan) the whole training set just to ask.
    """
    from mmengine.runner import BaseLoop  # local: the runner module is heavy

    loop = getattr(runner, '_train_loop', None)
    if not isinstance(loop, BaseLoop):
        return None
    return getattr(getattr(loop, 'dataloader', None), 'dataset', None)


def evaluation_pipeline_of(cfg: Optional[Mapping]) -> Optional[List]:
    """The pipeline a config tests with: ``test_dataloader``'s dataset, else ``val_dataloader``'s.

    Args:
        cfg (Config | dict | None): A full experiment config.

    Returns:
        list | None: A deep copy of that pipeline, or ``None`` when neither loader
        (or its dataset) has one.
    """
    for key in ('test_dataloader', 'val_dataloader'):
        loader = (cfg or {}).get(key)
        dataset = loader.get('dataset') if isinstance(loader, Mapping) else None
        pipeline = dataset.get('pipeline') if isinstance(dataset, Mapping) else None
        if pipeline is not None:
            return copy.deepcopy(list(pipeline))
    return None


def refresh_dataloader_cfg(train_dataloader: Optional[Mapping],
                           overrides: Optional[Mapping] = None,
                           test_pipeline: Optional[Iterable] = None,
                           logger: Optional[Any] = None,
                           train_dataset: Optional[Dataset] = None) -> dict:
    """The refresh loader's config, merged from the training loader, a test pipeline and overrides.

    Precedence, lowest first: ``DefaultSampler(shuffle=False)``; the training loader's
    :data:`INHERITED_LOADER_KEYS`; ``overrides`` (any loader key). The dataset is
    ``overrides['dataset']`` when it is complete (has ``type``). Otherwise it is the
    training set read with the pipeline of the partial ``overrides['dataset']``, which
    defaults to ``test_pipeline``: the built ``train_dataset`` itself when one is given
    (a :class:`TrainingListView`, so the refresh reads the very list the loss indexes),
    else the training dataset config updated with the partial ``overrides['dataset']``.
    Without either pipeline the training pipeline is kept, with a warning (its
    augmentation perturbs the pseudo-labels).

    Args:
        train_dataloader (dict | None): The training loader config. May be ``None``
            when ``overrides`` gives a complete dataset or ``train_dataset`` is given.
        overrides (dict, optional): Loader keys to set, e.g. ``dict(batch_size=64)``.
        test_pipeline (list, optional): The pipeline to read the training set with,
            normally :func:`evaluation_pipeline_of` the experiment config.
        logger (optional): Where warnings go; defaults to the current MMLogger.
        train_dataset (Dataset, optional): The built training dataset, whose list the
            refresh then shares. A dataset that is not an MMEngine ``BaseDataset`` cannot
            be shared: the config is used instead, with a warning.

    Returns:
        dict: A loader config for ``Runner.build_dataloader`` (inputs are not modified);
        its ``dataset`` is a config dict, or a :class:`TrainingListView` of ``train_dataset``.

    Raises:
        ValueError: No complete dataset is given and there is neither a training dataset
            config nor a built training dataset to reuse; or the partial
            ``overrides['dataset']`` sets more than ``pipeline`` while the built training
            list is shared (its entries cannot change).
    """
    logger = logger or MMLogger.get_current_instance()
    user_cfg = copy.deepcopy(dict(overrides or {}))
    train_cfg = dict(train_dataloader) if isinstance(train_dataloader, Mapping) else None
    dataset_cfg = dict(user_cfg.pop('dataset', None) or {})
    has_train_cfg = train_cfg is not None and isinstance(train_cfg.get('dataset'), Mapping)
    if train_dataset is not None and not isinstance(train_dataset, BaseDataset) and 'type' not in dataset_cfg:
        if not has_train_cfg:
            raise ValueError(f'refresh loader: the training dataset ({type(train_dataset).__name__}) is not an '
                             'MMEngine BaseDataset, so its list cannot be read with another pipeline, and there is '
                             'no training dataset config; give a complete `dataloader.dataset` (with `type`) in the '
                             'PseudoLabelHook config')
        logger.warning(f'refresh loader: the training dataset ({type(train_dataset).__name__}) is not an MMEngine '
                       'BaseDataset; building the refresh dataset again from its config (a file that appears or '
                       'vanishes in between shifts its sample_idx)')
        train_dataset = None
    if 'type' not in dataset_cfg:
        if train_dataset is None and not has_train_cfg:
            raise ValueError('refresh loader: cannot find the training dataset config to reuse; give a complete '
                             '`dataloader.dataset` (with `type`) in the PseudoLabelHook config')
        if 'pipeline' not in dataset_cfg:
            if test_pipeline is not None:
                dataset_cfg['pipeline'] = copy.deepcopy(list(test_pipeline))
            else:
                logger.warning(
                    'refresh loader: no test pipeline found (no test/val dataloader and no '
                    '`dataloader.dataset.pipeline` in the PseudoLabelHook config), extracting pseudo-labels with '
                    'the *training* pipeline (random augmentation will perturb them)')
        if train_dataset is not None:
            others = sorted(set(dataset_cfg) - {'pipeline'})
            if others:
                raise ValueError(f'refresh loader: `dataloader.dataset` sets {others}, but the refresh reads the '
                                 'built training list as it is (the pseudo-label bank is indexed by its '
                                 'sample_idx); set only `pipeline` there, or give a complete dataset (with `type`) '
                                 'to label another list')
            dataset_cfg = TrainingListView(train_dataset, dataset_cfg.get('pipeline'))
        else:
            merged_dataset = copy.deepcopy(dict(train_cfg['dataset']))
            merged_dataset.update(dataset_cfg)
            dataset_cfg = merged_dataset
    loader_cfg = dict(sampler=dict(type='DefaultSampler', shuffle=False))
    for key in INHERITED_LOADER_KEYS:
        if train_cfg is not None and key in train_cfg:
            loader_cfg[key] = copy.deepcopy(train_cfg[key])
    loader_cfg.update(user_cfg)
    loader_cfg['dataset'] = dataset_cfg
    loader_cfg.setdefault('batch_size', 1)
    if not loader_cfg.get('num_workers'):
        loader_cfg['persistent_workers'] = False
    return loader_cfg


def runner_loader_configs(runner):
    """The training loader config of ``runner`` and a config holding its test/val loaders.

    From ``runner.cfg``; a Runner built from keyword arguments has an empty ``cfg`` and
    keeps the unbuilt loader configs only in its constructor arguments, read as a fallback.

    Returns:
        tuple: ``(train_dataloader config or None, config to pass to evaluation_pipeline_of)``.
    """
    cfg = getattr(runner, 'cfg', None) or {}
    train_cfg = cfg.get('train_dataloader')
    if not isinstance(train_cfg, Mapping):
        train_cfg = getattr(runner, '_train_dataloader', None)
    evaluation_cfg = cfg
    if evaluation_pipeline_of(cfg) is None:
        evaluation_cfg = dict(test_dataloader=getattr(runner, '_test_dataloader', None),
                              val_dataloader=getattr(runner, '_val_dataloader', None))
    return (train_cfg if isinstance(train_cfg, Mapping) else None), evaluation_cfg


def runner_refresh_dataloader_cfg(runner, overrides: Optional[Mapping] = None,
                                  train_dataset: Optional[Dataset] = None) -> dict:
    """The refresh loader's merged config for a Runner (:func:`refresh_dataloader_cfg` of its configs).

    Args:
        runner (Runner): Gives the training loader config and the test pipeline
            (:func:`runner_loader_configs`) and the logger.
        overrides (dict, optional): Loader keys to set (a hook's ``dataloader``).
        train_dataset (Dataset, optional): The built training dataset, whose list the loader
            then reads (see :class:`TrainingListView`).
    """
    train_cfg, evaluation_cfg = runner_loader_configs(runner)
    return refresh_dataloader_cfg(train_cfg, overrides, evaluation_pipeline_of(evaluation_cfg),
                                  logger=runner.logger, train_dataset=train_dataset)


def build_refresh_dataloader_from_cfg(loader_cfg: Mapping, seed: Optional[int] = None) -> DataLoader:
    """Build a merged refresh loader config (:func:`refresh_dataloader_cfg`).

    Built with ``Runner.build_dataloader`` under the current default scope; whatever collate
    the config names, a training file that fails to decode is left out of its batch
    (``CorruptDroppingCollate``; the extraction skips batches left empty), as in training.
    """
    from mmengine.runner import Runner  # local: the runner module is heavy and only needed to build

    loader = Runner.build_dataloader(dict(loader_cfg), seed=seed)
    if loader.collate_fn is not None:
        loader.collate_fn = CorruptDroppingCollate(loader.collate_fn)
    return loader


def build_refresh_dataloader(train_dataloader: Optional[Mapping],
                             overrides: Optional[Mapping] = None,
                             test_pipeline: Optional[Iterable] = None,
                             seed: Optional[int] = None,
                             logger: Optional[Any] = None,
                             train_dataset: Optional[Dataset] = None) -> DataLoader:
    """Build the refresh loader (see :func:`refresh_dataloader_cfg` for how it is merged).

    Args:
        train_dataloader (dict | None): The training loader config.
        overrides (dict, optional): Loader keys to set.
        test_pipeline (list, optional): The pipeline to read the training set with.
        seed (int, optional): Seed of the loader's sampler and workers (the run's seed).
        logger (optional): Where a missing-pipeline warning goes.
        train_dataset (Dataset, optional): The built training dataset, whose list the
            loader then reads (see :class:`TrainingListView`).

    Returns:
        DataLoader: Built with ``Runner.build_dataloader`` under the current default scope; its
        collate drops samples whose files failed to decode (``CorruptDroppingCollate``).
    """
    loader_cfg = refresh_dataloader_cfg(train_dataloader, overrides, test_pipeline, logger, train_dataset)
    return build_refresh_dataloader_from_cfg(loader_cfg, seed=seed)
