"""timm wrappers: a dense visual feature map and a pooled audio embedding.

Any timm model can serve as either tower, selected by name, so the localizer's
config (not code) decides the architecture.  Weights come from ``pretrained``:
``False`` (random init), ``True`` or a timm tag (timm's hub, needs the cache or
internet), or a local ``.pth``/``.pt``/``.safetensors`` file loaded by
:func:`~icl_av.models.backbones.checkpoint_loading.load_local_weights`.
"""
from typing import List, Optional

import timm
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from icl_av.registry import MODELS
from .checkpoint_loading import PretrainedSpec, load_local_weights, split_pretrained



def _set_norm_eval(module: nn.Module) -> None:
    """Put every batch-norm layer of ``module`` in eval mode (frozen running statistics)."""
    for layer in module.modules():
        if isinstance(layer, _BatchNorm):
            layer.eval()


@MODELS.register_module()
class TimmVisualBackbone(nn.Module):
    """A timm model as a dense visual feature extractor (``features_only``).

    Args:
        model_name (str): timm model name. Defaults to ``'resnet18'``.
        out_index (int): Which feature stage to return, an index into timm's
            ``feature_info`` (negative counts from the end; ``-1`` = last). For
            resnets 0 is the stem (stride 2) and 1..4 the residual stages
            (strides 4..32). Later stages are not even built.
        output_stride (int, optional): Ask timm to dilate instead of stride so
            the network reduces the input at most this much (8, 16, 32).
        remove_last_stride (bool): Shortcut that halves the reduction of the
            chosen stage (e.g. resnet18's last stage: 7×7 -> 14×14 at 224 px).
            Ignored when ``output_stride`` is given.
        pretrained (bool | str): See :func:`split_pretrained`.
        frozen_stages (int): Freeze the parameters of stages ``0..frozen_stages``
            (feature_info indices, everything computed before them included) and
            keep them in eval mode; ``-1`` freezes nothing.
        norm_eval (bool): Keep all batch-norm layers in eval mode during training
            (useful with small batches and pretrained statistics).
        in_chans (int): Input channels. Defaults to 3.
        **timm_kwargs: Passed on to ``timm.create_model`` (e.g. ``drop_path_rate``).

    Shapes:
        input ``B×3×H×W`` float, output ``B×C×h×w`` with ``C = self.out_channels``
        and ``h = H / self.out_stride`` (rounded as the network does).
    """

    def __init__(self,
                 model_name: str = 'resnet18',
                 out_index: int = -1,
                 output_stride: Optional[int] = None,
                 remove_last_stride: bool = False,
                 pretrained: PretrainedSpec = False,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 in_chans: int = 3,
                 **timm_kwargs):
        super().__init__()
        timm_name, timm_pretrained, local_path = split_pretrained(model_name, pretrained)
        if output_stride is None and remove_last_stride:
            probe = timm.create_model(model_name, features_only=True, out_indices=(out_index,), pretrained=False,
                                      in_chans=in_chans, **timm_kwargs)
            output_stride = max(probe.feature_info.reduction()[-1] // 2, 1)
            del probe
        if output_stride is not None:
            timm_kwargs['output_stride'] = output_stride
        try:
            self.model = timm.create_model(timm_name, features_only=True, out_indices=(out_index,),
                                           pretrained=timm_pretrained, in_chans=in_chans, **timm_kwargs)
        except Exception as err:  # name the model and the options that failed
            raise RuntimeError(f'TimmVisualBackbone: could not build timm model {timm_name!r} with '
                               f'out_index={out_index}, output_stride={output_stride}, pretrained='
                               f'{timm_pretrained}: {err}') from err
        if local_path is not None:
            self.load_report = load_local_weights(self.model, local_path, owner=f'TimmVisualBackbone({model_name})')
        self.model_name = model_name
        self.out_channels = self.model.feature_info.channels()[-1]
        self.out_stride = self.model.feature_info.reduction()[-1]
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._frozen_module_names = self._freeze_stages(frozen_stages)

    def _stage_module_name(self, stage: int) -> str:
        """Name, inside ``self.model``, of the module that ends feature stage ``stage``."""
        info = self.model.feature_info.info
        if not -len(info) <= stage < len(info):
            raise ValueError(f'frozen_stages={stage} is out of range for {self.model_name!r} '
                             f'({len(info)} feature stages)')
        name = info[stage]['module']
        known = dict(self.model.named_modules())
        for candidate in (name, name.replace('.', '_', 1), name.replace('.', '_')):
            if candidate in known:
                return candidate
        raise ValueError(f'cannot find stage module {name!r} of {self.model_name!r} to freeze')

    def _freeze_stages(self, frozen_stages: int) -> List[str]:
        """Freeze the stem and stages ``0..frozen_stages``; return the frozen modules' names.

        Modules are taken in registration order (the execution order for timm's
        CNNs): everything registered up to the end of the target stage's subtree,
        except the target's ancestors, whose other children must stay trainable.
        """
        if frozen_stages < 0:
            return []
        target = self._stage_module_name(frozen_stages)
        order = [name for name, _ in self.model.named_modules()]
        end = max(i for i, name in enumerate(order) if name == target or name.startswith(target + '.'))
        frozen = []
        for i, (name, module) in enumerate(self.model.named_modules()):
            is_ancestor = name == '' or target.startswith(name + '.')
            if i > end or is_ancestor:
                continue
            for param in module.parameters(recurse=False):
                param.requires_grad = False
            frozen.append(name)
        return frozen

    def train(self, mode: bool = True):
        """Switch mode, keeping frozen stages (and, with ``norm_eval``, all BN) in eval."""
        super().train(mode)
        if mode:
            modules = dict(self.model.named_modules())
            for name in self._frozen_module_names:
                modules[name].eval()
            if self.norm_eval:
                _set_norm_eval(self)
        return self

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """Dense features of the chosen stage, ``B×C×h×w``."""
        return self.model(img)[-1]


@MODELS.register_module()
class TimmAudioEncoder(nn.Module):
    """A timm model on a one-channel spectrogram, pooled to one embedding per clip.

    Args:
        model_name (str): timm model name. Defaults to ``'resnet18'``.
        pool (str): ``'max'`` or ``'avg'`` over the final feature map (over
            tokens for transformer models). Max pooling keeps the strongest
            time-frequency evidence of a sound event.
        pretrained (bool | str): As for :class:`TimmVisualBackbone`; the 3-channel
            stem of a local checkpoint is summed to one channel.
        in_chans (int): Spectrogram channels. Defaults to 1.
        norm_eval (bool): Keep batch-norm layers in eval mode during training.
        **timm_kwargs: Passed on to ``timm.create_model``.

    Shapes:
        input ``B×in_chans×F×T``, output ``B×C`` with ``C = self.out_channels``.
    """

    def __init__(self,
                 model_name: str = 'resnet18',
                 pool: str = 'max',
                 pretrained: PretrainedSpec = False,
                 in_chans: int = 1,
                 norm_eval: bool = False,
                 **timm_kwargs):
        super().__init__()
        if pool not in ('max', 'avg'):
            raise ValueError(f"TimmAudioEncoder: pool must be 'max' or 'avg', got {pool!r}")
        timm_name, timm_pretrained, local_path = split_pretrained(model_name, pretrained)
        try:
            self.model = timm.create_model(timm_name, pretrained=timm_pretrained, in_chans=in_chans,
                                           num_classes=0, global_pool='', **timm_kwargs)
        except Exception as err:
            raise RuntimeError(f'TimmAudioEncoder: could not build timm model {timm_name!r} with '
                               f'in_chans={in_chans}, pretrained={timm_pretrained}: {err}') from err
        if local_path is not None:
            self.load_report = load_local_weights(self.model, local_path, owner=f'TimmAudioEncoder({model_name})')
        self.model_name = model_name
        self.pool = pool
        self.norm_eval = norm_eval
        self.out_channels = self.model.num_features

    def train(self, mode: bool = True):
        """Switch mode, keeping BN in eval with ``norm_eval``."""
        super().train(mode)
        if mode and self.norm_eval:
            _set_norm_eval(self)
        return self

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """Pool the encoder's features of ``spec`` (``B×1×F×T``) to ``B×C``."""
        if spec.dim() != 4:
            raise ValueError(f'TimmAudioEncoder expects a B×C×F×T spectrogram, got shape {tuple(spec.shape)}')
        feats = self.model.forward_features(spec)
        if feats.dim() == 4:  # B×C×f×t (CNN)
            feats = feats.flatten(2)
            return feats.amax(dim=2) if self.pool == 'max' else feats.mean(dim=2)
        if feats.dim() == 3:  # B×N×C (tokens)
            return feats.amax(dim=1) if self.pool == 'max' else feats.mean(dim=1)
        raise RuntimeError(f'TimmAudioEncoder: unexpected feature shape {tuple(feats.shape)} from {self.model_name}')
