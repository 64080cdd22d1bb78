"""A training run's learning curve: the validation score against epochs and wall-clock minutes.

    python tools/analysis_tools/learning_curve.py work_dirs/icl_r18_1xb32-28e_stampsav-dev \
        [more work dirs ...] [--metric loc/ciou@0.5] [--budget-minutes 40]

Reads the text log MMEngine writes in each work dir (``<work_dir>/<timestamp>/<timestamp>.log``,
the newest one) and prints, per validation, the epoch, the wall-clock minutes since the run
started (training, pseudo-label refreshes and validations included, as the log's timestamps
say) and the score. With ``--budget-minutes`` it also says the best and the last score reached
within that budget. The minutes are this machine's, under whatever else ran on its cores.
"""
import argparse
import datetime
import glob
import os.path as osp
import re
import sys
from typing import List, NamedTuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from icl_av.utils import UserInputError, run_cli  # noqa: E402

_STAMP = re.compile(r'^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) ')
_VAL = re.compile(r'Epoch\(val\) \[(\d+)\]')


class CurvePoint(NamedTuple):
    epoch: int
    minutes: float
    score: float


def newest_log(work_dir: str) -> str:
    """The newest ``<timestamp>/<timestamp>.log`` of an MMEngine work dir (or the file itself)."""
    if osp.isfile(work_dir):
        return work_dir
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    if not logs:
        raise UserInputError(f'{work_dir}: no MMEngine log (<timestamp>/<timestamp>.log) found')
    return logs[-1]


def read_curve(log_path: str, metric: str = 'loc/ciou@0.5') -> List[CurvePoint]:
    """The validation points of one log, minutes counted from its first timestamped line."""
    value = re.compile(re.escape(metric) + r': ([-+0-9.eE]+|nan)')
    start, points = None, []
    with open(log_path, errors='replace') as f:
        for line in f:
            stamp = _STAMP.match(line)
            if not stamp:
                continue
            when = datetime.datetime.strptime(stamp.group(1), '%Y/%m/%d %H:%M:%S')
            start = start or when
            val, score = _VAL.search(line), value.search(line)
            if val and score:
                points.append(CurvePoint(int(val.group(1)), (when - start).total_seconds() / 60, float(score.group(1))))
    if not points:
        raise UserInputError(f'{log_path}: no validation line with {metric!r} (was the run validated?)')
    return points


def within_budget(points: List[CurvePoint], minutes: float):
    """The best and the last point reached within ``minutes`` (None where none was)."""
    inside = [p for p in points if p.minutes <= minutes]
    if not inside:
        return None, None
    return max(inside, key=lambda p: p.score), inside[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description='Validation score against epochs and wall-clock minutes')
    parser.add_argument('work_dirs', nargs='+', help='MMEngine work dirs (or their .log files)')
    parser.add_argument('--metric', default='loc/ciou@0.5', help='the logged validation metric')
    parser.add_argument('--budget-minutes', type=float, default=None,
                        help='also print the best and last score within this many minutes')
    args = parser.parse_args(argv)
    print(f'| run | epoch | wall minutes | {args.metric} |')
    print('|---|---|---|---|')
    curves = {}
    for work_dir in args.work_dirs:
        curves[work_dir] = read_curve(newest_log(work_dir), args.metric)
        for point in curves[work_dir]:
            print(f'| {work_dir} | {point.epoch} | {point.minutes:.1f} | {point.score:.4f} |')
    if args.budget_minutes is not None:
        print(f'\nwithin {args.budget_minutes:g} minutes:')
        for work_dir, points in curves.items():
            best, last = within_budget(points, args.budget_minutes)
            if best is None:
                print(f'  {work_dir}: no validation within the budget')
            else:
                print(f'  {work_dir}: best {best.score:.4f} (epoch {best.epoch}, {best.minutes:.1f} min), '
                      f'last {last.score:.4f} (epoch {last.epoch}, {last.minutes:.1f} min)')


if __name__ == '__main__':
    run_cli(main)
