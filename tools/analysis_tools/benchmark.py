"""Measure a localizer's speed and memory: ``python tools/analysis_tools/benchmark.py CONFIG [CKPT]``.

Three phases, each one printed line per setting:

* ``inference``: ``model.test_step`` on one pre-fetched ``test_dataloader`` batch
  (the model alone: samples/s and per-batch latency);
* ``train``: real training steps on a ``train_dataloader`` iterator, split into data
  wait / forward (preprocess + loss) / backward / optimizer;
* ``refresh``: the ICL pseudo-label refresh as ``PseudoLabelHook`` runs it (its own
  augmentation-free loader, built from the hook's config, and ``test_step``), data
  wait included, and its ratio to the training samples/s (one refresh per ICL
  iteration costs ``epoch / ratio`` of extra time).

Each line carries the peak memory (GPU: ``max_memory_allocated`` since the setting
started; CPU: the main process's peak RSS so far, from ``getrusage``; loader workers
are separate processes and not counted).

Settings: precision ``fp32`` and, with ``--amp``, ``amp`` (the model's own
``amp_dtype='bfloat16'`` autocast of its towers: AMX/AVX512-BF16 on recent CPUs,
tensor cores on GPUs); ``--channels-last`` and ``--compile`` switch those on;
``--compare`` measures every combination of channels_last off/on (and compile off/on
with ``--compile``) and prints a side-by-side markdown table at the end.

Every run first prints where it was taken (CPU model and its AMX / AVX512-BF16 /
AVX-512 / AVX2 flags, the GPU, torch version, threads) and what ``amp_dtype='auto'``
picks there; ``--out`` JSON carries the same under ``machine``. A speed figure
without its machine means little: bf16 is 2.9x fp32 on a CPU with AMX and slower
than fp32 on one without.
"""
import argparse
import json
import os.path as osp
import resource
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # run from a checkout

MODES = {'inference': ('inference', ), 'train': ('train', ), 'refresh': ('refresh', ),
         'both': ('inference', 'train'), 'all': ('inference', 'train', 'refresh')}


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description='Benchmark an icl_av localizer (throughput, latency, memory)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?', default=None, help='optional checkpoint (speed does not need one)')
    parser.add_argument('--device', default=None, help="'cpu' or 'cuda' (default: cuda when available)")
    parser.add_argument('--amp', action='store_true', help='also measure bf16 autocast (mixed precision)')
    parser.add_argument('--channels-last', action='store_true', help='channels_last memory format')
    parser.add_argument('--compile', action='store_true', help='torch.compile the model forward')
    parser.add_argument('--compare', action='store_true',
                        help='measure channels_last off and on (and compile off and on with --compile) and print '
                             'a side-by-side table')
    parser.add_argument('--batch-size', type=int, default=None, help='batch size (default: the config\'s)')
    parser.add_argument('--refresh-batch-size', type=int, default=None,
                        help='refresh batch size (default: the PseudoLabelHook\'s loader)')
    parser.add_argument('--num-iters', type=int, default=20, help='timed iterations per setting')
    parser.add_argument('--num-warmup', type=int, default=5, help='untimed warm-up iterations per setting')
    parser.add_argument('--num-workers', type=int, default=None, help='dataloader workers (default: the config\'s)')
    parser.add_argument('--mode', choices=sorted(MODES), default='both',
                        help='what to measure: inference, train, refresh, both (inference + train) or all')
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


def _loader_cfg(loader_cfg: dict, batch_size, num_workers) -> dict:
    """A copy of a dataloader config with the benchmark's batch size / workers."""
    loader_cfg = dict(loader_cfg)
    if batch_size is not None:
        loader_cfg['batch_size'] = batch_size
    if num_workers is not None:
        loader_cfg['num_workers'] = num_workers
    if loader_cfg.get('num_workers', 0) == 0:
        loader_cfg['persistent_workers'] = False
        loader_cfg.pop('prefetch_factor', None)
    return loader_cfg


def build_loader(cfg, split: str, batch_size, num_workers):
    """The config's ``<split>_dataloader`` with the benchmark's batch size / workers."""
    from mmengine.runner import Runner

    from icl_av.utils import UserInputError
    key = f'{split}_dataloader'
    if not cfg.get(key):
        raise UserInputError(f'config has no {key} to draw benchmark batches from')
    return Runner.build_dataloader(_loader_cfg(cfg[key], batch_size, num_workers), seed=0)


