"""Measure how fast a config's data pipeline delivers samples (not a model benchmark).

Example, frames+audio vs raw mp4 side by side::

    python tools/analysis_tools/benchmark_data.py \\
        configs/_base_/datasets/custom_frames.py configs/_base_/datasets/custom_videos.py \\
        --num-samples 200 --workers 0 2 4 \\
        --cfg-options train_dataloader.dataset.data_root=data/my_av/

prints one line per (config, workers) setting with samples/s overall and per worker.
Only the dataset and its pipeline run (``DATASETS.build`` + a torch DataLoader);
``--split test`` measures the test pipeline instead.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch.utils.data import DataLoader, Subset  # noqa: E402

import icl_av.datasets  # noqa: E402,F401  (registers datasets and transforms)
from icl_av.registry import DATASETS  # noqa: E402
from icl_av.utils import check_config_path, run_cli  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark a config\'s data pipeline (samples/s).')
    parser.add_argument('configs', nargs='+', help='config file(s); each is measured with every --workers')
    parser.add_argument('--split', choices=['train', 'test'], default='train', help='which dataloader')
    parser.add_argument('--num-samples', type=int, default=100, help='samples timed per setting')
    parser.add_argument('--warmup', type=int, default=5, help='samples loaded before timing starts')
    parser.add_argument('--workers', type=int, nargs='+', default=[0], help='DataLoader worker counts')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    return parser.parse_args(argv)


def measure(dataset, num_samples: int, warmup: int, workers: int) -> float:
    """Samples per second of iterating ``dataset`` (one sample per batch) with ``workers`` processes."""
    total = min(len(dataset), num_samples + warmup)
    subset = Subset(dataset, [i % len(dataset) for i in range(total)])
    loader = DataLoader(subset, batch_size=1, num_workers=workers, collate_fn=pseudo_collate, shuffle=False)
    iterator = iter(loader)
    for _ in range(min(warmup, total - 1)):
        next(iterator)
    start, count = time.perf_counter(), 0
    for _ in iterator:
        count += 1
    elapsed = time.perf_counter() - start
    return count / elapsed if elapsed > 0 and count else float('nan')


def main(argv=None):
    args = parse_args(argv)
    for config in args.configs:
        cfg = Config.fromfile(check_config_path(config))
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        # dataset-only configs (configs/_base_/datasets/*) name no scope; their types are icl_av's
        init_default_scope(cfg.get('default_scope', 'icl_av'))
        dataset_cfg = cfg[f'{args.split}_dataloader']['dataset']
        dataset = DATASETS.build(dataset_cfg)
        for workers in args.workers:
            rate = measure(dataset, args.num_samples, args.warmup, workers)
            per_worker = rate / max(workers, 1)
            print(f'{os.path.basename(config)} split={args.split} dataset={type(dataset).__name__} '
                  f'root={dataset.data_root} samples={len(dataset)} workers={workers}: '
                  f'{rate:.1f} samples/s ({per_worker:.1f} per worker)', flush=True)
    return 0


if __name__ == '__main__':
    run_cli(lambda: sys.exit(main()))
