"""Localise the sound source over a video: ``python demo/demo.py VIDEO CONFIG CHECKPOINT --out out.mp4``.

Frames are taken at ``--fps`` (decord) and each is localised with the audio window
around its timestamp (the config's test pipeline decides the window length). The
heatmaps are blended over the frames and written as an mp4 (``.mp4/.avi/.mov``) or, for
an image path (``.jpg/.png``), as a single picture of the frame at ``--time`` (default:
the middle of the video). ``--dump-json FILE`` also writes, per output frame, its time,
the heatmap's peak (the hottest pixel, in the input video frame's pixels) and the model's
confidence, for post-processing. An unreadable file or a video without an audio track is
reported in one line with a non-zero exit status.

Try it on a SynthAV video with known boxes: ``python tools/misc/make_synthav_video.py --out demo.mp4``.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install

VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv')
IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Overlay sound-source heatmaps on a video')
    parser.add_argument('video', help='input video file (with an audio track)')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file saved by tools/train.py')
    parser.add_argument('--out', required=True, help='output .mp4 (overlay video) or .jpg/.png (one frame)')
    parser.add_argument('--fps', type=float, default=2.0, help='frames localised per second of video (default 2)')
    parser.add_argument('--time', type=float, default=None, help='for image output: the frame time in seconds')
    parser.add_argument('--device', default='cpu', help="'cpu' (default), 'cuda' or 'cuda:N'")
    parser.add_argument('--alpha', type=float, default=0.5, help='heatmap opacity in [0, 1]')
    parser.add_argument('--batch-size', type=int, default=8, help='frames per forward pass')
    parser.add_argument('--dump-json', default=None, metavar='FILE',
                        help='also write per output frame {time, peak_xy, confidence} as JSON')
    return parser.parse_args(argv)


def frame_times(duration: float, fps: float):
    """Sample times ``(k + 0.5) / fps`` inside ``[0, duration]`` (at least the middle one)."""
    count = int(duration * fps)
    return [(k + 0.5) / fps for k in range(count)] or [duration / 2.0]


def heatmap_peak(heatmap):
    """The hottest pixel of an ``H×W`` heatmap as ``[x, y]`` (column, row; the first one on ties)."""
    import numpy as np
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape[:2])
    return [int(col), int(row)]


def peak_record(result):
    """The JSON record of one localised frame: ``time`` (s), ``peak_xy`` (pixels), ``confidence``."""
    return dict(time=None if result['time'] is None else float(result['time']),
                peak_xy=heatmap_peak(result['heatmap']), confidence=float(result['confidence']))


def write_peaks_json(path, video, frame_size, records):
    """Write the per-frame peaks with the video's name and frame size (``[width, height]``)."""
    import mmengine
    mmengine.mkdir_or_exist(osp.dirname(osp.abspath(path)))
    with open(path, 'w') as f:
        json.dump(dict(video=osp.basename(video), frame_size=list(frame_size),
                       peak_format='[x, y] hottest pixel (column, row) in the input video frame',
                       frames=records), f, indent=1)


def render(frame_bgr, result, alpha):
    """The overlay of one result on its BGR frame, as BGR, with time and confidence written on it."""
    from icl_av.visualization.heatmap import draw_label, overlay_heatmap
    rgb = overlay_heatmap(frame_bgr[:, :, ::-1], result['heatmap'], alpha)
    rgb = draw_label(rgb, f"t={result['time']:.2f}s conf={result['confidence']:.3f}")
    return rgb[:, :, ::-1].copy()


def main(argv=None):
    args = parse_args(argv)
    import cv2
    import mmcv
    import mmengine

    from icl_av.apis import build_inference_pipeline, init_localizer, localize_arrays
    from icl_av.datasets.utils.media_io import (frame_index_at, load_video_audio, open_video, read_video_frame,
                                                     video_fps)
    from icl_av.utils import UserInputError

    ext = osp.splitext(args.out)[1].lower()
    if ext not in VIDEO_EXTS + IMAGE_EXTS:
        raise UserInputError(f'--out {args.out!r}: expected a video ({", ".join(VIDEO_EXTS)}) or an image '
                             f'({", ".join(IMAGE_EXTS)}) file name')
    if args.fps <= 0:
        raise UserInputError(f'--fps must be positive, got {args.fps}')
    if not 0.0 <= args.alpha <= 1.0:
        raise UserInputError(f'--alpha must be in [0, 1], got {args.alpha}')
    if args.dump_json is not None and osp.splitext(args.dump_json)[1].lower() != '.json':
        raise UserInputError(f'--dump-json {args.dump_json!r}: expected a .json file name')

    # Decode first: a bad video fails before the model is built.
    reader = open_video(args.video)
    fps = video_fps(reader, args.video)
    num_frames = len(reader)
    duration = num_frames / fps
    model = init_localizer(args.config, args.checkpoint, device=args.device)
    pipeline, rate = build_inference_pipeline(model.cfg)
    wave, _ = load_video_audio(args.video, rate)

    if ext in IMAGE_EXTS:
        time = duration / 2.0 if args.time is None else args.time
        if not 0 <= time <= duration:
            raise UserInputError(f'--time {time} is outside {args.video} (duration {duration:.2f} s)')
        times = [time]
    else:
        times = frame_times(duration, args.fps)

    mmengine.mkdir_or_exist(osp.dirname(osp.abspath(args.out)))
    writer = None
    records, frame_size = [], None
    progress = mmengine.ProgressBar(len(times))
    name = osp.basename(args.video)
    try:
        for start in range(0, len(times), args.batch_size):
            chunk = times[start:start + args.batch_size]
            frames = [read_video_frame(reader, args.video, frame_index_at(t, fps, num_frames)) for t in chunk]
            results = localize_arrays(model, frames, wave, rate, chunk, pipeline, name, args.batch_size)
            for frame, result in zip(frames, results):
                records.append(peak_record(result))
                frame_size = (frame.shape[1], frame.shape[0])
                drawn = render(frame, result, args.alpha)
                if ext in IMAGE_EXTS:
                    mmcv.imwrite(drawn, args.out)
                else:
                    if writer is None:
                        height, width = drawn.shape[:2]
                        writer = cv2.VideoWriter(args.out, cv2.VideoWriter_fourcc(*'mp4v'), args.fps,
                                                 (width, height))
                        if not writer.isOpened():
                            raise UserInputError(f'cannot open {args.out!r} for writing an mp4v video')
                    writer.write(drawn)
                progress.update()
    finally:
        if writer is not None:
            writer.release()
    print(f'\nwrote {args.out} ({len(times)} frame{"s" if len(times) != 1 else ""})')
    if args.dump_json is not None:
        write_peaks_json(args.dump_json, args.video, frame_size, records)
        print(f'wrote {args.dump_json} (peaks and confidences)')


if __name__ == '__main__':
    from icl_av.utils import run_cli
    run_cli(main)
