"""icl_av: unsupervised audio-visual sound source localization on MMEngine."""
from .utils.checkpoint_safety import register_checkpoint_safe_globals
from .version import __version__

register_checkpoint_safe_globals()

__all__ = ['__version__']
