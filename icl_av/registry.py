"""icl_av's registries: children of MMEngine's root registries.

Each child registry names the module(s) where its members live (``locations``), so a
config with ``default_scope='icl_av'`` builds every component without manual imports,
while ``type='mmengine.XXX'`` (or another installed scope) still reaches the parents.

:func:`build_in_scope` is how icl_av's components build their children: unprefixed types
resolve in icl_av whatever default scope the caller set (see its docstring for the rule).
"""
from importlib import import_module
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Union

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry

RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=['icl_av.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['icl_av.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['icl_av.engine.hooks'])
LOG_PROCESSORS = Registry('log_processor', parent=MMENGINE_LOG_PROCESSORS, locations=['icl_av.engine'])

DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['icl_av.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['icl_av.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, locations=['icl_av.datasets.transforms'])

MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['icl_av.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['icl_av.models'])

OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, locations=['icl_av.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=['icl_av.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['icl_av.engine', 'icl_av.engine.optimizers'])
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, locations=['icl_av.engine'])

METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['icl_av.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR, locations=['icl_av.evaluation'])

VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS, locations=['icl_av.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS, locations=['icl_av.visualization'])

#: The scope of icl_av's registries (the package name MMEngine derives for them).
ICL_AV_SCOPE = 'icl_av'


def _own_scope_of(registry: Registry, type_name: str) -> Optional[str]:
    """The scope a prefixed ``type`` names, when that scope has a registry of this kind.

    ``'mmpretrain.ResNet'`` gives ``'mmpretrain'`` (its ``registry`` module is imported
    first, as MMEngine does when it looks the type up). MMEngine's own scope (the root,
    which icl_av's registries extend), a prefix that is no registry scope
    (``'mmcv.RandomFlip'``: mmcv registers into MMEngine's root) and a dotted import path
    (``'torch.nn.Identity'``) give ``None``.
    """
    prefix, _ = Registry.split_scope_key(type_name)
    if not prefix or prefix == ICL_AV_SCOPE:
        return None
    try:
        import_module(f'{prefix}.registry')
    except ImportError:
        pass
    root = registry._get_root_registry()
    found = root._search_child(prefix)
    return prefix if found is not None and found is not root else None


def _scoped(registry: Registry, cfg: Mapping) -> dict:
    """A copy of ``cfg`` with the ``_scope_`` it is built in (see :func:`build_in_scope`)."""
    if not isinstance(cfg, Mapping):
        raise TypeError(f'expected a config dict for the {registry.name} registry, got {type(cfg).__name__}')
    cfg = dict(cfg)
    if cfg.get('_scope_') is None:
        type_name = cfg.get('type')
        own = _own_scope_of(registry, type_name) if isinstance(type_name, str) else None
        cfg['_scope_'] = own or ICL_AV_SCOPE
    return cfg


def build_in_scope(registry: Registry, cfg: Union[Mapping, Sequence[Mapping]],
                   default_args: Optional[Mapping] = None) -> Any:
    """Build ``cfg`` so that its unprefixed types resolve in icl_av, whatever the default scope.

    MMEngine looks an unprefixed ``type`` up in the registry of the *current default scope*,
    which is the caller's (``default_scope`` of the config a Runner runs, or
    :class:`~mmengine.registry.DefaultScope` set by a script), not the scope of the
    component whose config names it. Built from another package's scope, an icl_av
    dataset would take that package's ``RandomFlip`` or ``Resize``, which move the image
    and the boxes but not icl_av's masks and maps, so the metric would score against
    ground truth on the wrong side without any error. Every icl_av component that builds
    children from configs (datasets, the localizer, the preprocessor, losses, transforms)
    builds them here instead:

    * an unprefixed ``type`` (``'RandomFlip'``) is built in icl_av's scope: icl_av's
      registry first, then MMEngine's root (where mmcv's and MMEngine's components live);
      the scope stays icl_av's while it is built, so its own children follow the same rule;
    * a ``type`` prefixed with another package's scope (``'mmpretrain.ResNet'``,
      ``'mmaction.DecordInit'``) is built in that package's scope, so *its* unprefixed
      children resolve in its own package;
    * other prefixes (``'mmcv.RandomFlip'``, ``'mmengine.X'``, a dotted import path) and
      classes resolve as MMEngine resolves them, from icl_av's scope;
    * a config that sets ``_scope_`` itself is built in that scope.

    Args:
        registry (Registry): The registry of the component's kind (e.g. icl_av's
            ``TRANSFORMS`` or ``MODELS``); its root is searched for the scope's registry.
        cfg (dict | list[dict]): The config (a list builds an ``nn.Sequential`` for MODELS).
        default_args (dict, optional): Arguments the config may leave out.

    Returns:
        The built object.
    """
    if isinstance(cfg, Sequence) and not isinstance(cfg, (str, bytes)):
        scoped: Any = [_scoped(registry, item) for item in cfg]
    else:
        scoped = _scoped(registry, cfg)
    if default_args is None:
        return registry.build(scoped)
    return registry.build(scoped, default_args=dict(default_args))


def build_transforms(pipeline: Optional[Iterable]) -> List[Any]:
    """Build a pipeline's transform configs with :func:`build_in_scope`; callables pass through.

    Args:
        pipeline (list, optional): Transform configs (dicts) and/or callables.

    Returns:
        list: The transforms, in order (empty for ``None``).
    """
    return [build_in_scope(TRANSFORMS, step) if isinstance(step, Mapping) else step for step in (pipeline or [])]
