"""Hold a validation list out of a StampsAV ``train.txt`` (for checkpoint selection, never test).

StampsAV (built by ``tools/misc/make_stampsav.py``; see ``docs/stampsav.md``) ships train / test /
unheard splits but no validation split, and selecting checkpoints on ``test.txt`` would inflate
the test numbers.
This tool moves a seeded random subset of ``train.txt`` into ``val.txt`` and writes the
rest to ``train_fit.txt`` (the list to train on), plus ``val.json``: the sounding object's
box of each held-out scene in the VGG-SS json format that ``box_file`` reads, taken from the
generator's per-scene record ``scenes_train.jsonl``. Training never reads ``val.json``.

Usage::

    python tools/dataset_converters/stamps_av_holdout.py data/stamps_av_dev --num-val 200 --seed 0
"""
import argparse
import json
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from icl_av.utils import UserInputError, run_cli  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Hold a validation list out of a StampsAV train.txt')
    parser.add_argument('data_root', help='StampsAV folder (holds train.txt and scenes_train.jsonl)')
    parser.add_argument('--num-val', type=int, default=200, help='scenes to hold out (default 200)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random selection (default 0)')
    parser.add_argument('--train-out', default='train_fit.txt', help='list of the remaining training scenes')
    parser.add_argument('--val-out', default='val.txt', help='list of the held-out scenes')
    parser.add_argument('--boxes-out', default='val.json', help='their boxes, VGG-SS json format')
    return parser.parse_args(argv)


def read_lines(path: str):
    """Non-empty stripped lines of a text file, with a clear error when it is missing."""
    if not osp.isfile(path):
        raise UserInputError(f'{path}: not found (expected a StampsAV folder made by tools/misc/make_stampsav.py)')
    with open(path) as handle:
        return [line.strip() for line in handle if line.strip()]


def sounding_boxes(path: str) -> dict:
    """``{scene ID: (box, class)}`` from the generator's ``scenes_train.jsonl``."""
    boxes = {}
    for number, line in enumerate(read_lines(path), 1):
        try:
            record = json.loads(line)
            boxes[record['id']] = (record['bbox'], record['cls'])
        except (json.JSONDecodeError, KeyError) as error:
            raise UserInputError(f'{path}:{number}: not a scene record ({error})') from None
    return boxes


def hold_out(ids, num_val: int, seed: int):
    """Split ``ids`` into (fit, val) lists, each in the original order; ``num_val`` chosen at random."""
    if not 0 < num_val < len(ids):
        raise UserInputError(f'--num-val must be between 1 and {len(ids) - 1} (the list has {len(ids)} IDs), '
                             f'got {num_val}')
    chosen = set(np.random.default_rng(seed).choice(len(ids), size=num_val, replace=False).tolist())
    fit = [video_id for i, video_id in enumerate(ids) if i not in chosen]
    val = [video_id for i, video_id in enumerate(ids) if i in chosen]
    return fit, val


def main(argv=None):
    args = parse_args(argv)
    ids = [line.split(',')[0] for line in read_lines(osp.join(args.data_root, 'train.txt'))]
    boxes = sounding_boxes(osp.join(args.data_root, 'scenes_train.jsonl'))
    missing = [video_id for video_id in ids if video_id not in boxes]
    if missing:
        raise UserInputError(f'{osp.join(args.data_root, "scenes_train.jsonl")}: no record for {len(missing)} '
                             f'IDs of train.txt, e.g. {missing[:3]}')
    fit, val = hold_out(ids, args.num_val, args.seed)
    with open(osp.join(args.data_root, args.train_out), 'w') as handle:
        handle.write('\n'.join(fit) + '\n')
    with open(osp.join(args.data_root, args.val_out), 'w') as handle:
        handle.write('\n'.join(val) + '\n')
    records = [dict(file=video_id, bbox=[boxes[video_id][0]], **{'class': boxes[video_id][1]}) for video_id in val]
    with open(osp.join(args.data_root, args.boxes_out), 'w') as handle:
        json.dump(records, handle)
    print(f'{len(fit)} training IDs -> {osp.join(args.data_root, args.train_out)}; {len(val)} held out -> '
          f'{osp.join(args.data_root, args.val_out)} with boxes in {osp.join(args.data_root, args.boxes_out)}')


if __name__ == '__main__':
    run_cli(main)
