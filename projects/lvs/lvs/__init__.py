"""LVS (Chen et al., CVPR 2021) on icl_av: the tri-map contrastive loss. Loaded by configs through
``custom_imports=dict(imports=['projects.lvs.lvs'], allow_failed_imports=False)``."""
from .lvs_loss import LVSLoss

__all__ = ['LVSLoss']
