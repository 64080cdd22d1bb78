"""Train and test configs over several seeds; print mean ± std tables (the README's results).

    python tools/analysis_tools/seed_sweep.py CONFIG [CONFIG ...] --seeds 0 1 2 --work-dir work_dirs/sweep \
        [--epochs 4 7 10] [--cfg-options k=v ...]

For each config and seed it runs ``tools/train.py`` (``randomness.seed=SEED``) and then
``tools/test.py`` on the last checkpoint (``--checkpoint last``) or on the one the config's
CheckpointHook selected on its validation split (``--checkpoint best``; a val split that
is not the test split), and reads the metrics MMEngine logged. Runs already finished in the work dir are reused, so an
interrupted sweep continues where it stopped. ``--epochs`` adds the validation cIoU@0.5
at those epochs (e.g. the ICL iteration boundaries) to show the gain per iteration.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COLUMNS = (('ciou@0.5', 'cIoU@0.5'), ('auc', 'AUC'), ('mean_ciou', 'mean cIoU'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Seed sweep: train + test configs, tabulate mean ± std')
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='training seeds')
    parser.add_argument('--work-dir', default='work_dirs/seed_sweep', help='where runs and results go')
    parser.add_argument('--epochs', type=int, nargs='*', default=[], help='also report val cIoU@0.5 at these epochs')
    parser.add_argument('--cfg-options', nargs='+', default=[], help='passed to both tools (key=value)')
    parser.add_argument('--checkpoint', choices=['last', 'best'], default='last',
                        help="test the last checkpoint or the best one on the config's val split")
    parser.add_argument('--shuffle-audio', action='store_true',
                        help='also test each run with tools/test.py --shuffle-audio (the audio-swap control)')
    parser.add_argument('--extra-test', nargs=2, action='append', default=[], metavar=('NAME', 'OPTIONS'),
                        help="also test each run with these --cfg-options (one quoted string), reported as NAME, "
                             "e.g. --extra-test unheard 'test_dataloader.dataset.ann_file=test_unheard.txt "
                             "test_dataloader.dataset.box_file=test_unheard.json'")
    parser.add_argument('--maps', choices=['cosine', 'posterior'], default=None,
                        help="test every run with these maps (tools/test.py --maps) instead of the config's, so "
                             'methods are compared with the same maps; the tests go to their own folders')
    parser.add_argument('--refit-prototypes', action='store_true',
                        help='with --maps posterior, fit every run\'s prototypes on its last weights '
                             '(tools/test.py --refit-prototypes), so an ICL run does not keep those of its last '
                             'refresh while the others get fresh ones')
    parser.add_argument('--out', help='write all results as JSON here (default: WORK_DIR/results.json)')
    args = parser.parse_args(argv)
    if args.refit_prototypes and args.maps != 'posterior':
        parser.error('--refit-prototypes needs --maps posterior')
    return args


def run_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def read_json_lines(path: str) -> List[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_metrics(test_dir: str) -> Optional[Dict[str, float]]:
    """The metrics a finished tools/test.py run logged (MMEngine's ``<timestamp>.json``)."""
    for path in sorted(glob.glob(osp.join(test_dir, '*', '*.json')), reverse=True):
        for record in read_json_lines(path):
            if 'loc/ciou@0.5' in record:
                return record
    return None


def val_curve(train_dir: str) -> Dict[int, float]:
    """Validation cIoU@0.5 per epoch from the training run's scalars."""
    curve = {}
    for path in sorted(glob.glob(osp.join(train_dir, '*', 'vis_data', 'scalars.json'))):
        for record in read_json_lines(path):
            if 'loc/ciou@0.5' in record:
                curve[int(record['step'])] = record['loc/ciou@0.5']
    return curve


def run(cmd: List[str], log_path: str) -> None:
    with open(log_path, 'w') as log:
        result = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise SystemExit(f'error: {" ".join(cmd)} failed (exit {result.returncode}); see {log_path}')


def checkpoint_to_test(train_dir: str, which: str) -> str:
    """The last checkpoint of a finished run, or the best one on its val split."""
    if which == 'best':
        best = sorted(glob.glob(osp.join(train_dir, 'best_*.pth')))
        if len(best) != 1:
            raise SystemExit(f'error: expected one best_*.pth in {train_dir} (does the config save_best on val?), '
                             f'found {len(best)}')
        return best[0]
    with open(osp.join(train_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def train_and_test(config: str, seed: int, root: str, cfg_options: List[str], which: str = 'last',
                   controls: Optional[Dict[str, List[str]]] = None, maps: Optional[str] = None,
                   refit_prototypes: bool = False) -> dict:
    """One seed of one config; returns its test metrics, validation curve, training minutes and controls.

    ``controls`` maps a name to extra ``tools/test.py`` arguments (e.g. ``['--shuffle-audio']``)
    for further tests of the same checkpoint; their metrics come back under ``controls``.
    ``maps`` (``cosine`` / ``posterior``) tests with those maps (``tools/test.py --maps``);
    ``refit_prototypes`` refits the posterior's prototypes on the tested weights.
    """
    train_dir = osp.join(root, run_name(config), f'seed{seed}')
    suffix = ('' if which == 'last' else '_best') + (f'_{maps}' if maps else '') + ('-refit' if refit_prototypes else '')
    options = [f'randomness.seed={seed}', *cfg_options]
    last = osp.join(train_dir, 'last_checkpoint')
    wall_file = osp.join(train_dir, 'train_wall_time.json')
    if not osp.isfile(last):
        os.makedirs(train_dir, exist_ok=True)
        start = time.perf_counter()
        run([sys.executable, 'tools/train.py', config, '--work-dir', train_dir, '--cfg-options', *options],
            osp.join(train_dir, 'train_stdout.log'))
        with open(wall_file, 'w') as f:
            json.dump(dict(seconds=time.perf_counter() - start), f)
    results = {}
    for name, extra in [('test', [])] + sorted((controls or {}).items()):
        test_dir = osp.join(train_dir, name + suffix)
        metrics = test_metrics(test_dir)
        if metrics is None:
            checkpoint = checkpoint_to_test(train_dir, which)
            os.makedirs(test_dir, exist_ok=True)
            map_args = (['--maps', maps] if maps else []) + (['--refit-prototypes'] if refit_prototypes else [])
            run([sys.executable, 'tools/test.py', config, checkpoint, '--work-dir', test_dir, *extra, *map_args,
                 '--cfg-options', *options], osp.join(test_dir, 'test_stdout.log'))
            metrics = test_metrics(test_dir)
        results[name] = metrics
    minutes = None
    if osp.isfile(wall_file):
        with open(wall_file) as f:
            minutes = json.load(f)['seconds'] / 60
    return dict(test=results.pop('test'), val_curve=val_curve(train_dir), train_minutes=minutes, controls=results)


def mean_std(values: List[float]) -> str:
    values = np.asarray(values, dtype=float)
    return f'{values.mean():.3f} ± {values.std(ddof=1) if values.size > 1 else 0.0:.3f}'


def table(results: Dict[str, List[dict]], epochs: List[int]) -> str:
    """Markdown: one row per config, test metrics (mean ± std over seeds), baselines, ceiling."""
    head = ['config', 'seeds'] + [name for _, name in COLUMNS]
    control_names = sorted({name for runs in results.values() for r in runs for name in r.get('controls', {})})
    head += [f'{name} cIoU@0.5' for name in control_names]
    head += [f'val cIoU@0.5 @ep{e}' for e in epochs] + ['train min', 'centre prior cIoU@0.5', 'perfect cIoU@0.5']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name, runs in results.items():
        row = [name, str(len(runs))]
        row += [mean_std([r['test'][f'loc/{key}'] for r in runs]) for key, _ in COLUMNS]
        for control in control_names:
            points = [r['controls'][control]['loc/ciou@0.5'] for r in runs if control in r.get('controls', {})]
            row.append(mean_std(points) if points else 'n/a')
        for epoch in epochs:
            points = [r['val_curve'][epoch] for r in runs if epoch in r['val_curve']]
            row.append(mean_std(points) if points else 'n/a')
        minutes = [r['train_minutes'] for r in runs if r.get('train_minutes') is not None]
        row.append(f'{np.mean(minutes):.1f}' if minutes else 'n/a')
        row += [f"{runs[0]['test'].get('loc/center/ciou@0.5', float('nan')):.3f}",
                f"{runs[0]['test'].get('loc/perfect/ciou@0.5', float('nan')):.3f}"]
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    args.work_dir = osp.abspath(args.work_dir)
    controls = {name: ['--cfg-options', *options.split()] for name, options in args.extra_test}
    if args.shuffle_audio:
        controls['audio-swap'] = ['--shuffle-audio', '0']
    results = {}
    for config in map(osp.abspath, args.configs):
        runs = []
        for seed in args.seeds:
            print(f'[seed_sweep] {run_name(config)} seed {seed}', flush=True)
            runs.append(dict(seed=seed, **train_and_test(config, seed, args.work_dir, args.cfg_options,
                                                         args.checkpoint, controls, args.maps,
                                                         args.refit_prototypes)))
        results[run_name(config)] = runs
    out = args.out or osp.join(args.work_dir, 'results.json')
    os.makedirs(osp.dirname(out) or '.', exist_ok=True)
    with open(out, 'w') as f:
        json.dump(results, f, indent=1)
    print(table(results, args.epochs))
    print(f'results: {out}')


if __name__ == '__main__':
    main()
