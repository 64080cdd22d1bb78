"""Writing StampsAV to disk in the frames+audio layout of icl_av's ``custom_frames`` datasets.

Layout under ``out_dir``::

    frames/ID.jpg                    size×size frames (JPEG, ``jpeg_quality``)
    audio/ID.wav                     3 s, 16 kHz, mono, 16-bit PCM
    train.txt test.txt test_unheard.txt        one scene ID per line
    test.json test_unheard.json      sounding boxes in the VGG-SS json format:
                                     [{"file": ID, "bbox": [[x1, y1, x2, y2]], "class": NAME}], normalised
    meta.json                        parameters, classes, heard / unheard classes, dropped stamps,
                                     background photos, counts, box-size statistics, md5 of the lists
    train_labels.json                {ID: class} of the training scenes
    scenes_{train,test,test_unheard}.jsonl     every random choice per scene

Training is unsupervised: ``train.txt``, frames and audio. ``train_labels.json`` and
``scenes_*.jsonl`` are for analysing results only. Scenes are rendered by ``workers``
processes; each scene has its own generator, so the files do not depend on ``workers``.
"""
import hashlib
import json
import os
import os.path as osp
import time
from multiprocessing import get_all_start_methods, get_context
from typing import Callable, Dict, List, Optional, Sequence

import cv2
import numpy as np
import soundfile as sf

from .backgrounds import EXCLUDED_PHOTOS, load_background_photos
from .presets import ALPHA_CUT, CLIP_SECONDS, DATA_VERSION, SAMPLE_RATE, StampsAVConfig
from .scene import generate_scene
from .splits import SPLIT_CODES, ScenePlan, plan_scenes, split_classes
from .stamps import StampSet, load_stamps

#: Files whose md5 ``meta.json`` records.
LISTED_FILES = ('train.txt', 'test.txt', 'test_unheard.txt', 'test.json', 'test_unheard.json',
                'scenes_train.jsonl', 'scenes_test.jsonl', 'scenes_test_unheard.jsonl')
PROGRESS_EVERY = 500

# What a rendering process needs besides the plan: set once per process by _init_worker.
_WORKER: Dict = {}


def _init_worker(cfg: StampsAVConfig, out_dir: str, stamps: StampSet, photos: Sequence[np.ndarray],
                 photo_names: Sequence[str]) -> None:
    _WORKER.update(cfg=cfg, out_dir=out_dir, stamps=stamps, photos=photos, photo_names=photo_names)


def _render_and_write(plan: ScenePlan) -> Dict:
    """Generate one scene, write its frame and wav, return its record."""
    cfg, out_dir = _WORKER['cfg'], _WORKER['out_dir']
    scene = generate_scene(plan, cfg, _WORKER['stamps'], _WORKER['photos'], _WORKER['photo_names'])
    frame_path = osp.join(out_dir, 'frames', plan.scene_id + '.jpg')
    if not cv2.imwrite(frame_path, scene.image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality]):
        raise OSError(f'StampsAV: could not write the frame {frame_path}')
    sf.write(osp.join(out_dir, 'audio', plan.scene_id + '.wav'), scene.clip, SAMPLE_RATE, subtype='PCM_16')
    return scene.record


def _render_all(plans: List[ScenePlan], workers: int, state: tuple, log: Callable[[str], None]) -> List[Dict]:
    """Records of all ``plans`` in order, rendered by ``workers`` processes (1: this one)."""
    start = time.time()

    def progress(done: int) -> None:
        if done % PROGRESS_EVERY == 0:
            log(f'  {done}/{len(plans)} scenes  {time.time() - start:.0f}s')

    records = []
    if workers > 1:
        method = 'fork' if 'fork' in get_all_start_methods() else 'spawn'
        with get_context(method).Pool(workers, initializer=_init_worker, initargs=state) as pool:
            for record in pool.imap(_render_and_write, plans, chunksize=16):
                records.append(record)
                progress(len(records))
    else:
        _init_worker(*state)
        try:
            for plan in plans:
                records.append(_render_and_write(plan))
                progress(len(records))
        finally:
            _WORKER.clear()
    return records


def _write_text(path: str, text: str) -> None:
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)


def _write_json(path: str, obj: object, indent: Optional[int] = None) -> None:
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(obj, handle, indent=indent)


