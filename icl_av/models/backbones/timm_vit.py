"""Vision-transformer towers from timm: the patch-token grid as the visual map, a pooled spectrogram embedding.

Why a separate room from :mod:`.timm_backbones`: a ViT has no feature stages to pick or strides to
remove; its dense map is the grid of patch tokens (class and register tokens are not places in the
image), its stride is the patch size, and its depth is a list of blocks that is frozen and given
layer-wise learning rates block by block. Both towers build timm's model with
``dynamic_img_size=True`` (the position embeddings are interpolated to each input's grid, so any
frame or spectrogram size works) and ``dynamic_img_pad=True`` (sizes that are not a multiple of the
patch are padded up). Plain ViT, DINOv2 (``vit_small_patch14_dinov2``, register variants) and CLIP
(``vit_base_patch16_clip_224``) names all work.

Weights from a local file are loaded exactly: every tensor of the tower must be in the file with
its shape (the classifier/projection ``head.`` may be left over), else one line names what is
missing and unexpected and nothing is loaded. Position embeddings stored for another grid are
resampled. Official DINOv2 and OpenAI CLIP files are renamed first by
``tools/model_converters/vit_to_timm.py``.
"""
from typing import List, Tuple

import timm
import torch
import torch.nn as nn
from timm.layers import resample_abs_pos_embed

from icl_av.registry import MODELS
from .checkpoint_loading import PretrainedSpec, load_state_dict_exactly, read_state_dict, split_pretrained

# Tensors that come before the first block: the layer-0 group of layer-wise lr decay.
_EMBEDDING_NAMES = ('cls_token', 'reg_token', 'pos_embed', 'patch_embed', 'norm_pre')
# File keys a tower may leave unused: timm's classifier or CLIP's projection.
_IGNORABLE_FILE_PREFIXES = ('head.',)


