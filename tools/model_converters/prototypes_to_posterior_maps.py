"""Move an icl_av checkpoint's audio prototypes from the pseudo-label bank's keys to the localizer's ``posterior_maps``.

An ``AVLocalizer`` keeps the audio prototypes of its posterior maps (the k-means centroids of a
refresh, their familiarity threshold and location prior) in its ``PosteriorMaps`` module:
``posterior_maps.prototypes``, ``posterior_maps.familiarity_threshold`` and
``posterior_maps.location_prior``. A checkpoint that holds them as ``pseudo_label_bank.prototypes``,
``pseudo_label_bank.familiarity_threshold`` and ``pseudo_label_bank.location_prior`` is refused at load
with one line naming this tool (loading without them would change the maps); this tool renames those keys and
keeps everything else of the file (weights, pseudo-labels, optimizer, message hub), so the result
tests, resumes and serves ``load_from`` as the original would.

Example::

    python tools/model_converters/prototypes_to_posterior_maps.py \\
        work_dirs/icl/epoch_9.pth work_dirs/icl/epoch_9_converted.pth

The input may be an MMEngine checkpoint (``{'state_dict': ..., 'optimizer': ...}``) or a bare
state dict; DDP's ``module.`` prefix is kept as found. A file without the bank's prototype keys,
or with both namings, is an error. Errors print one line (``ICL_AV_DEBUG=1`` shows the traceback).
"""
import argparse
import os
import sys
from typing import Dict, List, Tuple

import torch

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from icl_av.utils import UserInputError, register_checkpoint_safe_globals, run_cli  # noqa: E402

#: Buffer names that move from ``pseudo_label_bank.`` to ``posterior_maps.``.
MOVED_BUFFERS = ('prototypes', 'familiarity_threshold', 'location_prior')
SOURCE, TARGET = 'pseudo_label_bank.', 'posterior_maps.'


def rename_keys(state_dict: Dict[str, torch.Tensor]) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """The state dict with the prototype buffers under ``posterior_maps.``, in the same order.

    Returns:
        tuple[dict, list[str]]: The renamed state dict and the keys that were renamed.

    Raises:
        UserInputError: No key to rename, or a renamed key already present.
    """
    renamed, moved = {}, []
    for key, value in state_dict.items():
        head, _, name = key.rpartition(SOURCE)
        if name in MOVED_BUFFERS and key == head + SOURCE + name:
            key = head + TARGET + name
            moved.append(key)
            if key in state_dict:
                raise UserInputError(f'the checkpoint holds both {head + SOURCE + name!r} and {key!r}')
        renamed[key] = value
    if not moved:
        raise UserInputError(f'no {SOURCE}{{{",".join(MOVED_BUFFERS)}}} keys to rename: the prototypes are already '
                             f'under {TARGET!r} or the checkpoint has none')
    return renamed, moved


def convert(src: str, dst: str) -> List[str]:
    """Read ``src``, rename its prototype keys, write ``dst``; return the new key names."""
    if not os.path.isfile(src):
        raise UserInputError(f'{src}: no such checkpoint file')
    if os.path.abspath(src) == os.path.abspath(dst):
        raise UserInputError(f'{dst}: write the converted checkpoint to another file than the input')
    register_checkpoint_safe_globals()
    checkpoint = torch.load(src, map_location='cpu', weights_only=True)
    if not isinstance(checkpoint, dict):
        raise UserInputError(f'{src}: expected a checkpoint dict, got {type(checkpoint).__name__}')
    if isinstance(checkpoint.get('state_dict'), dict):
        checkpoint['state_dict'], moved = rename_keys(checkpoint['state_dict'])
    else:
        checkpoint, moved = rename_keys(checkpoint)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    torch.save(checkpoint, dst)
    return moved


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Move a checkpoint's audio prototypes from pseudo_label_bank.* "
                                     'to posterior_maps.*')
    parser.add_argument('src', help='input checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    moved = convert(args.src, args.dst)
    print(f'wrote {args.dst}: renamed {", ".join(moved)}')


if __name__ == '__main__':
    run_cli(main)
