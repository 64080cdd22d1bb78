"""Set up icl_av for a script that builds components by hand: registries, default scope, checkpoint loading."""
import datetime
import warnings

from mmengine import DefaultScope
from mmengine.registry import Registry

from icl_av import registry
from .checkpoint_safety import register_checkpoint_safe_globals


def icl_av_registries() -> list:
    """Every registry defined in :mod:`icl_av.registry`."""
    return [value for value in vars(registry).values() if isinstance(value, Registry)]


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import icl_av's registered modules so their classes are in the registries.

    Which modules hold the members is said once, in each registry's ``locations``
    (:mod:`icl_av.registry`); this imports them, so ``utils`` needs no import of the
    layers above it. Configs with ``default_scope='icl_av'`` do not need this (the
    registries import their ``locations`` lazily); scripts that build components by hand,
    or look registered classes up by name, do. It also installs torch's checkpoint
    allow-list (:func:`~icl_av.utils.register_checkpoint_safe_globals`), so a Runner that
    such a script builds can resume or ``load_from`` an MMEngine checkpoint.

    Args:
        init_default_scope (bool): Also make ``icl_av`` the current default scope.
    """
    for icl_registry in icl_av_registries():
        icl_registry.import_from_location()
    register_checkpoint_safe_globals()

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('icl_av'):
        if current is not None and current.scope_name != 'icl_av':
            warnings.warn(f'The current default scope "{current.scope_name}" is not "icl_av"; '
                          'a new one named icl_av-<timestamp> is created.')
            name = f'icl_av-{datetime.datetime.now()}'
        else:
            name = 'icl_av'
        DefaultScope.get_instance(name, scope_name='icl_av')
