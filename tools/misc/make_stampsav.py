"""Build the StampsAV benchmark from the two unpacked Debian Tux Paint packages.

Example (the development set; the packages unpacked into data/tux/x as docs/stampsav.md shows)::

    python tools/misc/make_stampsav.py --preset mini_big --seed 1 --out data/stamps_av_dev

writes ``frames/ID.jpg``, ``audio/ID.wav``, the split lists ``train.txt``, ``test.txt``,
``test_unheard.txt``, the boxes ``test.json`` and ``test_unheard.json``, ``meta.json``,
``train_labels.json`` and ``scenes_*.jsonl``; see :mod:`icl_av.stampsav.export`. The output
is the same for a seed whatever ``--workers``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from icl_av.stampsav import DEFAULT_PRESET, PRESETS, build_stampsav, make_config  # noqa: E402
from icl_av.stampsav.tux_paint import DEFAULT_STAMPS_ROOT, DEFAULT_TEMPLATES_ROOT  # noqa: E402
from icl_av.utils import UserInputError, run_cli  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Build the StampsAV benchmark (frames+audio layout).')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--preset', choices=sorted(PRESETS), default=DEFAULT_PRESET,
                        help=f'sizes and object scales (default {DEFAULT_PRESET}, the development set)')
    parser.add_argument('--seed', type=int, default=1, help='benchmark seed (default 1, the development set)')
    parser.add_argument('--stamps-root', default=DEFAULT_STAMPS_ROOT,
                        help='usr/share/tuxpaint/stamps of the unpacked tuxpaint-stamps-default package '
                             f'(default {DEFAULT_STAMPS_ROOT})')
    parser.add_argument('--templates-root', default=DEFAULT_TEMPLATES_ROOT,
                        help='usr/share/tuxpaint of the unpacked tuxpaint-data package (holds templates/ and '
                             f"starters/; default {DEFAULT_TEMPLATES_ROOT}); '' for procedural backgrounds only")
    parser.add_argument('--workers', type=int, default=2, help='rendering processes (default 2)')
    preset = parser.add_argument_group('overrides of the preset')
    preset.add_argument('--size', type=int, help='frame side in pixels (presets: 224)')
    preset.add_argument('--n-train', type=int, help='training scenes')
    preset.add_argument('--n-test', type=int, help='test scenes (heard classes)')
    preset.add_argument('--n-unheard', type=int, help='test scenes of the unheard classes')
    preset.add_argument('--scale-min', type=float, help='smallest stamp long side / frame side')
    preset.add_argument('--scale-max', type=float, help='largest stamp long side / frame side')
    preset.add_argument('--max-trunc', type=float,
                        help='largest fraction of a stamp outside the frame (0: fully inside)')
    scene = parser.add_argument_group('scene parameters')
    scene.add_argument('--unheard-frac', type=float, default=0.2, help='fraction of classes kept out of training')
    scene.add_argument('--min-distractors', type=int, default=1)
    scene.add_argument('--max-distractors', type=int, default=2)
    scene.add_argument('--max-iou', type=float, default=0.30, help='largest box IoU between any two stamps')
    scene.add_argument('--min-visible', type=float, default=0.6,
                       help='smallest visible fraction of every stamp (after truncation and occlusion)')
    scene.add_argument('--p-photo', type=float, default=0.5, help='probability of a photo background')
    scene.add_argument('--pixel-noise', type=float, default=0.01, help='std of the pixel noise (0-1 scale)')
    scene.add_argument('--jpeg-quality', type=int, default=95)
    scene.add_argument('--snr-min', type=float, default=10.0, help='lowest audio SNR (dB)')
    scene.add_argument('--snr-max', type=float, default=30.0, help='highest audio SNR (dB)')
    scene.add_argument('--gain-db', type=float, default=6.0, help='random gain, +- dB around --base-rms')
    scene.add_argument('--base-rms', type=float, default=0.05, help='RMS level of the sound before the gain')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.workers < 1:
        raise UserInputError(f'--workers must be >= 1, got {args.workers}')
    options = {k: v for k, v in vars(args).items() if k not in ('out', 'workers', 'preset', 'seed', 'stamps_root',
                                                                  'templates_root')}
    cfg = make_config(args.preset, args.seed, stamps_root=args.stamps_root, templates_root=args.templates_root,
                      **options)
    build_stampsav(cfg, args.out, workers=args.workers)


if __name__ == '__main__':
    run_cli(main)
