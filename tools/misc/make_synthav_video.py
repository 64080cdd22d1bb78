"""Write a SynthAV scene sequence as an mp4 with sound, to try ``demo/demo.py`` without own footage.

Example::

    python tools/misc/make_synthav_video.py --out demo.mp4 --num-scenes 5 --seconds-per-scene 2 \\
        --img-size 64 --seed 0

writes ``demo.mp4`` (each scene shown for ``--seconds-per-scene`` seconds with its own
sound; H.264 + AAC mono) and ``demo.json`` (``--json`` to choose): the sounding object's
box per scene and per second, in pixels of the video frame. The scenes come from the
``--split`` scene split (default ``test``, disjoint from the scenes models train on).
Needs PyAV (``pip install av``).
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from icl_av.synthav.video import compose_synthav_video, write_synthav_mp4  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Write SynthAV scenes as an mp4 with audio plus their boxes.')
    parser.add_argument('--out', required=True, help='output .mp4 file')
    parser.add_argument('--json', default=None, help='ground-truth JSON (default: --out with .json)')
    parser.add_argument('--num-scenes', type=int, default=5, help='number of scenes (default 5)')
    parser.add_argument('--seconds-per-scene', type=float, default=2.0, help='seconds each scene plays (default 2)')
    parser.add_argument('--fps', type=int, default=10, help='video frame rate (default 10)')
    parser.add_argument('--img-size', type=int, default=64, help='square frame side in pixels, even (default 64)')
    parser.add_argument('--seed', type=int, default=0, help='SynthAV seed (default 0)')
    parser.add_argument('--split', default='test', help="SynthAV scene split (default 'test')")
    parser.add_argument('--first-index', type=int, default=0, help='index of the first scene in the split')
    parser.add_argument('--sample-rate', type=int, default=16000, help='audio rate in Hz (default 16000)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from icl_av.utils import UserInputError
    if osp.splitext(args.out)[1].lower() != '.mp4':
        raise UserInputError(f'--out {args.out!r}: expected an .mp4 file name')
    if args.num_scenes <= 0:
        raise UserInputError(f'--num-scenes must be positive, got {args.num_scenes}')
    try:
        video = compose_synthav_video(args.num_scenes, seconds_per_scene=args.seconds_per_scene, fps=args.fps,
                                      img_size=args.img_size, seed=args.seed, split=args.split,
                                      first_index=args.first_index, sample_rate=args.sample_rate)
    except ValueError as error:
        raise UserInputError(str(error)) from error
    try:
        write_synthav_mp4(video, args.out)
    except ImportError as error:
        raise UserInputError(str(error)) from error
    json_path = args.json or osp.splitext(args.out)[0] + '.json'
    annotation = video.annotation()
    annotation['video'] = osp.basename(args.out)
    os.makedirs(osp.dirname(osp.abspath(json_path)), exist_ok=True)
    with open(json_path, 'w') as f:
        json.dump(annotation, f, indent=1)
    print(f'wrote {args.out} ({len(video.scenes)} scenes, {video.duration:.1f} s, {len(video.frames)} frames) '
          f'and {json_path}')


if __name__ == '__main__':
    from icl_av.utils import run_cli
    run_cli(main)
