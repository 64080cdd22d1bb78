"""Write the SynthAV benchmark to disk in the frames+audio layout.

Example::

    python tools/misc/make_synthav.py --out data/synthav --num-train 2000 --num-test 500 --seed 0

writes ``frames/ID.jpg``, ``audio/ID.wav`` (16-bit PCM mono), ``train.txt``, ``test.txt``,
``test_boxes.json`` (VGG-SS format, normalised boxes), ``test_masks.json`` (COCO RLE),
``test_plus_silent.csv`` (extended benchmark) and ``meta.json``; see
:mod:`icl_av.synthav.export` for the details.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from icl_av.synthav.export import export_synthav  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Generate the SynthAV benchmark (frames+audio layout).')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num-train', type=int, required=True, help='training samples (0 for none)')
    parser.add_argument('--num-test', type=int, required=True, help='sounding test samples')
    parser.add_argument('--seed', type=int, default=0, help='benchmark seed')
    parser.add_argument('--img-size', type=int, default=128, help='square frame side in pixels')
    parser.add_argument('--audio-seconds', type=float, default=1.0, help='clip length in seconds')
    parser.add_argument('--sample-rate', type=int, default=16000, help='audio rate in Hz')
    parser.add_argument('--extended-ratio', type=float, default=0.5,
                        help='fraction of non-sounding rows in test_plus_silent.csv (0 = no extended split)')
    parser.add_argument('--jpeg-quality', type=int, default=95)
    parser.add_argument('--workers', type=int, default=1, help='processes used to render')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    meta = export_synthav(args.out, args.num_train, args.num_test, seed=args.seed, img_size=args.img_size,
                          audio_seconds=args.audio_seconds, sample_rate=args.sample_rate,
                          extended_ratio=args.extended_ratio, jpeg_quality=args.jpeg_quality,
                          workers=args.workers, progress=not args.quiet)
    print(f'SynthAV written to {args.out}: {meta["num_train"]} train, {meta["num_test"]} test, '
          f'{meta["num_non_sounding"]} non-sounding extended pairs')


if __name__ == '__main__':
    main()
