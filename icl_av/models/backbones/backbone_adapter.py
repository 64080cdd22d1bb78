"""Any backbone as a tower: OpenMMLab backbones (``mmpretrain.ResNet``, ``mmpretrain.VisionTransformer``) and others.

What the rest of icl_av reads from a tower (the *tower contract*):

* the visual tower returns one ``B×C×h×w`` map and declares ``out_channels`` (``C``, which the
  head's input width defaults to) and ``out_stride`` (input pixels per map cell);
* the audio tower returns one ``B×C`` embedding and declares ``out_channels``.

icl_av's timm towers keep this contract. OpenMMLab backbones do not: they return a *tuple* of
stage maps (one per ``out_indices`` entry) and mostly declare no channel count, and a
``featmap`` ViT gives a map where the audio tower needs a vector. :func:`adapt_visual_backbone`
and :func:`adapt_audio_backbone` (called by :class:`~icl_av.models.localizers.AVLocalizer` on
the towers it builds) leave towers that keep the contract as they are and wrap every other
module in :class:`VisualBackboneAdapter` / :class:`AudioBackboneAdapter`, which

* pick one element of a tuple/list output (``out_index``, the last by default);
* pool the audio backbone's ``B×C×h×w`` map over its positions to ``B×C``;
* find ``out_channels`` and ``out_stride`` by a dry run at build time: one dummy input of
  ``probe_size`` through the backbone, in eval mode and without gradients. Declared attributes
  such as ``feat_dim`` or ``embed_dims`` are not trusted, as they describe the last stage even
  when ``out_indices`` selects another one (mmpretrain's ResNet declares ``feat_dim=512`` for
  its 128-channel stride-8 stage). Values stated in the adapter's config skip the measurement.

Write a wrapper config to choose these options::

    visual_backbone=dict(type='VisualBackboneAdapter', out_index=0,
                         backbone=dict(type='mmpretrain.ResNet', depth=18, out_indices=(1, 2)))

A bare ``dict(type='mmpretrain.ResNet', ...)`` is wrapped with the defaults. The wrapped
backbone's parameters are named ``<tower>.model.*``, as in the timm towers.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from icl_av.registry import MODELS, build_in_scope

SizeSpec = Union[int, Sequence[int]]


def _pair(size: SizeSpec, owner: str) -> Tuple[int, int]:
    """``(H, W)`` from an int or a pair, both positive."""
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f'{owner}: probe_size must be a positive int or an (H, W) pair, got {size!r}')
    return pair


def _build_backbone(backbone: Union[dict, nn.Module], owner: str) -> nn.Module:
    """Build a backbone config, or pass a module through.

    Built with :func:`~icl_av.registry.build_in_scope`: a prefixed type (``'mmpretrain.ResNet'``)
    is built in its package's scope, an unprefixed one in icl_av's.
    """
    if isinstance(backbone, nn.Module):
        return backbone
    if not isinstance(backbone, dict):
        raise TypeError(f'{owner}: backbone must be a config dict or an nn.Module, got {type(backbone)}')
    return build_in_scope(MODELS, backbone)


def select_output(outputs, out_index: int, owner: str) -> torch.Tensor:
    """The tensor a backbone's output stands for: the ``out_index``-th element of a tuple/list, or the tensor itself.

    Args:
        outputs (Tensor | tuple | list): What the backbone's forward returned.
        out_index (int): Element to take from a tuple/list (negative counts from the end).
        owner (str): Names the adapter in error messages.

    Returns:
        Tensor: The chosen output.
    """
    if isinstance(outputs, (tuple, list)):
        if not -len(outputs) <= out_index < len(outputs):
            raise ValueError(f'{owner}: out_index={out_index} but the backbone returns {len(outputs)} outputs '
                             '(set out_index to one of them, or choose the stages with the backbone\'s out_indices)')
        outputs = outputs[out_index]
    if not isinstance(outputs, torch.Tensor):
        raise TypeError(f'{owner}: the backbone\'s output (element {out_index} of a tuple/list) is a '
                        f'{type(outputs).__name__}, not a tensor')
    return outputs


def _dry_run(model: nn.Module, shape: Tuple[int, ...], adapt, owner: str, remedy: str) -> torch.Tensor:
    """Run ``adapt(model(zeros(shape)))`` once, the model in eval mode and without gradients.

    Eval mode keeps batch-norm running statistics untouched by the dummy input; the model's
    training mode is restored afterwards. A failing forward names the remedy; what ``adapt``
    rejects (a map where a vector is needed, ...) raises its own error.
    """
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device('cpu')
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs = model(torch.zeros(shape, device=device, dtype=dtype))
    except Exception as err:
        raise RuntimeError(f'{owner}: the build-time dry run on a {tuple(shape)} input failed ({err}); '
                           f'{remedy}') from err
    finally:
        model.train(was_training)
    return adapt(outputs)


class _BackboneAdapter(BaseModule):
    """What both adapters share: building the backbone and handing OpenMMLab initialisation on to it.

    A :class:`~mmengine.model.BaseModule` so that the runner's ``init_weights`` reaches the
    wrapped OpenMMLab backbone (its ``init_cfg``: Kaiming init, ViT position embeddings, or a
    ``Pretrained`` checkpoint); other modules keep the weights they are built with.
    """

    def __init__(self, backbone: Union[dict, nn.Module], out_index: int):
        super().__init__(init_cfg=None)
        owner = type(self).__name__
        if not isinstance(out_index, int):
            raise TypeError(f'{owner}: out_index must be an int, got {out_index!r}')
        self.model = _build_backbone(backbone, owner)
        self.out_index = out_index

    @property
    def owner(self) -> str:
        """``Adapter(BackboneClass)``, for messages."""
        return f'{type(self).__name__}({type(self.model).__name__})'

    def init_weights(self):
        """Initialise an OpenMMLab backbone by its ``init_cfg``; leave any other module untouched."""
        if isinstance(self.model, BaseModule):
            super().init_weights()


@MODELS.register_module()
class VisualBackboneAdapter(_BackboneAdapter):
    """Any backbone as the visual tower: one ``B×C×h×w`` map with ``out_channels`` and ``out_stride``.

    Args:
        backbone (dict | nn.Module): The backbone's config, in any registry scope
            (``dict(type='mmpretrain.ResNet', depth=18, out_indices=(1,))``), or a module.
        out_index (int): Which element of a tuple/list output is the map (negative counts
            from the end). Defaults to -1, the last; a tensor output is used as it is.
        out_channels (int, optional): The map's channels. Measured by the dry run when ``None``.
        out_stride (int, optional): Input pixels per map cell. Measured by the dry run when
            ``None``: the probe's size over the map's size, which must be the same whole
            number along both axes.
        in_channels (int): Channels of the dry run's dummy image. Defaults to 3.
        probe_size (int | tuple[int, int]): Size of the dry run's dummy image. Defaults to 224,
            a multiple of the usual strides (8, 14, 16, 32); a ViT interpolates its position
            embeddings to it.

    Attributes:
        out_channels (int): ``C``.
        out_stride (int): Input pixels per map cell.

    Shapes:
        input ``B×in_channels×H×W``, output ``B×C×h×w`` with ``h ≈ H / out_stride``.
    """

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 out_index: int = -1,
                 out_channels: Optional[int] = None,
                 out_stride: Optional[int] = None,
                 in_channels: int = 3,
                 probe_size: SizeSpec = 224):
        super().__init__(backbone, out_index)
        if out_channels is None or out_stride is None:
            height, width = _pair(probe_size, self.owner)
            probe = _dry_run(self.model, (1, in_channels, height, width), self._select_map, self.owner,
                             'set in_channels or probe_size to an input the backbone takes, or state out_channels '
                             'and out_stride in the adapter\'s config')
            if out_channels is None:
                out_channels = probe.shape[1]
            if out_stride is None:
                out_stride = self._measured_stride((height, width), tuple(probe.shape[-2:]))
        self.out_channels = int(out_channels)
        self.out_stride = int(out_stride)

    def _measured_stride(self, probe_size: Tuple[int, int], map_size: Tuple[int, int]) -> int:
        """Input pixels per map cell, from the dry run's input and map sizes."""
        strides = {size / cells for size, cells in zip(probe_size, map_size)}
        stride = strides.pop()
        if strides or stride != int(stride):
            raise ValueError(f'{self.owner}: a {probe_size} probe gives a {map_size} map, not a whole-number '
                             'stride along both axes; state out_stride in the adapter\'s config (or pick a '
                             'probe_size that the stride divides)')
        return int(stride)

    def _select_map(self, outputs) -> torch.Tensor:
        feats = select_output(outputs, self.out_index, self.owner)
        if feats.dim() != 4:
            raise ValueError(f'{self.owner}: the visual tower needs a B×C×h×w map, the backbone gives shape '
                             f'{tuple(feats.shape)} (for mmpretrain\'s VisionTransformer set out_type=\'featmap\')')
        return feats

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """The chosen ``B×C×h×w`` map of ``img``."""
        return self._select_map(self.model(img))


