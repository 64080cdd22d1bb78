"""icl_av: unsupervised audio-visual sound source localization on MMEngine.

Importing the package is cheap and changes no global state: the registries import
their members lazily (``icl_av.registry``), and torch's checkpoint allow-list is
installed where checkpoints are loaded (``tools/train.py``, ``tools/test.py``,
:func:`icl_av.apis.init_localizer`, :func:`icl_av.utils.register_all_modules`).
"""
from .version import __version__

__all__ = ['__version__']