class _TimmViTTower(nn.Module):
    """What both ViT towers share: building, local weights, freezing and layer ids.

    Args:
        model_name (str): timm ViT name.
        pretrained (bool | str): ``False``, ``True``/a timm tag (timm's hub) or a local
            ``.pth``/``.safetensors`` file with timm key names.
        frozen (bool): Freeze the whole tower (it stays in eval mode).
        frozen_blocks (int): Freeze the embeddings and the first ``frozen_blocks`` blocks
            (0 tunes everything). Ignored when ``frozen``.
        in_chans (int): Input channels.
        **timm_kwargs: Passed on to ``timm.create_model`` (``img_size``, ``drop_path_rate``, ...).
    """

    def __init__(self, model_name: str, pretrained: PretrainedSpec, frozen: bool, frozen_blocks: int,
                 in_chans: int, **timm_kwargs):
        super().__init__()
        owner = f'{type(self).__name__}({model_name})'
        timm_name, timm_pretrained, local_path = split_pretrained(model_name, pretrained)
        timm_kwargs.setdefault('dynamic_img_size', True)
        timm_kwargs.setdefault('dynamic_img_pad', True)
        try:
            self.model = timm.create_model(timm_name, pretrained=timm_pretrained, in_chans=in_chans,
                                           num_classes=0, **timm_kwargs)
        except TypeError as err:
            if 'dynamic_img' not in str(err):
                raise
            raise ValueError(f'{owner}: {model_name!r} is not a ViT-family timm model (it takes no dynamic image '
                             f'size); use TimmVisualBackbone / TimmAudioEncoder for CNNs') from err
        except Exception as err:  # name the model and the options that failed
            raise RuntimeError(f'{owner}: could not build timm model {timm_name!r} with in_chans={in_chans}, '
                               f'pretrained={timm_pretrained}, {timm_kwargs}: {err}') from err
        for attribute in ('blocks', 'patch_embed', 'num_prefix_tokens'):
            if not hasattr(self.model, attribute):
                raise ValueError(f'{owner}: {model_name!r} is not a ViT-family timm model (no {attribute!r}); '
                                 f'use TimmVisualBackbone / TimmAudioEncoder for CNNs')
        if local_path is not None:
            self.load_report = self._load_local(local_path, owner)
        self.model_name = model_name
        self.num_blocks = len(self.model.blocks)
        self.patch_size = tuple(self.model.patch_embed.patch_size)
        self.out_channels = self.model.num_features
        if not 0 <= frozen_blocks <= self.num_blocks:
            raise ValueError(f'{owner}: frozen_blocks={frozen_blocks} must be in 0..{self.num_blocks}')
        self.frozen = frozen
        self.frozen_blocks = self.num_blocks if frozen else frozen_blocks
        self._frozen_modules = self._freeze()

    def _load_local(self, path: str, owner: str):
        """Load a timm-named file exactly, resampling a position embedding stored for another grid."""
        state = read_state_dict(path)
        pos_embed = state.get('pos_embed')
        expected = self.model.pos_embed.shape if getattr(self.model, 'pos_embed', None) is not None else None
        if pos_embed is not None and expected is not None and pos_embed.shape != expected \
                and pos_embed.dim() == 3 and pos_embed.shape[-1] == expected[-1]:
            prefix = 0 if getattr(self.model, 'no_embed_class', False) else self.model.num_prefix_tokens
            state['pos_embed'] = resample_abs_pos_embed(pos_embed, new_size=list(self.model.patch_embed.grid_size),
                                                        num_prefix_tokens=prefix, verbose=False)
        return load_state_dict_exactly(self.model, state, path, owner, ignore_prefixes=_IGNORABLE_FILE_PREFIXES)

    def _freeze(self) -> List[nn.Module]:
        """Stop gradients to the embeddings and the first ``frozen_blocks`` blocks (all with ``frozen``)."""
        if self.frozen:
            modules = [self.model]
        elif self.frozen_blocks > 0:
            modules = [getattr(self.model, name) for name in ('patch_embed', 'norm_pre')
                       if isinstance(getattr(self.model, name, None), nn.Module)]
            modules += list(self.model.blocks[:self.frozen_blocks])
            for name in ('cls_token', 'reg_token', 'pos_embed'):
                param = getattr(self.model, name, None)
                if isinstance(param, nn.Parameter):
                    param.requires_grad = False
        else:
            return []
        for module in modules:
            for param in module.parameters():
                param.requires_grad = False
        return modules

    @property
    def num_layers(self) -> int:
        """Layer ids run 0 (embeddings) .. ``num_blocks + 1`` (the final norm); see :meth:`get_layer_id`."""
        return self.num_blocks + 1

    def get_layer_id(self, param_name: str) -> int:
        """Depth of a parameter of this tower, for layer-wise learning-rate decay.

        Args:
            param_name (str): Name relative to this tower (``model.blocks.3.attn.qkv.weight``).

        Returns:
            int: 0 for the embeddings, ``i + 1`` for block ``i``, ``num_layers`` for what follows the blocks.
        """
        name = param_name[len('model.'):] if param_name.startswith('model.') else param_name
        if name.split('.')[0] in _EMBEDDING_NAMES:
            return 0
        if name.startswith('blocks.'):
            return int(name.split('.')[1]) + 1
        return self.num_layers

    def train(self, mode: bool = True):
        """Switch mode, keeping frozen blocks in eval (no dropout or drop-path there)."""
        super().train(mode)
        if mode:
            for module in self._frozen_modules:
                module.eval()
        return self

    def patch_tokens(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, Tuple[int, int]]:
        """Run the transformer; split its output into prefix and patch tokens.

        Returns:
            tuple: prefix tokens ``B×P×C`` (class, registers), patch tokens ``B×N×C`` and the
            patch grid ``(h, w)`` with ``N = h*w``.
        """
        grid = tuple(self.model.patch_embed.dynamic_feat_size(tuple(x.shape[-2:])))
        tokens = self.model.forward_features(x)
        prefix = self.model.num_prefix_tokens
        patches = tokens[:, prefix:]
        if patches.shape[1] != grid[0] * grid[1]:
            raise RuntimeError(f'{type(self).__name__}({self.model_name}): {patches.shape[1]} patch tokens do not '
                               f'form the {grid[0]}x{grid[1]} grid of a {tuple(x.shape[-2:])} input')
        return tokens[:, :prefix], patches, grid


