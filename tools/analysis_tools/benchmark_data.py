"""Measure how fast a config's data pipeline delivers samples (not a model benchmark).

Example, frames+audio vs raw mp4 side by side::

    python tools/analysis_tools/benchmark_data.py \\
        configs/_base_/datasets/custom_frames.py configs/_base_/datasets/custom_videos.py \\
        --num-samples 200 --workers 0 2 4 \\
        --cfg-options train_dataloader.dataset.data_root=data/my_av/

prints the machine, then one line per (config, workers) setting with samples/s overall and
per worker. Only the dataset, its pipeline and the collate run (``DATASETS.build`` + a torch
DataLoader); ``--split test`` measures the test pipeline instead. ``--batch-size B`` draws
batches of ``B`` through the loader config's own ``collate_fn`` (``corrupt_aware_collate``
stacks the inputs in the workers), as training does; the default, one sample per batch
through ``pseudo_collate``, measures the pipeline alone.

A longer-audio copy of a frames+audio dataset, to measure what a 3 s clip costs from 10 s
files (VGG-Sound's length) when the development set's wavs are 3 s::

    python tools/analysis_tools/benchmark_data.py --make-long-audio data/stamps_av_dev data/stamps_av_dev_10s \\
        --seconds 10

writes ``audio/ID.wav`` of ``--seconds`` each (the clip followed by the next IDs' clips, same rate
and sample format), links ``frames`` to the source's and copies the list files; it then exits.
"""
import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import FUNCTIONS, init_default_scope  # noqa: E402
from torch.utils.data import DataLoader, Subset  # noqa: E402

import icl_av.datasets  # noqa: E402,F401  (registers datasets, transforms and collate functions)
from icl_av.registry import DATASETS  # noqa: E402
from icl_av.utils import UserInputError, check_config_path, run_cli  # noqa: E402

LIST_SUFFIXES = ('.txt', '.csv', '.json', '.jsonl')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark a config\'s data pipeline (samples/s).')
    parser.add_argument('configs', nargs='*', help='config file(s); each is measured with every --workers')
    parser.add_argument('--split', choices=['train', 'test'], default='train', help='which dataloader')
    parser.add_argument('--num-samples', type=int, default=100, help='samples timed per setting')
    parser.add_argument('--warmup', type=int, default=5, help='samples loaded before timing starts')
    parser.add_argument('--workers', type=int, nargs='+', default=[0], help='DataLoader worker counts')
    parser.add_argument('--batch-size', type=int, default=1,
                        help="samples per batch; above 1 the loader config's collate_fn is used (default 1: "
                             'one sample per batch through pseudo_collate)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    parser.add_argument('--make-long-audio', nargs=2, metavar=('SRC_ROOT', 'DST_ROOT'),
                        help='write a copy of a frames+audio dataset whose wavs last --seconds, then exit')
    parser.add_argument('--seconds', type=float, default=10.0, help='length of the --make-long-audio wavs')
    parser.add_argument('--max-files', type=int, default=None,
                        help='--make-long-audio: only the first N wavs (by name), for a quick check')
    args = parser.parse_args(argv)
    if not args.configs and not args.make_long_audio:
        parser.error('give at least one config (or --make-long-audio SRC_ROOT DST_ROOT)')
    return args


def make_long_audio(src_root: str, dst_root: str, seconds: float, max_files: int = None) -> int:
    """Copy a frames+audio dataset with every ``audio/*.wav`` extended to ``seconds``.

    Each clip is followed by the next clips (in name order, wrapping around) until it lasts
    ``seconds``; the rate, channel count and sample format (e.g. 16-bit PCM) are the
    source's. ``frames`` becomes a link to the source's folder and the list and annotation
    files at the top level (``.txt``, ``.csv``, ``.json``, ``.jsonl``) are copied, so the
    copy trains and tests with the same configs (with ``max_files`` only the first wavs are
    written; datasets with ``on_missing='skip'`` then use those). Returns the number of wavs
    written.
    """
    import numpy as np
    import soundfile as sf

    audio_dir = os.path.join(src_root, 'audio')
    if not os.path.isdir(audio_dir):
        raise UserInputError(f'--make-long-audio: {audio_dir!r} is not a folder (expected SRC_ROOT/audio/*.wav)')
    names = sorted(name for name in os.listdir(audio_dir) if name.lower().endswith('.wav'))
    if not names:
        raise UserInputError(f'--make-long-audio: no .wav files in {audio_dir!r}')
    if seconds <= 0:
        raise UserInputError(f'--seconds must be positive, got {seconds}')
    os.makedirs(os.path.join(dst_root, 'audio'), exist_ok=True)
    frames_link = os.path.join(dst_root, 'frames')
    if os.path.isdir(os.path.join(src_root, 'frames')) and not os.path.lexists(frames_link):
        os.symlink(os.path.abspath(os.path.join(src_root, 'frames')), frames_link)
    for name in os.listdir(src_root):
        path = os.path.join(src_root, name)
        if os.path.isfile(path) and name.endswith(LIST_SUFFIXES):
            shutil.copy2(path, os.path.join(dst_root, name))
    for index, name in enumerate(names[:max_files]):
        info = sf.info(os.path.join(audio_dir, name))
        target = int(round(seconds * info.samplerate))
        dtype = 'int16' if info.subtype == 'PCM_16' else ('int32' if info.subtype.startswith('PCM') else 'float32')
        pieces, have, step = [], 0, 0
        while have < target:
            data, rate = sf.read(os.path.join(audio_dir, names[(index + step) % len(names)]), dtype=dtype,
                                 always_2d=True)
            if rate != info.samplerate or data.shape[1] != info.channels:
                step += 1
                if step > len(names):
                    raise UserInputError(f'--make-long-audio: no other clip shares {name}\'s rate and channels')
                continue
            pieces.append(data[:target - have])
            have += len(pieces[-1])
            step += 1
        sf.write(os.path.join(dst_root, 'audio', name), np.concatenate(pieces), info.samplerate,
                 subtype=info.subtype)
    written = len(names[:max_files])
    print(f'wrote {written} wavs of {seconds:g} s to {os.path.join(dst_root, "audio")} '
          f'(frames: a link to {os.path.join(src_root, "frames")})', flush=True)
    return written