def build_refresh_loader(cfg, batch_size, num_workers):
    """The pseudo-label refresh's own loader, built as ``PseudoLabelHook`` builds it.

    The training dataset with the config's test pipeline, merged with the loader
    settings of the config's ``PseudoLabelHook`` (from ``custom_hooks``) when it has one
    (``icl_av.engine.pseudo_labels.build_refresh_dataloader``).
    """
    from icl_av.engine.pseudo_labels import build_refresh_dataloader, evaluation_pipeline_of
    from icl_av.utils import UserInputError
    if not cfg.get('train_dataloader'):
        raise UserInputError('config has no train_dataloader: the pseudo-label refresh runs over the training set')
    hook_cfg = next((dict(h) for h in cfg.get('custom_hooks') or [] if h.get('type') == 'PseudoLabelHook'), {})
    overrides = _loader_cfg(dict(hook_cfg.get('dataloader') or {}), batch_size, num_workers)
    train_cfg = _loader_cfg(cfg.train_dataloader, None, num_workers)
    return build_refresh_dataloader(train_cfg, overrides, evaluation_pipeline_of(cfg), seed=0)


def cycle(loader):
    """Iterate over a dataloader forever."""
    while True:
        yield from loader


def _timed(values, num_warmup):
    return values[num_warmup:] if len(values) > num_warmup else values


def bench_inference(model, loader, device, num_iters, num_warmup) -> dict:
    """Time ``model.test_step`` on one pre-fetched batch (data loading excluded)."""
    import torch
    batch = next(iter(loader))
    batch_size = len(batch['data_samples'])
    model.eval()
    _reset_peak(device)
    latencies = []
    with torch.no_grad():
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


def bench_refresh(model, loader, device, num_iters, num_warmup) -> dict:
    """Time the refresh's extraction pass: loader wait + ``test_step`` per batch, as the hook runs it."""
    import torch
    model.eval()
    _reset_peak(device)
    batches = cycle(loader)
    data_ms, model_ms, sizes = [], [], []
    with torch.no_grad():
        for _ in range(num_warmup + num_iters):
            _sync(device)
            t0 = time.perf_counter()
            batch = next(batches)
            t1 = time.perf_counter()
            model.test_step(batch)
            _sync(device)
            t2 = time.perf_counter()
            data_ms.append(1e3 * (t1 - t0))
            model_ms.append(1e3 * (t2 - t1))
            sizes.append(len(batch['data_samples']))
    data, step = _timed(data_ms, num_warmup), _timed(model_ms, num_warmup)
    samples = sum(_timed(sizes, num_warmup))
    total_ms = sum(data) + sum(step)
    return dict(mode='refresh', batch_size=max(sizes), samples_per_s=1e3 * samples / total_ms,
                step_ms=total_ms / len(step), data_ms=statistics.fmean(data), model_ms=statistics.fmean(step),
                **_peak_memory_mb(device))


def bench_train(model, loader, optim_wrapper, device, num_iters, num_warmup) -> dict:
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
    """One printed line per (mode, setting)."""
    head = (f"{result['mode']:<9} {setting['precision']:<4} {setting['device']:<6} bs={result['batch_size']:<4} "
            f"channels_last={'y' if setting['channels_last'] else 'n'} compile={'y' if setting['compile'] else 'n'}")
    if result['mode'] == 'inference':
        body = (f"{result['samples_per_s']:9.1f} samples/s  latency {result['latency_ms']:8.2f} ms/batch "
                f"(p50 {result['latency_p50_ms']:.2f})")
    elif result['mode'] == 'refresh':
        body = (f"{result['samples_per_s']:9.1f} samples/s  step {result['step_ms']:8.2f} ms = data "
                f"{result['data_ms']:.2f} + model {result['model_ms']:.2f}")
        if 'refresh_to_train' in result:
            body += f"  ({result['refresh_to_train']:.2f}x training)"
    else:
        body = (f"{result['samples_per_s']:9.1f} samples/s  step {result['step_ms']:8.2f} ms = data "
                f"{result['data_ms']:.2f} + fwd {result['forward_ms']:.2f} + bwd {result['backward_ms']:.2f} + "
                f"opt {result['optimizer_ms']:.2f}")
    memory = f"peak RSS {result['cpu_peak_rss_mb']:.0f} MB"
    if 'gpu_peak_mb' in result:
        memory = f"GPU peak {result['gpu_peak_mb']:.0f} MB, " + memory
    return f'{head} | {body} | {memory}'


