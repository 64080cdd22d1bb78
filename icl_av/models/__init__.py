"""Models: audio front ends, backbones, heads, losses, localizers, data preprocessors and their utilities.

Importing this package registers every model component in ``icl_av.registry.MODELS``.
"""
from .audio_frontends import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .localizers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .utils import PseudoLabelBank  # noqa: F401