@MODELS.register_module()
class TimmViTVisualBackbone(_TimmViTTower):
    """A timm ViT as the dense visual tower: the patch-token grid as the map.

    Args:
        model_name (str): timm ViT name, e.g. ``'vit_small_patch14_dinov2'``,
            ``'vit_base_patch16_clip_224'``, ``'vit_tiny_patch16_224'``.
        pretrained (bool | str): ``False``, ``True`` or a timm tag (timm's hub), or a local
            ``.pth``/``.safetensors`` file with timm names (loaded exactly).
        frozen (bool): Freeze the whole tower. Defaults to False.
        frozen_blocks (int): Freeze the embeddings and the first N blocks. Defaults to 0.
        in_chans (int): Input channels. Defaults to 3.
        **timm_kwargs: Passed on to ``timm.create_model``.

    Attributes:
        out_channels (int): ``C``, the embedding width.
        out_stride (int): Input pixels per map cell (the patch size).

    Shapes:
        input ``B×in_chans×H×W``, output ``B×C×ceil(H/out_stride)×ceil(W/out_stride)``; the
        class and register tokens are not part of the map.
    """

    def __init__(self,
                 model_name: str = 'vit_small_patch14_dinov2',
                 pretrained: PretrainedSpec = False,
                 frozen: bool = False,
                 frozen_blocks: int = 0,
                 in_chans: int = 3,
                 **timm_kwargs):
        super().__init__(model_name, pretrained, frozen, frozen_blocks, in_chans, **timm_kwargs)
        if self.patch_size[0] != self.patch_size[1]:
            raise ValueError(f'TimmViTVisualBackbone: non-square patches {self.patch_size} give no single stride')
        self.out_stride = self.patch_size[0]

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """The patch-token grid of ``img`` as a ``B×C×h×w`` map."""
        _, patches, (h, w) = self.patch_tokens(img)
        return patches.transpose(1, 2).reshape(patches.shape[0], patches.shape[2], h, w)


@MODELS.register_module()
class TimmViTAudioEncoder(_TimmViTTower):
    """A timm ViT on the spectrogram (AST-style patch grid over frequency and time), pooled per clip.

    The patch embedding takes one channel; a 3-channel file's patch kernel is summed to one.
    Spectrograms of any size work: position embeddings are interpolated to the grid of each
    input (set ``img_size=(F, T)`` to make that grid the stored one).

    Args:
        model_name (str): timm ViT name. Defaults to ``'vit_tiny_patch16_224'``.
        pool (str): ``'max'`` or ``'avg'`` over the patch tokens, or ``'cls'`` (the class
            token; needs a model that has one). Defaults to ``'max'`` like
            :class:`~icl_av.models.backbones.TimmAudioEncoder`.
        pretrained (bool | str): As for :class:`TimmViTVisualBackbone`.
        frozen (bool): Freeze the whole tower.
        frozen_blocks (int): Freeze the embeddings and the first N blocks.
        in_chans (int): Spectrogram channels. Defaults to 1.
        **timm_kwargs: Passed on to ``timm.create_model``.

    Shapes:
        input ``B×in_chans×F×T``, output ``B×C`` with ``C = self.out_channels``.
    """

    def __init__(self,
                 model_name: str = 'vit_tiny_patch16_224',
                 pool: str = 'max',
                 pretrained: PretrainedSpec = False,
                 frozen: bool = False,
                 frozen_blocks: int = 0,
                 in_chans: int = 1,
                 **timm_kwargs):
        if pool not in ('max', 'avg', 'cls'):
            raise ValueError(f"TimmViTAudioEncoder: pool must be 'max', 'avg' or 'cls', got {pool!r}")
        super().__init__(model_name, pretrained, frozen, frozen_blocks, in_chans, **timm_kwargs)
        if pool == 'cls' and getattr(self.model, 'cls_token', None) is None:
            raise ValueError(f"TimmViTAudioEncoder: pool='cls' but {model_name!r} has no class token")
        self.pool = pool

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """Pool the tokens of ``spec`` (``B×1×F×T``) to ``B×C``."""
        if spec.dim() != 4:
            raise ValueError(f'TimmViTAudioEncoder expects a B×C×F×T spectrogram, got shape {tuple(spec.shape)}')
        prefix, patches, _ = self.patch_tokens(spec)
        if self.pool == 'cls':
            return prefix[:, 0]
        return patches.amax(dim=1) if self.pool == 'max' else patches.mean(dim=1)

