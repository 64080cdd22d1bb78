"""Optimizer-wrapper constructors: how a config's ``optim_wrapper`` becomes parameter groups."""
from .layer_decay_constructor import LayerDecayOptimWrapperConstructor

__all__ = ['LayerDecayOptimWrapperConstructor']
