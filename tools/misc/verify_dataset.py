"""Decode every file a split of a config lists and report the broken ones, before a long run meets them.

Example (run it after downloading or extracting a dataset)::

    python tools/misc/verify_dataset.py configs/icl/icl_r18_8xb64-20e_vggsound144k.py --split train --workers 8

decodes every frame (every frame of a per-video frame folder), audio file and video (first,
middle and last frame plus the audio track) of the split, prints the counts per reason with the
first paths, and writes ``<split>_clean.txt`` (the IDs whose files all decode: a split list to
point ``ann_file`` at) and ``<split>_report.json`` into ``--out-dir``. Exit status 0 when every
file decodes, 1 otherwise. The logic lives in :mod:`icl_av.datasets.verify`.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # run from a checkout

from mmengine.config import Config, DictAction  # noqa: E402

from icl_av.utils import UserInputError, check_config_path, run_cli  # noqa: E402

SPLITS = ('train', 'val', 'test')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Decode every file of a dataset split and report the broken ones')
    parser.add_argument('config', help='a training/testing config')
    parser.add_argument('--split', choices=SPLITS, default='train', help='which dataloader\'s dataset (default train)')
    parser.add_argument('--workers', type=int, default=max(1, min(8, os.cpu_count() or 1)),
                        help='decoding processes (default: the CPU count, at most 8)')
    parser.add_argument('--out-dir', help='where to write the clean list and the JSON report '
                                          '(default work_dirs/verify_dataset/<config name>)')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, e.g. train_dataloader.dataset.data_root=data/x')
    return parser.parse_args(argv)


def progress_bar_factory(quiet: bool):
    """A function ``total -> update()`` drawing a progress bar (tqdm if installed, else MMEngine's)."""
    if quiet:
        return None

    def make(total: int):
        try:
            from tqdm import tqdm
            bar = tqdm(total=total, unit='file')
            return bar.update
        except ImportError:
            from mmengine.utils import ProgressBar
            bar = ProgressBar(total)
            return bar.update
    return make


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(check_config_path(args.config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    loader = cfg.get(f'{args.split}_dataloader')
    if not loader or not loader.get('dataset'):
        raise UserInputError(f'{args.config} has no {args.split}_dataloader.dataset to verify')
    if args.workers < 1:
        raise UserInputError(f'--workers must be at least 1, got {args.workers}')
    from icl_av.datasets.verify import verify_dataset
    from icl_av.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    report = verify_dataset(loader['dataset'], workers=args.workers,
                            progress_factory=progress_bar_factory(args.quiet))
    out_dir = args.out_dir or osp.join('work_dirs', 'verify_dataset', osp.splitext(osp.basename(args.config))[0])
    clean_path, report_path = report.write(out_dir, args.split)
    print('\n'.join(report.summary_lines()))
    print(f'clean list: {clean_path}\nreport: {report_path}')
    return 0 if report.ok else 1


if __name__ == '__main__':
    run_cli(lambda: sys.exit(main()))