@MODELS.register_module()
class AudioBackboneAdapter(_BackboneAdapter):
    """Any backbone as the audio tower: one ``B×C`` embedding per clip with ``out_channels``.

    A ``B×C×h×w`` output (a CNN stage, a ViT ``featmap``) is pooled over its positions; a
    ``B×C`` output (a ViT ``cls_token`` or ``avg_featmap``) is used as it is.

    Args:
        backbone (dict | nn.Module): The backbone's config in any registry scope
            (``dict(type='mmpretrain.ResNet', depth=18, in_channels=1)``), or a module.
        out_index (int): Which element of a tuple/list output to use. Defaults to -1, the last.
        pool (str): ``'avg'`` (default, global average pooling) or ``'max'`` (keeps the
            strongest time-frequency evidence, like :class:`TimmAudioEncoder`'s default).
        out_channels (int, optional): The embedding's width. Measured by the dry run when ``None``.
        in_channels (int): Channels of the dry run's dummy spectrogram. Defaults to 1.
        probe_size (int | tuple[int, int]): ``(F, T)`` of the dry run's dummy spectrogram.
            Defaults to ``(64, 128)``.

    Attributes:
        out_channels (int): ``C``.

    Shapes:
        input ``B×in_channels×F×T``, output ``B×C``.
    """

    POOLS = ('avg', 'max')

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 out_index: int = -1,
                 pool: str = 'avg',
                 out_channels: Optional[int] = None,
                 in_channels: int = 1,
                 probe_size: SizeSpec = (64, 128)):
        if pool not in self.POOLS:
            raise ValueError(f'AudioBackboneAdapter: pool must be one of {self.POOLS}, got {pool!r}')
        super().__init__(backbone, out_index)
        self.pool = pool
        if out_channels is None:
            height, width = _pair(probe_size, self.owner)
            probe = _dry_run(self.model, (1, in_channels, height, width), self._embed, self.owner,
                             'set in_channels or probe_size to an input the backbone takes, or state '
                             'out_channels in the adapter\'s config')
            out_channels = probe.shape[1]
        self.out_channels = int(out_channels)

    def _embed(self, outputs) -> torch.Tensor:
        feats = select_output(outputs, self.out_index, self.owner)
        if feats.dim() == 4:
            feats = feats.flatten(2)
            return feats.mean(dim=2) if self.pool == 'avg' else feats.amax(dim=2)
        if feats.dim() == 2:
            return feats
        raise ValueError(f'{self.owner}: the audio tower needs a B×C embedding or a B×C×h×w map to pool, the '
                         f'backbone gives shape {tuple(feats.shape)} (for mmpretrain\'s VisionTransformer set '
                         'out_type=\'featmap\' or \'cls_token\')')

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """The ``B×C`` embedding of the spectrogram ``spec``."""
        return self._embed(self.model(spec))


