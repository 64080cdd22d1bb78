"""Load a local weight file into a timm model built by one of our wrappers.

Why our own loader: the wrappers build timm models in shapes timm's own loader does not
always expect (``features_only`` renames ``stages.0`` to ``stages_0``, the audio encoder
has one input channel, the classifier is gone), and a user who points ``pretrained`` at a
file wants to be told exactly which weights did and did not land.
"""
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Sequence, Union

import torch
import torch.nn as nn
from mmengine.logging import MMLogger, print_log

from icl_av.utils.errors import UserInputError

CHECKPOINT_SUFFIXES = ('.pth', '.pt', '.bin', '.ckpt', '.safetensors')
# Wrappers that training frameworks put around a state dict, outermost first.
_NESTED_STATE_KEYS = ('state_dict', 'model', 'model_state', 'module')
# Prefixes that wrapping modules (DDP, OpenMMLab models) add to parameter names.
_STRIP_PREFIXES = ('module.', 'backbone.', 'model.', 'encoder.')


class LoadReport(NamedTuple):
    """What happened when a checkpoint was loaded.

    Attributes:
        loaded (list[str]): Model keys that received a value.
        missing (list[str]): Model keys the file had no value for.
        unexpected (list[str]): File keys that match nothing in the model
            (e.g. a classifier head).
        adapted (list[str]): Model keys whose value was adapted (input-channel
            summing for a one-channel stem).
        mismatched (list[str]): File keys whose shape could not be adapted.
    """
    loaded: List[str]
    missing: List[str]
    unexpected: List[str]
    adapted: List[str]
    mismatched: List[str]


class CheckpointMismatchError(UserInputError):
    """A weight file does not fit the model exactly; the one-line message names the keys."""


def looks_like_checkpoint_path(value) -> bool:
    """True when ``value`` names a local weight file rather than a timm tag."""
    return isinstance(value, str) and (osp.isfile(value) or value.lower().endswith(CHECKPOINT_SUFFIXES))


