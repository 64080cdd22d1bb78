"""Rename an official DINOv2 or OpenAI CLIP image-encoder checkpoint to timm's ViT names.

The ViT towers (``TimmViTVisualBackbone``, ``TimmViTAudioEncoder``) load local files with timm's
key names and refuse partial loads. The files people most often hold name things differently:

* DINOv2 (``dinov2_vits14_pretrain.pth`` from the official repository): same block names, but the
  class token's position embedding is stored in ``pos_embed`` (timm's DINOv2 keeps position
  embeddings for patches only, so it is folded into ``cls_token``), registers are
  ``register_tokens`` (timm: ``reg_token``), ``mask_token`` is training-only, and large models may
  chunk blocks (``blocks.0.5.`` -> ``blocks.5.``). SwiGLU (ViT-g) MLPs are not converted.
* OpenAI CLIP (``ViT-B-16.pt``, a TorchScript archive, or a state dict; only ``visual.*`` is
  kept): ``conv1`` -> ``patch_embed.proj``, ``class_embedding`` -> ``cls_token``,
  ``positional_embedding`` -> ``pos_embed``, ``ln_pre`` -> ``norm_pre``,
  ``transformer.resblocks.i`` -> ``blocks.i`` (``ln_1``/``ln_2`` -> ``norm1``/``norm2``,
  ``attn.in_proj_*`` -> ``attn.qkv.*``, ``attn.out_proj`` -> ``attn.proj``, ``mlp.c_fc``/``c_proj``
  -> ``mlp.fc1``/``fc2``), ``ln_post`` -> ``norm``, ``proj`` -> ``head.weight`` (transposed, with a zero
  ``head.bias``; the towers ignore both).

Example::

    python tools/model_converters/vit_to_timm.py dinov2 dinov2_vits14_pretrain.pth \\
        checkpoints/vit_small_patch14_dinov2.safetensors --check-model vit_small_patch14_dinov2
    python tools/model_converters/vit_to_timm.py clip ViT-B-16.pt \\
        checkpoints/vit_base_patch16_clip_224.safetensors --check-model vit_base_patch16_clip_224

``--check-model`` builds that timm model as our visual tower and loads the result exactly, so a
file that would not load fails here, with the keys named. A key the converter does not know is
an error, never dropped silently. Errors print one line (``ICL_AV_DEBUG=1`` shows the traceback).
"""
import argparse
import os
import re
import sys
from typing import Dict

import torch

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from icl_av.models.backbones.checkpoint_loading import read_state_dict, write_state_dict  # noqa: E402
from icl_av.utils import UserInputError, run_cli  # noqa: E402

StateDict = Dict[str, torch.Tensor]

# OpenAI CLIP name pieces (inside a residual block) and their timm names.
_CLIP_BLOCK_NAMES = {
    'ln_1.': 'norm1.',
    'ln_2.': 'norm2.',
    'attn.in_proj_weight': 'attn.qkv.weight',
    'attn.in_proj_bias': 'attn.qkv.bias',
    'attn.out_proj.': 'attn.proj.',
    'mlp.c_fc.': 'mlp.fc1.',
    'mlp.c_proj.': 'mlp.fc2.',
}
_CLIP_TOP_NAMES = {'conv1.weight': 'patch_embed.proj.weight', 'ln_pre.': 'norm_pre.', 'ln_post.': 'norm.'}


def _rename(name: str, table: Dict[str, str]) -> str:
    """``name`` with the first matching prefix of ``table`` replaced; error if none matches."""
    for source, target in table.items():
        if name.startswith(source):
            return target + name[len(source):]
    raise KeyError(name)


def dinov2_to_timm(state: StateDict) -> StateDict:
    """Official DINOv2 names -> timm's ``vit_*_dinov2`` names (values unchanged except the class position)."""
    out, unknown = {}, []
    for name, value in state.items():
        if name == 'mask_token':
            continue
        if 'mlp.w12' in name or 'mlp.w3' in name:
            raise UserInputError(f'DINOv2 checkpoint: SwiGLU MLP key {name!r} (ViT-g) is not supported by this '
                                 f'converter')
        name = re.sub(r'^blocks\.\d+\.(\d+)\.', r'blocks.\1.', name)  # chunked blocks
        if name == 'register_tokens':
            name = 'reg_token'
        if name in ('cls_token', 'reg_token', 'pos_embed') or name.startswith(('patch_embed.', 'blocks.', 'norm.')):
            out[name] = value
        else:
            unknown.append(name)
    if unknown:
        raise UserInputError(f'DINOv2 checkpoint: keys this converter does not know: {unknown[:10]}')
    if 'pos_embed' not in out or 'cls_token' not in out:
        raise UserInputError('DINOv2 checkpoint: no pos_embed/cls_token (is it an official DINOv2 backbone file?)')
    pos_embed = out['pos_embed']
    out['cls_token'] = out['cls_token'] + pos_embed[:, :1]  # timm adds no position to the class token
    out['pos_embed'] = pos_embed[:, 1:]
    return out