def _declares(module: nn.Module, *names: str) -> bool:
    """Whether ``module`` declares each attribute in ``names`` as an int."""
    return all(isinstance(getattr(module, name, None), int) and not isinstance(getattr(module, name), bool)
               for name in names)


def _keeps_contract(module: nn.Module, *names: str) -> bool:
    """Declares ``names`` as ints and selects no stages by ``out_indices``.

    A backbone with ``out_indices`` (OpenMMLab's convention) returns a tuple of stage maps even
    when it declares an ``out_channels`` of its own (mmpretrain's EfficientNet does).
    """
    return _declares(module, *names) and not hasattr(module, 'out_indices')


def adapt_visual_backbone(module: nn.Module) -> nn.Module:
    """``module`` itself when it keeps the visual tower contract, else ``VisualBackboneAdapter(module)``.

    The contract: a ``B×C×h×w`` tensor out, ``out_channels`` and ``out_stride`` declared as ints,
    no ``out_indices``.
    """
    if _keeps_contract(module, 'out_channels', 'out_stride'):
        return module
    return VisualBackboneAdapter(module)


def adapt_audio_backbone(module: nn.Module) -> nn.Module:
    """``module`` itself when it keeps the audio tower contract, else ``AudioBackboneAdapter(module)``.

    The contract: a ``B×C`` tensor out, ``out_channels`` declared as an int, no ``out_indices``.
    """
    if _keeps_contract(module, 'out_channels'):
        return module
    return AudioBackboneAdapter(module)