def build_collate(loader_cfg: dict, batch_size: int):
    """The loader config's collate function for batches (``pseudo_collate`` for single samples)."""
    if batch_size <= 1:
        return pseudo_collate
    collate_cfg = dict(loader_cfg.get('collate_fn') or dict(type='pseudo_collate'))
    collate_type = collate_cfg.pop('type')
    function = collate_type if callable(collate_type) else FUNCTIONS.get(collate_type)
    if function is None:
        raise UserInputError(f'collate_fn {collate_type!r} is not a registered function')
    if not collate_cfg:
        return function
    from functools import partial
    return partial(function, **collate_cfg)


def measure(dataset, num_samples: int, warmup: int, workers: int, batch_size: int = 1,
            collate_fn=pseudo_collate) -> float:
    """Samples per second of iterating ``dataset`` in batches of ``batch_size`` with ``workers`` processes.

    The batches holding the first ``warmup`` samples are loaded before the clock starts (one
    batch is always timed), so worker start-up is not counted.
    """
    total = min(len(dataset), num_samples + warmup)
    subset = Subset(dataset, list(range(total)))
    loader = DataLoader(subset, batch_size=batch_size, num_workers=workers, collate_fn=collate_fn, shuffle=False)
    batches = -(-total // batch_size)
    skip = max(min(-(-warmup // batch_size), batches - 1), 0)
    iterator = iter(loader)
    for _ in range(skip):
        next(iterator)
    start, count = time.perf_counter(), 0
    for batch in iterator:
        count += len(batch['data_samples']) if isinstance(batch, dict) and 'data_samples' in batch else batch_size
    elapsed = time.perf_counter() - start
    return count / elapsed if elapsed > 0 and count else float('nan')


def collate_description(collate_fn) -> str:
    """``name`` or ``name(key=value, ...)`` of a collate function or a ``functools.partial`` of one."""
    function = getattr(collate_fn, 'func', collate_fn)
    name = getattr(function, '__name__', repr(function))
    keywords = getattr(collate_fn, 'keywords', None)
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in keywords.items())})" if keywords else name


def describe_loading(dataset_cfg: dict) -> str:
    """The pipeline's loading settings in a few words (so before/after lines say what they ran)."""
    words = []
    for step in dataset_cfg.get('pipeline') or []:
        kind = step.get('type') if isinstance(step, dict) else type(step).__name__
        if kind == 'LoadAVFrame':
            words.append(f"frames min_size={step.get('min_size')}")
        elif kind == 'LoadAudio':
            words.append(f"audio lazy={bool(step.get('lazy', False))}")
    return ', '.join(words) or 'pipeline as configured'


def main(argv=None):
    args = parse_args(argv)
    if args.make_long_audio:
        make_long_audio(args.make_long_audio[0], args.make_long_audio[1], args.seconds, args.max_files)
        return 0
    if args.batch_size < 1:
        raise UserInputError(f'--batch-size must be >= 1, got {args.batch_size}')
    from icl_av.utils.machine import machine_line
    print(f'machine: {machine_line("cpu")}', flush=True)
    for config in args.configs:
        cfg = Config.fromfile(check_config_path(config))
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        # dataset-only configs (configs/_base_/datasets/*) name no scope; their types are icl_av's
        init_default_scope(cfg.get('default_scope', 'icl_av'))
        loader_cfg = cfg[f'{args.split}_dataloader']
        dataset_cfg = loader_cfg['dataset']
        dataset = DATASETS.build(dataset_cfg)
        collate_fn = build_collate(loader_cfg, args.batch_size)
        collate_name = collate_description(collate_fn)
        for workers in args.workers:
            rate = measure(dataset, args.num_samples, args.warmup, workers, args.batch_size, collate_fn)
            per_worker = rate / max(workers, 1)
            print(f'{os.path.basename(config)} split={args.split} dataset={type(dataset).__name__} '
                  f'root={dataset.data_root} samples={len(dataset)} workers={workers} batch={args.batch_size} '
                  f'collate={collate_name} ({describe_loading(dataset_cfg)}): '
                  f'{rate:.1f} samples/s ({per_worker:.1f} per worker)', flush=True)
    return 0


if __name__ == '__main__':
    run_cli(lambda: sys.exit(main()))
