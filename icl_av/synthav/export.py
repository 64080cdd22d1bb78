"""Write SynthAV to disk in the frames+audio layout read by ``AVFramesDataset``.

Layout under ``out_dir``::

    frames/ID.jpg            the frame (BGR written by cv2, JPEG)
    audio/ID.wav             16-bit PCM mono at ``sample_rate``
    train.txt, test.txt      one ID per line
    test_boxes.json          VGG-SS style: [{"file": ID, "class": NAME, "bbox": [[x1, y1, x2, y2]]}],
                             coordinates normalised to [0, 1]
    test_masks.json          {ID: {"size": [H, W], "counts": str}}, exact visible masks (COCO RLE)
    test_plus_silent.csv     ``video,audio,label`` rows: every test ID (``sounding``) plus the
                             non-sounding extras (``non-sounding``, IDs ``synthav_testx_*``)
    meta.json                the generation parameters and the class list

The files are identical to what :class:`SynthAVDataset` synthesises in memory (up to
JPEG compression), so both paths evaluate the same benchmark.
"""
import json
import os
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from typing import Dict, List

import cv2
import soundfile as sf
from mmengine.utils import ProgressBar

from .classes import CLASS_NAMES
from .generator import generate_sample
from .scene_layout import DISTRACTOR_AREA_RANGE, MAIN_AREA_RANGE
from .sounds import SNR_DB_RANGE
from .splits import SplitEntry, build_split, video_id_for


@dataclass(frozen=True)
class _RenderJob:
    entry: SplitEntry
    out_dir: str
    seed: int
    img_size: int
    audio_seconds: float
    sample_rate: int
    jpeg_quality: int


def _jpeg_params(quality: int) -> List[int]:
    """cv2 JPEG options: the quality and, where supported, no chroma subsampling (4:4:4),
    which keeps the small, sharp-edged textures of the frames close to the in-memory ones."""
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    if hasattr(cv2, 'IMWRITE_JPEG_SAMPLING_FACTOR'):
        params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    return params


def _render_and_write(job: _RenderJob) -> Dict:
    """Generate one sample, write its frame and wav, return its annotation record."""
    entry = job.entry
    sample = generate_sample(job.seed, entry.scene_split, entry.scene_index, job.img_size,
                             job.audio_seconds, job.sample_rate, entry.variant)
    frame_path = os.path.join(job.out_dir, 'frames', f'{entry.video_id}.jpg')
    if not cv2.imwrite(frame_path, sample.img, _jpeg_params(job.jpeg_quality)):
        raise OSError(f'make_synthav: could not write the frame {frame_path}')
    sf.write(os.path.join(job.out_dir, 'audio', f'{entry.video_id}.wav'), sample.audio,
             job.sample_rate, subtype='PCM_16')
    record = dict(video_id=entry.video_id, is_sounding=sample.is_sounding, class_name=sample.class_name)
    if sample.is_sounding:
        height, width = sample.img.shape[:2]
        x1, y1, x2, y2 = (float(c) for c in sample.gt_bbox)
        record['bbox'] = [x1 / width, y1 / height, x2 / width, y2 / height]
        record['rle'] = sample.mask_rle()
    return record


def _run_jobs(jobs: List[_RenderJob], workers: int, progress: bool) -> List[Dict]:
    """Run the jobs in order (in one process pool when ``workers > 1``) with a progress bar."""
    bar = ProgressBar(len(jobs)) if progress else None
    records = []
    if workers > 1:
        method = 'fork' if 'fork' in get_all_start_methods() else 'spawn'
        with get_context(method).Pool(workers) as pool:
            for record in pool.imap(_render_and_write, jobs, chunksize=16):
                records.append(record)
                if bar is not None:
                    bar.update()
    else:
        for job in jobs:
            records.append(_render_and_write(job))
            if bar is not None:
                bar.update()
    if bar is not None:
        print(flush=True)
    return records


