"""Convert a folder of raw videos into the frames + audio layout.

Example::

    python tools/misc/extract_frames_audio.py data/vggsound/videos data/vggsound --workers 4

writes ``data/vggsound/frames/ID.jpg`` (centre frame; ``--fps 1`` writes ``frames/ID/*.jpg``
instead) and ``data/vggsound/audio/ID.wav`` (mono 16-bit PCM at ``--sample-rate``; channels
averaged, never clipped: audio that decodes beyond full scale is scaled down to fit and listed).
Resumable: IDs whose outputs already exist are skipped, so re-running after an
interruption continues where it stopped. Videos that cannot be decoded (no audio
track, truncated file, ...) are listed at the end and the exit code is 1.
"""
import argparse
import math
import os
import sys
from functools import partial
from multiprocessing import Pool

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

from icl_av.datasets.annotations import read_split_list  # noqa: E402
from icl_av.datasets.video_extraction import extract_video, find_videos  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Extract frames and audio from a folder of videos.')
    parser.add_argument('videos_dir', help='folder of ID.mp4|mkv|webm|avi|mov')
    parser.add_argument('out_root', help='dataset root to write frames/ and audio/ into')
    parser.add_argument('--list', help='only the IDs of this split list (txt/csv, first column)')
    parser.add_argument('--sample-rate', type=int, default=16000, help='audio rate in Hz (default 16000)')
    parser.add_argument('--fps', type=float, default=None,
                        help='sample frames at this rate into frames/ID/ (default: centre frame only)')
    parser.add_argument('--jpeg-quality', type=int, default=95)
    parser.add_argument('--workers', type=int, default=1, help='processes (default 1)')
    parser.add_argument('--overwrite', action='store_true', help='re-extract finished IDs')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


class _NoBar:
    """Stand-in when tqdm is not installed (or --quiet)."""

    def update(self, n=1):
        pass

    def close(self):
        pass


def progress_bar(total: int, quiet: bool):
    """A tqdm progress bar, or a silent stand-in."""
    if quiet:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, unit='video')


def main(argv=None):
    args = parse_args(argv)
    if not os.path.isdir(args.videos_dir):
        sys.exit(f'error: videos folder {args.videos_dir} does not exist')
    ids = [entry.video_id for entry in read_split_list(args.list)] if args.list else None
    videos = find_videos(args.videos_dir, ids)
    if ids is not None and len(videos) < len(ids):
        print(f'warning: {len(ids) - len(videos)} IDs of {args.list} have no video in {args.videos_dir}')
    if not videos:
        sys.exit(f'error: no videos found in {args.videos_dir}')
    work = partial(_extract_pair, out_root=args.out_root, sample_rate=args.sample_rate, fps=args.fps,
                   jpeg_quality=args.jpeg_quality, overwrite=args.overwrite)
    items = list(videos.items())
    counts, failures, scaled = {'done': 0, 'skipped': 0, 'failed': 0}, [], []
    bar = progress_bar(len(items), args.quiet)
    if args.workers > 1:
        with Pool(args.workers) as pool:
            results = pool.imap_unordered(work, items, chunksize=4)
            for result in results:
                counts[result.status] += 1
                failures += [result] if result.status == 'failed' else []
                scaled += [result] if result.audio_gain < 1 else []
                bar.update()
    else:
        for item in items:
            result = work(item)
            counts[result.status] += 1
            failures += [result] if result.status == 'failed' else []
            scaled += [result] if result.audio_gain < 1 else []
            bar.update()
    bar.close()
    print(f'{counts["done"]} extracted, {counts["skipped"]} already done, {counts["failed"]} failed '
          f'-> {args.out_root}')
    if scaled:
        print(f'{len(scaled)} audio tracks decoded beyond full scale were scaled down to fit 16-bit PCM '
              '(not clipped):')
        for result in scaled[:20]:
            print(f'  scaled {result.video_id} by {20 * math.log10(result.audio_gain):.2f} dB')
    for failure in failures[:20]:
        print(f'  failed {failure.video_id}: {failure.reason}')
    if len(failures) > 20:
        print(f'  ... and {len(failures) - 20} more')
    return 1 if failures else 0


def _extract_pair(item, **kwargs):
    video_id, path = item
    return extract_video(path, video_id, **kwargs)


if __name__ == '__main__':
    sys.exit(main())