def read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """Read a ``.pth``/``.pt`` (torch) or ``.safetensors`` file into a flat state dict.

    Nested dicts under ``state_dict``/``model``/... are unwrapped and DDP's
    ``module.`` prefix is removed.

    Args:
        path (str): Local file.

    Returns:
        dict[str, Tensor]: Parameter name -> tensor.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'pretrained checkpoint {path!r} does not exist (no download is attempted for '
                                f'local paths; pass a timm tag or False instead)')
    if path.lower().endswith('.safetensors'):
        from safetensors.torch import load_file
        state = load_file(path, device='cpu')
    else:
        state = torch.load(path, map_location='cpu', weights_only=True)
    for key in _NESTED_STATE_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f'checkpoint {path!r} does not hold a state dict of tensors '
                         f'(top-level keys: {list(state)[:8] if isinstance(state, dict) else type(state)})')
    return {(name[len('module.'):] if name.startswith('module.') else name): value for name, value in state.items()}


def write_state_dict(state: Dict[str, torch.Tensor], path: str) -> None:
    """Write a flat state dict as ``.safetensors`` (by the suffix) or as a torch file, making the folder.

    The counterpart of :func:`read_state_dict`: what it writes, ``pretrained='<path>'`` reads.
    """
    state = {name: value.detach().contiguous() for name, value in state.items()}
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    if path.lower().endswith('.safetensors'):
        from safetensors.torch import save_file
        save_file(state, path)
    else:
        torch.save(state, path)


def _candidate_names(name: str):
    """Names a file key may have in our model.

    The key itself, without a wrapper prefix (``backbone.``, ...), and each of those
    with the first dot flattened as ``features_only`` does (``stages.0`` -> ``stages_0``).
    """
    bases = [name] + [name[len(p):] for p in _STRIP_PREFIXES if name.startswith(p)]
    for base in bases:
        yield base
        if '.' in base:
            yield base.replace('.', '_', 1)


def sums_to_one_channel(value: torch.Tensor, expected: torch.Size) -> bool:
    """True when ``value`` is a multi-channel stem kernel that summing over channels fits to ``expected``."""
    return (value.dim() == 4 and len(expected) == 4 and expected[1] == 1 and value.shape[1] > 1
            and value.shape[0] == expected[0] and value.shape[2:] == expected[2:])


def _name_some(keys: Sequence[str], limit: int = 8) -> str:
    """``[a, b, ...]`` with at most ``limit`` names and the count of the rest."""
    shown = ', '.join(keys[:limit])
    return f'[{shown}{f", ... (+{len(keys) - limit} more)" if len(keys) > limit else ""}]'


def load_state_dict_exactly(model: nn.Module,
                            state: Dict[str, torch.Tensor],
                            source: str,
                            owner: str = 'backbone',
                            ignore_prefixes: Sequence[str] = ()) -> LoadReport:
    """Load ``state`` into ``model`` only if every model tensor gets a value of its shape.

    Unlike :func:`load_local_weights` (which loads what matches and logs the rest), a partial
    load is an error here: the towers built on pretrained transformers are useless with a
    half-loaded file, and a renamed key would otherwise go unnoticed. File keys under
    ``ignore_prefixes`` (a classifier or projection ``head.`` the tower does not build) are
    dropped and logged. A 3-channel stem is summed to one channel when the model takes one.

    Args:
        model (nn.Module): The model whose ``state_dict`` names must all be covered.
        state (dict[str, Tensor]): File tensors, already renamed to the model's names.
        source (str): The file (named in messages).
        owner (str): The tower (named in messages).
        ignore_prefixes (Sequence[str]): File-key prefixes that may be left unused.

    Returns:
        LoadReport: Loaded and adapted keys (missing, unexpected and mismatched are empty).

    Raises:
        CheckpointMismatchError: One line naming the missing keys, the unexpected keys and
            the shape mismatches.
    """
    target = model.state_dict()
    ignored = sorted(k for k in state if k not in target and k.startswith(tuple(ignore_prefixes)))
    unexpected = sorted(k for k in state if k not in target and k not in ignored)
    missing = sorted(k for k in target if k not in state)
    to_load, adapted, mismatched = {}, [], []
    for name in sorted(set(state) & set(target)):
        value, expected = state[name], target[name].shape
        if value.shape != expected:
            if not sums_to_one_channel(value, expected):
                mismatched.append(f'{name} file {tuple(value.shape)} vs model {tuple(expected)}')
                continue
            value = value.sum(dim=1, keepdim=True)
            adapted.append(name)
        to_load[name] = value.to(target[name].dtype)
    if missing or unexpected or mismatched:
        problems = []
        if missing:
            problems.append(f'missing {len(missing)} {_name_some(missing)}')
        if unexpected:
            problems.append(f'unexpected {len(unexpected)} {_name_some(unexpected)}')
        if mismatched:
            problems.append(f'shape mismatch {len(mismatched)} {_name_some(mismatched)}')
        raise CheckpointMismatchError(f'{owner}: checkpoint {source} does not fit the model (nothing was loaded): '
                                      + '; '.join(problems) + ' (tools/model_converters/ renames official DINOv2 '
                                      'and OpenAI CLIP checkpoints to timm names)')
    model.load_state_dict(to_load, strict=True)
    logger = MMLogger.get_current_instance()
    print_log(f'{owner}: loaded all {len(to_load)} tensors from {source}'
              f'{f"; ignored {ignored}" if ignored else ""}'
              f'{f"; summed input channels of {adapted} to fit in_chans=1" if adapted else ""}', logger=logger)
    return LoadReport(sorted(to_load), [], ignored, adapted, [])


def load_local_weights(model: nn.Module, path: str, owner: str = 'backbone') -> LoadReport:
    """Load ``path`` into ``model`` non-strictly and log what was and was not loaded.

    A 3-channel stem convolution is summed over its input channels when the model
    expects one channel (the audio encoder on a spectrogram).

    Args:
        model (nn.Module): The timm model (possibly a ``features_only`` wrapper).
        path (str): Local ``.pth``/``.pt``/``.safetensors`` file.
        owner (str): Name used in the log lines.

    Returns:
        LoadReport: Loaded, missing, unexpected, adapted and mismatched keys.
    """
    source = read_state_dict(path)
    target = model.state_dict()
    to_load, unexpected, adapted, mismatched = {}, [], [], []
    for name, value in source.items():
        match = next((c for c in _candidate_names(name) if c in target), None)
        if match is None:
            unexpected.append(name)
            continue
        expected = target[match].shape
        if value.shape != expected:
            if sums_to_one_channel(value, expected):
                value = value.sum(dim=1, keepdim=True)
                adapted.append(match)
            else:
                mismatched.append(f'{name}: file {tuple(value.shape)} vs model {tuple(expected)}')
                continue
        to_load[match] = value.to(target[match].dtype)
    result = model.load_state_dict(to_load, strict=False)
    missing = list(result.missing_keys)
    report = LoadReport(sorted(to_load), missing, unexpected, adapted, mismatched)
    logger = MMLogger.get_current_instance()
    print_log(f'{owner}: loaded {len(report.loaded)}/{len(target)} tensors from {path}', logger=logger)
    if missing:
        print_log(f'{owner}: {len(missing)} model keys missing in {path}: {missing[:10]}'
                  f'{" ..." if len(missing) > 10 else ""}', logger=logger, level=30)
    if unexpected:
        print_log(f'{owner}: {len(unexpected)} unexpected keys in {path} (ignored): {unexpected[:10]}'
                  f'{" ..." if len(unexpected) > 10 else ""}', logger=logger)
    if adapted:
        print_log(f'{owner}: summed input channels of {adapted} to fit in_chans=1', logger=logger)
    if mismatched:
        print_log(f'{owner}: shape mismatch, not loaded: {mismatched[:10]}', logger=logger, level=30)
    return report


#: What a tower's ``pretrained`` option takes: False / True / a timm tag / a local checkpoint path.
PretrainedSpec = Union[bool, str]


def split_pretrained(model_name: str, pretrained: PretrainedSpec):
    """Turn the ``pretrained`` option into ``(timm name, timm pretrained flag, local path)``.

    Args:
        model_name (str): timm model name, e.g. ``'resnet18'``.
        pretrained (bool | str): ``False``/``None``; ``True`` (timm's default
            weights); a timm tag (``'a1_in1k'`` -> ``resnet18.a1_in1k``, or a full
            ``'name.tag'``/``'hf-hub:...'``); or a local checkpoint path.

    Returns:
        tuple: ``(name for timm.create_model, bool, local path or None)``.
    """
    if not pretrained:
        return model_name, False, None
    if pretrained is True:
        return model_name, True, None
    if not isinstance(pretrained, str):
        raise TypeError(f'pretrained must be False, True, a timm tag or a checkpoint path, got {pretrained!r}')
    if looks_like_checkpoint_path(pretrained):
        return model_name, False, pretrained
    if pretrained.startswith('hf-hub:') or '.' in pretrained:
        return pretrained, True, None
    return f'{model_name}.{pretrained}', True, None
