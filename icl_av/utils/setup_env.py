"""Import every icl_av module into its registry and set the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import icl_av's registered modules so their classes are in the registries.

    Configs with ``default_scope='icl_av'`` do not need this (the registries'
    ``locations`` import lazily); scripts that build components by hand do.

    Args:
        init_default_scope (bool): Also make ``icl_av`` the current default scope.
    """
    import icl_av.apis  # noqa: F401
    import icl_av.datasets  # noqa: F401
    import icl_av.engine  # noqa: F401
    import icl_av.evaluation  # noqa: F401
    import icl_av.models  # noqa: F401
    import icl_av.visualization  # noqa: F401

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
