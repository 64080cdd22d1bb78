"""Where the maps' peaks land: the sounding object, a silent distractor, both or neither.

    python tools/test.py CONFIG CKPT --out work_dirs/peaks/own.json [--shuffle-audio]
    python tools/analysis_tools/peak_placement.py data/stamps_av_dev/scenes_test.jsonl \
        work_dirs/peaks/own.json [more results.json ...]

Reads the per-sample results ``tools/test.py --out`` writes (each record's ``peak``) and the
StampsAV scene file of the same split (each scene's sounding box and distractor boxes), and
prints one row per results file.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from icl_av.evaluation.peak_placement import PLACES, peak_placement  # noqa: E402
from icl_av.utils import UserInputError, run_cli  # noqa: E402


def read_scenes(path: str) -> dict:
    """``id`` -> scene of a StampsAV ``scenes_<split>.jsonl`` file."""
    if not osp.isfile(path):
        raise UserInputError(f'scene file not found: {path!r} (expected a StampsAV scenes_<split>.jsonl)')
    scenes = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    scene = json.loads(line)
                    scenes[scene['id']] = scene
                except (ValueError, KeyError) as error:
                    raise UserInputError(f'{path}:{number}: not a scene row with an "id" ({error})')
    return scenes


def read_records(path: str) -> list:
    """The per-sample records of a ``tools/test.py --out`` JSON file."""
    if not osp.isfile(path):
        raise UserInputError(f'results file not found: {path!r} (write one with tools/test.py --out)')
    with open(path) as f:
        payload = json.load(f)
    records = payload.get('samples') if isinstance(payload, dict) else None
    if not isinstance(records, list):
        raise UserInputError(f'{path}: no per-sample "samples" list (expected tools/test.py --out output)')
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description='Where the maps\' peaks land among the scene\'s objects')
    parser.add_argument('scenes', help='StampsAV scenes_<split>.jsonl of the tested split')
    parser.add_argument('results', nargs='+', help='tools/test.py --out JSON files')
    args = parser.parse_args(argv)
    scenes = read_scenes(args.scenes)
    print('| results | ' + ' | '.join(PLACES) + ' | samples |')
    print('|---' * (len(PLACES) + 2) + '|')
    for path in args.results:
        try:
            shares = peak_placement(read_records(path), scenes)
        except KeyError as error:
            raise UserInputError(f'{path}: {error.args[0]}')
        cells = ' | '.join(f'{100 * shares[place]:.0f} %' for place in PLACES)
        print(f'| {path} | {cells} | {shares["num_samples"]} |')


if __name__ == '__main__':
    run_cli(main)