def format_table(results) -> str:
    """Side-by-side markdown table: one row per setting, the phases as columns."""
    rows = {}
    for res in results:
        key = (res['precision'], res['channels_last'], res['compile'])
        rows.setdefault(key, {})[res['mode']] = res
    lines = ['| precision | channels_last | compile | train samples/s | data / fwd / bwd / opt ms | '
             'refresh samples/s | refresh / train | inference samples/s | latency ms/batch | peak RSS MB |',
             '|---|---|---|---|---|---|---|---|---|---|']

    def cell(phase, name, fmt='{:.1f}'):
        return fmt.format(phase[name]) if phase and name in phase else '-'

    for (precision, channels_last, compiled), phases in rows.items():
        train, refresh, infer = phases.get('train'), phases.get('refresh'), phases.get('inference')
        split = '-' if train is None else ' / '.join(
            f'{train[k]:.0f}' for k in ('data_ms', 'forward_ms', 'backward_ms', 'optimizer_ms'))
        peak = max((p['cpu_peak_rss_mb'] for p in phases.values()), default=0)
        gpu = [p['gpu_peak_mb'] for p in phases.values() if 'gpu_peak_mb' in p]
        peak_text = f'{peak:.0f}' + (f' (GPU {max(gpu):.0f})' if gpu else '')
        lines.append(f"| {precision} | {'on' if channels_last else 'off'} | {'on' if compiled else 'off'} | "
                     f"{cell(train, 'samples_per_s')} | {split} | {cell(refresh, 'samples_per_s')} | "
                     f"{cell(refresh, 'refresh_to_train', '{:.2f}x')} | {cell(infer, 'samples_per_s')} | "
                     f"{cell(infer, 'latency_ms', '{:.0f}')} | {peak_text} |")
    return '\n'.join(lines)


def build_model(cfg, checkpoint, device, channels_last: bool, compile_model: bool):
    """The localizer for one setting (channels_last via the model's own option)."""
    import torch

    from icl_av.apis import init_localizer
    cfg = cfg.copy()
    if channels_last:
        cfg.model['channels_last'] = True
        if cfg.model.get('data_preprocessor') is not None:
            cfg.model.data_preprocessor['channels_last'] = True
    model = init_localizer(cfg, checkpoint, device=device)
    if compile_model:
        model.visual_backbone = torch.compile(model.visual_backbone)
        model.audio_backbone = torch.compile(model.audio_backbone)
    return model


def build_optim_wrapper(model, cfg):
    """The config's optimizer in a plain ``OptimWrapper`` (precision is the model's ``amp_dtype``)."""
    from mmengine.optim import build_optim_wrapper as mmengine_build
    optim_cfg = dict(cfg.get('optim_wrapper') or dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)))
    optim_cfg['type'] = 'OptimWrapper'
    optim_cfg.pop('dtype', None)
    optim_cfg.pop('loss_scale', None)
    return mmengine_build(model, optim_cfg)


def main(argv=None):
    args = parse_args(argv)
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from icl_av.utils import UserInputError, check_config_path
    from icl_av.utils.machine import choose_amp_dtype, describe_machine, machine_line

    if args.num_iters < 1 or args.num_warmup < 0:
        raise UserInputError('--num-iters must be >= 1 and --num-warmup >= 0')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    cfg = Config.fromfile(check_config_path(args.config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'icl_av'))
    machine = describe_machine(device)
    print(f'machine: {machine_line(device)}', flush=True)
    print(f"amp_dtype='auto' here: {choose_amp_dtype('auto', torch.device(device).type)[1]}", flush=True)
    phases = MODES[args.mode]
    precisions = ['fp32'] + (['amp'] if args.amp else [])
    layouts = [False, True] if args.compare else [args.channels_last]
    compiles = ([False, True] if args.compare else [True]) if args.compile else [False]

    loaders = {}
    if 'inference' in phases:
        loaders['inference'] = build_loader(cfg, 'test', args.batch_size, args.num_workers)
    if 'train' in phases:
        loaders['train'] = build_loader(cfg, 'train', args.batch_size, args.num_workers)
    if 'refresh' in phases:
        loaders['refresh'] = build_refresh_loader(cfg, args.refresh_batch_size, args.num_workers)

    results = []
    for channels_last in layouts:
        for compile_model in compiles:
            model = build_model(cfg, args.checkpoint, device, channels_last, compile_model)
            optim_wrapper = build_optim_wrapper(model, cfg) if 'train' in phases else None
            for precision in precisions:
                model.amp_dtype = 'bfloat16' if precision == 'amp' else None
                setting = dict(precision=precision, device=device, channels_last=channels_last,
                               compile=compile_model)
                train_speed = None
                for phase in phases:
                    if phase == 'inference':
                        result = bench_inference(model, loaders[phase], device, args.num_iters, args.num_warmup)
                    elif phase == 'train':
                        result = bench_train(model, loaders[phase], optim_wrapper, device, args.num_iters,
                                             args.num_warmup)
                        train_speed = result['samples_per_s']
                    else:
                        result = bench_refresh(model, loaders[phase], device, args.num_iters, args.num_warmup)
                        if train_speed:
                            result['refresh_to_train'] = result['samples_per_s'] / train_speed
                    results.append({**setting, **result})
                    print(format_line(result, setting), flush=True)
    if len(results) > 1:
        print(f'Measured on: {machine_line(device)}', flush=True)
        print(format_table(results), flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(machine=machine, results=results), f, indent=1)
    return results


if __name__ == '__main__':
    from icl_av.utils import run_cli
    run_cli(main)
