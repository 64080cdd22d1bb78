"""Layer-wise learning-rate decay for transformer towers, as an MMEngine optimizer-wrapper constructor.

Why a constructor: fine-tuning a pretrained ViT works best when the blocks near the input (general
features) move less than those near the output. MMEngine builds parameter groups in a constructor
named by ``optim_wrapper.constructor``, so a config switches the schedule on without code::

    optim_wrapper = dict(
        type='OptimWrapper',
        constructor='LayerDecayOptimWrapperConstructor',
        optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
        paramwise_cfg=dict(layer_decay_rate=0.65))

A tower takes part by saying how deep each of its parameters is: any submodule with a
``num_layers`` attribute and a ``get_layer_id(param_name)`` method (the ViT towers in
:mod:`icl_av.models.backbones.timm_vit`). A parameter at layer ``i`` of such a tower gets
``lr * rate ** (num_layers - i)``; everything else (the head, a CNN tower) keeps ``lr``. The
constructor duck-types towers, so ``engine`` imports nothing from ``models``.
"""
from typing import Dict, List, Optional, Tuple

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor

from icl_av.registry import OPTIM_WRAPPER_CONSTRUCTORS

# Parameters that regularising towards zero would harm: tokens and position embeddings.
_NO_DECAY_SUFFIXES = ('cls_token', 'reg_token', 'pos_embed')


def _layered_towers(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """Submodules that report per-parameter depth, deepest names first (so nested towers win)."""
    towers = [(name, module) for name, module in model.named_modules()
              if callable(getattr(module, 'get_layer_id', None)) and isinstance(getattr(module, 'num_layers', None),
                                                                                int)]
    return sorted(towers, key=lambda item: -len(item[0]))


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Parameter groups with learning rates that decay from a tower's output to its input.

    Args:
        optim_wrapper_cfg (dict): The ``optim_wrapper`` config (``optimizer`` with ``lr``).
        paramwise_cfg (dict, optional): ``layer_decay_rate`` (float in (0, 1], default 1.0:
            no decay) and ``no_decay_norms_and_tokens`` (bool, default True: weight decay 0 for
            one-dimensional tensors (norms, biases), class/register tokens and position
            embeddings). Other keys are refused: this constructor replaces the default
            ``custom_keys``/multiplier rules rather than combining with them.

    Frozen parameters (``requires_grad=False``) are left out of the optimizer.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        options = dict(paramwise_cfg or {})
        self.layer_decay_rate = float(options.pop('layer_decay_rate', 1.0))
        self.no_decay_norms_and_tokens = bool(options.pop('no_decay_norms_and_tokens', True))
        if options:
            raise ValueError(f'LayerDecayOptimWrapperConstructor: unsupported paramwise_cfg keys {sorted(options)} '
                             f'(supported: layer_decay_rate, no_decay_norms_and_tokens)')
        if not 0 < self.layer_decay_rate <= 1:
            raise ValueError(f'LayerDecayOptimWrapperConstructor: layer_decay_rate must be in (0, 1], '
                             f'got {self.layer_decay_rate}')
        super().__init__(optim_wrapper_cfg, None)
        # Non-empty, so the parent's __call__ builds groups through add_params below.
        self.paramwise_cfg = dict(layer_decay_rate=self.layer_decay_rate,
                                  no_decay_norms_and_tokens=self.no_decay_norms_and_tokens)
        if self.base_lr is None:
            raise ValueError('LayerDecayOptimWrapperConstructor: optim_wrapper.optimizer needs an explicit lr')

    def lr_scale(self, towers: List[Tuple[str, nn.Module]], param_name: str) -> float:
        """The multiplier of the base lr for ``param_name`` (1.0 outside layered towers)."""
        for tower_name, tower in towers:
            if tower_name == '' or param_name.startswith(tower_name + '.'):
                local_name = param_name[len(tower_name) + 1:] if tower_name else param_name
                return self.layer_decay_rate ** (tower.num_layers - tower.get_layer_id(local_name))
        return 1.0

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '', is_dcn_module=None) -> None:
        """Append one group per (lr, weight decay) pair to ``params``.

        Each group carries ``lr_scale`` (its lr over the base lr) so logs and tests can read it.
        """
        towers = _layered_towers(module)
        groups: Dict[Tuple[float, Optional[float]], dict] = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            scale = self.lr_scale(towers, name)
            weight_decay = self.base_wd
            if self.no_decay_norms_and_tokens and weight_decay is not None and (
                    param.ndim <= 1 or name.endswith(_NO_DECAY_SUFFIXES)):
                weight_decay = 0.0
            group = groups.get((scale, weight_decay))
            if group is None:
                group = dict(params=[], lr=self.base_lr * scale, lr_scale=scale)
                if weight_decay is not None:
                    group['weight_decay'] = weight_decay
                groups[(scale, weight_decay)] = group
            group['params'].append(param)
        params.extend(sorted(groups.values(), key=lambda group: (group['lr_scale'], group.get('weight_decay', 0))))
