"""Measure a localizer's speed and memory: ``python tools/analysis_tools/benchmark.py CONFIG [CKPT]``.

For each precision (fp32, and bf16 autocast with ``--amp``) it prints one line for
inference (samples/s, per-batch latency) and one for a training step split into data
wait / forward / backward / optimizer, with the peak memory (GPU: ``max_memory_allocated``
since the setting started; CPU: the process's peak RSS so far, from ``getrusage``).

Batches come from the config's own datasets (``test_dataloader`` for inference, a real
``train_dataloader`` iterator for training, so the data-wait column is the loader's real
cost); inference reuses one pre-fetched batch so it times the model alone.
"""
import argparse
import json
import os.path as osp
import resource
import statistics
import sys
import time
from contextlib import nullcontext

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # run from a checkout


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description='Benchmark an icl_av localizer (throughput, latency, memory)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?', default=None, help='optional checkpoint (speed does not need one)')
    parser.add_argument('--device', default=None, help="'cpu' or 'cuda' (default: cuda when available)")
    parser.add_argument('--amp', action='store_true', help='also measure bf16 autocast (mixed precision)')
    parser.add_argument('--channels-last', action='store_true', help='channels_last memory format')
    parser.add_argument('--compile', action='store_true', help='torch.compile the model forward')
    parser.add_argument('--batch-size', type=int, default=None, help='batch size (default: the config\'s)')
    parser.add_argument('--num-iters', type=int, default=20, help='timed iterations per setting')
    parser.add_argument('--num-warmup', type=int, default=5, help='untimed warm-up iterations per setting')
    parser.add_argument('--num-workers', type=int, default=None, help='dataloader workers (default: the config\'s)')
    parser.add_argument('--mode', choices=['inference', 'train', 'both'], default='both', help='what to measure')
    parser.add_argument('--out', default=None, help='also write the results as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='config overrides key=value')
    args = parser.parse_args(argv)
    return args


def _sync(device):
    import torch
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def _peak_memory_mb(device) -> dict:
    import torch
    peak = {'cpu_peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if str(device).startswith('cuda'):
        peak['gpu_peak_mb'] = torch.cuda.max_memory_allocated() / 2 ** 20
    return peak


def _reset_peak(device):
    import torch
    if str(device).startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()


def _autocast(device, amp: bool):
    import torch
    if not amp:
        return nullcontext()
    return torch.autocast(device_type='cuda' if str(device).startswith('cuda') else 'cpu', dtype=torch.bfloat16)


def build_loader(cfg, split: str, batch_size, num_workers):
    """The config's ``<split>_dataloader`` with the benchmark's batch size / workers."""
    from mmengine.runner import Runner

    from icl_av.utils import UserInputError
    key = f'{split}_dataloader'
    if not cfg.get(key):
        raise UserInputError(f'config has no {key} to draw benchmark batches from')
    loader_cfg = cfg[key].copy()
    if batch_size is not None:
        loader_cfg['batch_size'] = batch_size
    if num_workers is not None:
        loader_cfg['num_workers'] = num_workers
    if loader_cfg.get('num_workers', 0) == 0:
        loader_cfg['persistent_workers'] = False
    return Runner.build_dataloader(loader_cfg, seed=0)


def cycle(loader):
    """Iterate over a dataloader forever."""
    while True:
        yield from loader


def _timed(values, num_warmup):
    return values[num_warmup:] if len(values) > num_warmup else values


def bench_inference(model, loader, device, amp, num_iters, num_warmup) -> dict:
    """Time ``model.test_step`` on one pre-fetched batch (data loading excluded)."""
    import torch
    batch = next(iter(loader))
    batch_size = len(batch['data_samples'])
    model.eval()
    _reset_peak(device)
    latencies = []
    with torch.no_grad(), _autocast(device, amp):
        for _ in range(num_warmup + num_iters):
            _sync(device)
            start = time.perf_counter()
            model.test_step(batch)
            _sync(device)
            latencies.append(time.perf_counter() - start)
    timed = _timed(latencies, num_warmup)
    mean = statistics.fmean(timed)
    return dict(mode='inference', batch_size=batch_size, samples_per_s=batch_size / mean,
                latency_ms=1e3 * mean, latency_p50_ms=1e3 * statistics.median(timed), **_peak_memory_mb(device))


def bench_train(model, loader, optim_wrapper, device, amp, num_iters, num_warmup) -> dict:
    """Time training steps split into data wait, forward (preprocess + loss), backward and optimizer."""
    model.train()
    batches = cycle(loader)
    _reset_peak(device)
    phases = {'data_ms': [], 'forward_ms': [], 'backward_ms': [], 'optimizer_ms': []}
    batch_size = None
    for _ in range(num_warmup + num_iters):
        _sync(device)
        t0 = time.perf_counter()
        batch = next(batches)
        t1 = time.perf_counter()
        with _autocast(device, amp):
            data = model.data_preprocessor(batch, True)
            losses = model(**data, mode='loss')
            loss, _ = model.parse_losses(losses)
        _sync(device)
        t2 = time.perf_counter()
        loss.backward()
        _sync(device)
        t3 = time.perf_counter()
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        _sync(device)
        t4 = time.perf_counter()
        batch_size = len(batch['data_samples'])
        for key, (a, b) in zip(phases, ((t0, t1), (t1, t2), (t2, t3), (t3, t4))):
            phases[key].append(1e3 * (b - a))
    means = {key: statistics.fmean(_timed(values, num_warmup)) for key, values in phases.items()}
    step_ms = sum(means.values())
    return dict(mode='train', batch_size=batch_size, samples_per_s=1e3 * batch_size / step_ms, step_ms=step_ms,
                **means, **_peak_memory_mb(device))


def format_line(result: dict, setting: dict) -> str:
    """One printed line per (mode, precision) setting."""
    head = (f"{result['mode']:<9} {setting['precision']:<4} {setting['device']:<6} bs={result['batch_size']:<4} "
            f"channels_last={'y' if setting['channels_last'] else 'n'} compile={'y' if setting['compile'] else 'n'}")
    if result['mode'] == 'inference':
        body = (f"{result['samples_per_s']:9.1f} samples/s  latency {result['latency_ms']:8.2f} ms/batch "
                f"(p50 {result['latency_p50_ms']:.2f})")
    else:
        body = (f"{result['samples_per_s']:9.1f} samples/s  step {result['step_ms']:8.2f} ms = data "
                f"{result['data_ms']:.2f} + fwd {result['forward_ms']:.2f} + bwd {result['backward_ms']:.2f} + "
                f"opt {result['optimizer_ms']:.2f}")
    memory = f"peak RSS {result['cpu_peak_rss_mb']:.0f} MB"
    if 'gpu_peak_mb' in result:
        memory = f"GPU peak {result['gpu_peak_mb']:.0f} MB, " + memory
    return f'{head} | {body} | {memory}'


def main(argv=None):
    args = parse_args(argv)
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    from icl_av.apis import init_localizer
    from icl_av.utils import UserInputError, check_config_path

    if args.num_iters < 1 or args.num_warmup < 0:
        raise UserInputError('--num-iters must be >= 1 and --num-warmup >= 0')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    cfg = Config.fromfile(check_config_path(args.config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.channels_last and cfg.model.get('data_preprocessor') is not None:
        cfg.model.data_preprocessor['channels_last'] = True
    init_default_scope(cfg.get('default_scope', 'icl_av'))
    model = init_localizer(cfg, args.checkpoint, device=device)
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    if args.compile:
        model.forward = torch.compile(model.forward)

    precisions = ['fp32'] + (['amp'] if args.amp else [])
    results = []
    infer_loader = build_loader(cfg, 'test', args.batch_size, args.num_workers) \
        if args.mode in ('inference', 'both') else None
    train_loader = build_loader(cfg, 'train', args.batch_size, args.num_workers) \
        if args.mode in ('train', 'both') else None
    optim_wrapper = None
    if train_loader is not None:
        optim_cfg = cfg.get('optim_wrapper') or dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
        optim_cfg = dict(optim_cfg)
        optim_cfg['type'] = 'OptimWrapper'  # autocast is handled here, so the timings split cleanly
        optim_cfg.pop('dtype', None)
        optim_cfg.pop('loss_scale', None)
        optim_wrapper = build_optim_wrapper(model, optim_cfg)

    for precision in precisions:
        setting = dict(precision=precision, device=device, channels_last=args.channels_last, compile=args.compile)
        amp = precision == 'amp'
        if infer_loader is not None:
            result = bench_inference(model, infer_loader, device, amp, args.num_iters, args.num_warmup)
            results.append({**setting, **result})
            print(format_line(result, setting), flush=True)
        if train_loader is not None:
            result = bench_train(model, train_loader, optim_wrapper, device, amp, args.num_iters, args.num_warmup)
            results.append({**setting, **result})
            print(format_line(result, setting), flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == '__main__':
    from icl_av.utils import run_cli
    run_cli(main)