def _md5(path: str) -> str:
    with open(path, 'rb') as handle:
        return hashlib.md5(handle.read()).hexdigest()


def _write_split_files(out_dir: str, by_split: Dict[str, List[Dict]]) -> None:
    """The split lists, the per-scene records, the box files and the training labels."""
    for split, records in by_split.items():
        _write_text(osp.join(out_dir, f'{split}.txt'), ''.join(r['id'] + '\n' for r in records))
        _write_text(osp.join(out_dir, f'scenes_{split}.jsonl'), ''.join(json.dumps(r) + '\n' for r in records))
        if split != 'train':
            _write_json(osp.join(out_dir, f'{split}.json'),
                        [{'file': r['id'], 'bbox': [r['bbox']], 'class': r['cls']} for r in records])
    _write_json(osp.join(out_dir, 'train_labels.json'), {r['id']: r['cls'] for r in by_split['train']}, indent=0)


def _box_statistics(by_split: Dict[str, List[Dict]]) -> Dict:
    """Mean and largest sounding-box area (fraction of the frame) and the share >= 0.25, per split."""
    areas = {split: [(r['bbox'][2] - r['bbox'][0]) * (r['bbox'][3] - r['bbox'][1]) for r in records]
             for split, records in by_split.items()}
    return {split: dict(mean=float(np.mean(a)), max=float(np.max(a)), frac_ge_0_25=float(np.mean(np.array(a) >= 0.25)))
            for split, a in areas.items() if a}


def build_stampsav(cfg: StampsAVConfig, out_dir: str, workers: int = 2,
                   log: Callable[[str], None] = print) -> Dict:
    """Generate StampsAV for ``cfg`` and write it under ``out_dir`` (see module doc).

    Args:
        cfg (StampsAVConfig): The build's parameters (see :func:`~icl_av.stampsav.presets.make_config`).
        out_dir (str): Output folder (created; files of the same names are overwritten).
        workers (int): Rendering processes (the files do not depend on it).
        log (callable): Receives progress lines.

    Returns:
        dict: The content of ``meta.json``.
    """
    start = time.time()
    stamps = load_stamps(cfg.stamps_root, log=log)
    photos, photo_names = load_background_photos(cfg.templates_root)
    log(f'StampsAV: {len(photos)} background photos' + (f' from {cfg.templates_root}' if cfg.templates_root else ''))
    classes = sorted(stamps.classes)
    heard, unheard = split_classes(classes, cfg.seed, cfg.unheard_frac)
    counts = {'train': cfg.n_train, 'test': cfg.n_test, 'test_unheard': cfg.n_unheard}
    plans = plan_scenes(classes, heard, unheard, cfg.seed, counts)

    for folder in ('frames', 'audio'):
        os.makedirs(osp.join(out_dir, folder), exist_ok=True)
    records = _render_all(plans, max(1, int(workers)), (cfg, out_dir, stamps, photos, photo_names), log)

    by_split = {split: [r for r in records if r['split'] == split] for split in SPLIT_CODES}
    _write_split_files(out_dir, by_split)
    meta = dict(
        version=DATA_VERSION, seed=cfg.seed, preset=cfg.preset, params=cfg.as_params(),
        sample_rate=SAMPLE_RATE, clip_seconds=CLIP_SECONDS, alpha_cut=ALPHA_CUT,
        classes={g: [stamps.stamps[i].rel for i in stamps.classes[g]] for g in classes},
        heard=heard, unheard=unheard,
        dropped=[dict(stamp=rel, reason=reason) for rel, reason in stamps.dropped],
        background_photos=list(photo_names), excluded_photos=dict(EXCLUDED_PHOTOS),
        counts={split: len(records) for split, records in by_split.items()},
        gt_area_fraction=_box_statistics(by_split),
        files_md5={name: _md5(osp.join(out_dir, name)) for name in LISTED_FILES},
    )
    _write_json(osp.join(out_dir, 'meta.json'), meta, indent=1)
    log(f'StampsAV: {meta["counts"]} scenes in {time.time() - start:.1f}s -> {out_dir}')
    log(f'StampsAV: {len(heard)} heard classes, {len(unheard)} unheard: {unheard}')
    log('StampsAV: sounding-box area (fraction of the frame): ' + json.dumps(meta['gt_area_fraction']))
    return meta
