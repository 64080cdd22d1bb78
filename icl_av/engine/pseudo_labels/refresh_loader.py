"""The refresh loader: the training set read with the test pipeline, in order, for pseudo-labels.

An ICL refresh labels every training sample with the current model. It must see the
samples the model trains on, but without random augmentation (a flipped or cropped frame
would label the wrong place), and every rank must read its own shard in a fixed order.
So the loader is the training dataset config with the *test* pipeline, the training
loader's batch size and workers, and ``DefaultSampler(shuffle=False)``.

Everything here works on plain config dicts, so the hook, the benchmark tool and the
tests build the same loader the same way.
"""
import copy
from typing import Any, Iterable, List, Mapping, Optional

from mmengine.logging import MMLogger
from torch.utils.data import DataLoader

from icl_av.datasets.corrupt_samples import CorruptDroppingCollate

#: Training-loader settings the refresh loader inherits unless it overrides them.
INHERITED_LOADER_KEYS = ('batch_size', 'num_workers', 'pin_memory', 'persistent_workers', 'collate_fn')


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
                           logger: Optional[Any] = None) -> dict:
    """The refresh loader's config, merged from the training loader, a test pipeline and overrides.

    Precedence, lowest first: ``DefaultSampler(shuffle=False)``; the training loader's
    :data:`INHERITED_LOADER_KEYS`; ``overrides`` (any loader key). The dataset is
    ``overrides['dataset']`` when it is complete (has ``type``); otherwise the training
    dataset updated with the partial ``overrides['dataset']``, whose pipeline defaults to
    ``test_pipeline``. Without either pipeline the training pipeline is kept, with a
    warning (its augmentation perturbs the pseudo-labels).

    Args:
        train_dataloader (dict | None): The training loader config. May be ``None``
            only when ``overrides`` gives a complete dataset.
        overrides (dict, optional): Loader keys to set, e.g. ``dict(batch_size=64)``.
        test_pipeline (list, optional): The pipeline to read the training set with,
            normally :func:`evaluation_pipeline_of` the experiment config.
        logger (optional): Where the warning goes; defaults to the current MMLogger.

    Returns:
        dict: A loader config for ``Runner.build_dataloader`` (inputs are not modified).

    Raises:
        ValueError: No complete dataset is given and the training loader has no
            dataset config to reuse.
    """
    user_cfg = copy.deepcopy(dict(overrides or {}))
    train_cfg = dict(train_dataloader) if isinstance(train_dataloader, Mapping) else None
    dataset_cfg = dict(user_cfg.pop('dataset', None) or {})
    if 'type' not in dataset_cfg:
        if train_cfg is None or not isinstance(train_cfg.get('dataset'), Mapping):
            raise ValueError('refresh loader: cannot find the training dataset config to reuse; give a complete '
                             '`dataloader.dataset` (with `type`) in the PseudoLabelHook config')
        if 'pipeline' not in dataset_cfg:
            if test_pipeline is not None:
                dataset_cfg['pipeline'] = copy.deepcopy(list(test_pipeline))
            else:
                (logger or MMLogger.get_current_instance()).warning(
                    'refresh loader: no test pipeline found (no test/val dataloader and no '
                    '`dataloader.dataset.pipeline` in the PseudoLabelHook config), extracting pseudo-labels with '
                    'the *training* pipeline (random augmentation will perturb them)')
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


def build_refresh_dataloader(train_dataloader: Optional[Mapping],
                             overrides: Optional[Mapping] = None,
                             test_pipeline: Optional[Iterable] = None,
                             seed: Optional[int] = None,
                             logger: Optional[Any] = None) -> DataLoader:
    """Build the refresh loader (see :func:`refresh_dataloader_cfg` for how it is merged).

    Args:
        train_dataloader (dict | None): The training loader config.
        overrides (dict, optional): Loader keys to set.
        test_pipeline (list, optional): The pipeline to read the training set with.
        seed (int, optional): Seed of the loader's sampler and workers (the run's seed).
        logger (optional): Where a missing-pipeline warning goes.

    Returns:
        DataLoader: Built with ``Runner.build_dataloader`` under the current default scope; its
        collate drops samples whose files failed to decode (``CorruptDroppingCollate``).
    """
    from mmengine.runner import Runner  # local: the runner module is heavy and only needed to build

    loader_cfg = refresh_dataloader_cfg(train_dataloader, overrides, test_pipeline, logger)
    loader = Runner.build_dataloader(loader_cfg, seed=seed)
    # Whatever collate the training loader names, a training file that fails to decode is left
    # out of its batch (the extraction skips batches left empty), as in training.
    if loader.collate_fn is not None:
        loader.collate_fn = CorruptDroppingCollate(loader.collate_fn)
    return loader