def export_synthav(out_dir: str, num_train: int, num_test: int, seed: int = 0, img_size: int = 128,
                   audio_seconds: float = 1.0, sample_rate: int = 16000, extended_ratio: float = 0.5,
                   jpeg_quality: int = 95, workers: int = 1, progress: bool = True) -> Dict:
    """Generate SynthAV and write the frames+audio layout (see module doc).

    Args:
        out_dir (str): Output folder (created; existing files are overwritten).
        num_train (int): Training samples (``train.txt``); 0 writes an empty list.
        num_test (int): Sounding test samples (``test.txt``, boxes, masks).
        seed (int): Benchmark seed.
        img_size (int): Frame side in pixels.
        audio_seconds (float): Clip length in seconds.
        sample_rate (int): Audio rate in Hz.
        extended_ratio (float): Fraction of non-sounding rows in ``test_plus_silent.csv``
            (in [0, 1)); 0 skips the extended split.
        jpeg_quality (int): JPEG quality of the frames.
        workers (int): Processes used to render (1 = in this process).
        progress (bool): Print a progress bar.

    Returns:
        dict: The content written to ``meta.json`` (parameters and counts).
    """
    if num_train < 0 or num_test <= 0:
        raise ValueError(f'make_synthav: need num_train >= 0 and num_test > 0, got {num_train}, {num_test}')
    if not 0.0 <= extended_ratio < 1.0:
        raise ValueError(f'make_synthav: extended_ratio must be in [0, 1), got {extended_ratio}')
    for sub in ('frames', 'audio'):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)

    def jobs_for(entries: List[SplitEntry]) -> List[_RenderJob]:
        return [_RenderJob(e, out_dir, seed, img_size, audio_seconds, sample_rate, jpeg_quality)
                for e in entries]

    train_entries = build_split('train', num_train, seed) if num_train else []
    test_entries = build_split('test', num_test, seed)
    num_extra = int(round(num_test * extended_ratio / (1.0 - extended_ratio)))
    extra_entries = [SplitEntry(video_id_for('test_extended', k), 'test_extended', k,
                                'offscreen' if k % 2 == 0 else 'silent') for k in range(num_extra)]

    if progress:
        print(f'make_synthav: {len(train_entries)} train, {len(test_entries)} test and {len(extra_entries)} '
              f'non-sounding samples -> {out_dir}', flush=True)
    records = _run_jobs(jobs_for(train_entries + test_entries + extra_entries), workers, progress)
    test_records = records[len(train_entries):len(train_entries) + len(test_entries)]
    extra_records = records[len(train_entries) + len(test_entries):]

    _write_lines(os.path.join(out_dir, 'train.txt'), [e.video_id for e in train_entries])
    _write_lines(os.path.join(out_dir, 'test.txt'), [e.video_id for e in test_entries])
    boxes = [{'file': r['video_id'], 'class': r['class_name'], 'bbox': [r['bbox']]} for r in test_records]
    masks = {r['video_id']: r['rle'] for r in test_records}
    _write_json(os.path.join(out_dir, 'test_boxes.json'), boxes)
    _write_json(os.path.join(out_dir, 'test_masks.json'), masks)
    if extra_records:
        rows = ['video,audio,label']
        rows += [f'{r["video_id"]},{r["video_id"]},sounding' for r in test_records]
        rows += [f'{r["video_id"]},{r["video_id"]},non-sounding' for r in extra_records]
        _write_lines(os.path.join(out_dir, 'test_plus_silent.csv'), rows)

    meta = dict(dataset='SynthAV', seed=seed, img_size=img_size, audio_seconds=audio_seconds,
                sample_rate=sample_rate, num_train=num_train, num_test=num_test,
                num_non_sounding=num_extra, extended_ratio=extended_ratio, classes=list(CLASS_NAMES),
                sounding_box_area_range=list(MAIN_AREA_RANGE),
                distractor_box_area_range=list(DISTRACTOR_AREA_RANGE), snr_db_range=list(SNR_DB_RANGE))
    _write_json(os.path.join(out_dir, 'meta.json'), meta)
    return meta


def _write_lines(path: str, lines: List[str]) -> None:
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(''.join(f'{line}\n' for line in lines))


def _write_json(path: str, obj: object) -> None:
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(obj, handle)
