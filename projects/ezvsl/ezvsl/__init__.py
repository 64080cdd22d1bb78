"""EZ-VSL (Mo & Morgado, ECCV 2022) on icl_av: a multiple-instance contrastive loss and an
object-guided prior at test time. Loaded by configs through
``custom_imports=dict(imports=['projects.ezvsl.ezvsl'], allow_failed_imports=False)``."""
from .ezvsl_localizer import EZVSLLocalizer, minmax_per_map
from .ezvsl_loss import EZVSLLoss

__all__ = ['EZVSLLoss', 'EZVSLLocalizer', 'minmax_per_map']