def timm_to_dinov2(state: StateDict) -> StateDict:
    """timm ``vit_*_dinov2`` names -> official DINOv2 names (the inverse of :func:`dinov2_to_timm`)."""
    out = {('register_tokens' if name == 'reg_token' else name): value for name, value in state.items()
           if not name.startswith('head.')}
    cls_token = out['cls_token']
    out['pos_embed'] = torch.cat([torch.zeros_like(cls_token), out['pos_embed']], dim=1)
    out['mask_token'] = torch.zeros(1, cls_token.shape[-1], dtype=cls_token.dtype)
    return out


def clip_to_timm(state: StateDict) -> StateDict:
    """OpenAI CLIP image-encoder names -> timm's ``vit_*_clip_*`` names."""
    if any(name.startswith('visual.') for name in state):
        state = {name[len('visual.'):]: value for name, value in state.items() if name.startswith('visual.')}
    out, unknown = {}, []
    for name, value in state.items():
        if name == 'class_embedding':
            out['cls_token'] = value.reshape(1, 1, -1)
        elif name == 'positional_embedding':
            out['pos_embed'] = value.unsqueeze(0)
        elif name == 'proj':  # CLIP's projection has no bias; timm's head is a Linear with one
            out['head.weight'] = value.t().contiguous()
            out['head.bias'] = torch.zeros(value.shape[1], dtype=value.dtype)
        elif name.startswith('transformer.resblocks.'):
            index, rest = name[len('transformer.resblocks.'):].split('.', 1)
            try:
                out[f'blocks.{index}.{_rename(rest, _CLIP_BLOCK_NAMES)}'] = value
            except KeyError:
                unknown.append(name)
        else:
            try:
                out[_rename(name, _CLIP_TOP_NAMES)] = value
            except KeyError:
                unknown.append(name)
    if unknown:
        raise UserInputError(f'CLIP checkpoint: keys this converter does not know: {unknown[:10]}')
    return out


def timm_to_clip(state: StateDict) -> StateDict:
    """timm ``vit_*_clip_*`` names -> OpenAI CLIP image-encoder names (the inverse of :func:`clip_to_timm`)."""
    block_names = {target: source for source, target in _CLIP_BLOCK_NAMES.items()}
    top_names = {target: source for source, target in _CLIP_TOP_NAMES.items()}
    out = {}
    for name, value in state.items():
        if name == 'cls_token':
            out['class_embedding'] = value.reshape(-1)
        elif name == 'pos_embed':
            out['positional_embedding'] = value.squeeze(0)
        elif name == 'head.weight':
            out['proj'] = value.t().contiguous()
        elif name == 'head.bias':
            continue
        elif name.startswith('blocks.'):
            index, rest = name[len('blocks.'):].split('.', 1)
            out[f'transformer.resblocks.{index}.{_rename(rest, block_names)}'] = value
        else:
            out[_rename(name, top_names)] = value
    return out


CONVERTERS = {'dinov2': dinov2_to_timm, 'clip': clip_to_timm}


def read_any_checkpoint(path: str) -> StateDict:
    """A state dict from a torch/safetensors file, or from a TorchScript archive (OpenAI's CLIP ``.pt``)."""
    try:
        return read_state_dict(path)
    except (RuntimeError, ValueError) as err:
        try:
            return dict(torch.jit.load(path, map_location='cpu').state_dict())
        except Exception:
            raise UserInputError(f'{path}: neither a state dict nor a TorchScript archive ({err})') from err


def convert(source: str, src_path: str, dst_path: str) -> StateDict:
    """Read ``src_path``, rename it from ``source`` naming to timm's, write ``dst_path``; return the result."""
    if source not in CONVERTERS:
        raise UserInputError(f'unknown source naming {source!r}; choose from {sorted(CONVERTERS)}')
    state = CONVERTERS[source](read_any_checkpoint(src_path))
    write_state_dict(state, dst_path)
    return state


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Rename a DINOv2 / OpenAI CLIP ViT checkpoint to timm names.')
    parser.add_argument('source', choices=sorted(CONVERTERS), help='naming of the input file')
    parser.add_argument('src', help='input checkpoint (.pth/.pt/.safetensors, or a TorchScript .pt)')
    parser.add_argument('dst', help='output file (.safetensors or .pth)')
    parser.add_argument('--check-model', help='timm model name to load the result into exactly, e.g. '
                        'vit_small_patch14_dinov2')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    state = convert(args.source, args.src, args.dst)
    print(f'wrote {len(state)} tensors with timm names to {args.dst}')
    if args.check_model:
        from icl_av.models.backbones import TimmViTVisualBackbone
        TimmViTVisualBackbone(args.check_model, pretrained=args.dst)
        print(f'{args.dst} loads exactly into {args.check_model}')


if __name__ == '__main__':
    run_cli(main)  # a user error (unknown key, file that does not fit) prints one line and exits with status 2
