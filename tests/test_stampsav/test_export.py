"""A StampsAV build of the fake packages: determinism, the documented layout, boxes, audio, splits."""
import dataclasses
import hashlib
import json
import os

import cv2
import numpy as np
import pytest
import soundfile as sf

from icl_av.stampsav import build_stampsav, generate_scene, load_stamps, plan_scenes, split_classes
from icl_av.stampsav.backgrounds import load_background_photos
from icl_av.stampsav.composition import tight_box
from icl_av.stampsav.presets import CLIP_SECONDS, SAMPLE_RATE
from tree_digest import tree_digest

SPLITS = ('train', 'test', 'test_unheard')


def quiet(line):
    pass


@pytest.fixture(scope='module')
def built(tiny_stampsav_config, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('stampsav') / 'one_worker')
    meta = build_stampsav(tiny_stampsav_config, out, workers=1, log=quiet)
    return out, meta


def read_lines(path):
    with open(path) as handle:
        return handle.read().split()


def test_same_seed_same_bytes_whatever_the_workers(built, tiny_stampsav_config, tmp_path):
    out, _ = built
    build_stampsav(tiny_stampsav_config, str(tmp_path / 'two_workers'), workers=2, log=quiet)
    first, second = tree_digest(out), tree_digest(str(tmp_path / 'two_workers'))
    assert len(first) == 2 * 20 + 10 and first == second
    other_seed = dataclasses.replace(tiny_stampsav_config, seed=4)
    build_stampsav(other_seed, str(tmp_path / 'other_seed'), workers=1, log=quiet)
    third = tree_digest(str(tmp_path / 'other_seed'))
    assert third.keys() == first.keys()
    assert sum(third[k] != first[k] for k in first if k.startswith('frames/')) == 20


def test_every_listed_scene_has_a_frame_and_a_clip(built, tiny_stampsav_config):
    out, meta = built
    ids = {split: read_lines(os.path.join(out, f'{split}.txt')) for split in SPLITS}
    assert {s: len(v) for s, v in ids.items()} == {'train': 12, 'test': 4, 'test_unheard': 4} == meta['counts']
    all_ids = [i for split in SPLITS for i in ids[split]]
    assert sorted(os.listdir(os.path.join(out, 'frames'))) == sorted(i + '.jpg' for i in all_ids)
    assert sorted(os.listdir(os.path.join(out, 'audio'))) == sorted(i + '.wav' for i in all_ids)
    for scene_id in all_ids:
        frame = cv2.imread(os.path.join(out, 'frames', scene_id + '.jpg'))
        assert frame.shape == (64, 64, 3)
        info = sf.info(os.path.join(out, 'audio', scene_id + '.wav'))
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (
            SAMPLE_RATE, 1, int(SAMPLE_RATE * CLIP_SECONDS), 'PCM_16')


def test_box_files_and_records_agree_and_stay_in_the_frame(built):
    out, _ = built
    for split in SPLITS:
        with open(os.path.join(out, f'scenes_{split}.jsonl')) as handle:
            records = [json.loads(line) for line in handle]
        assert [r['id'] for r in records] == read_lines(os.path.join(out, f'{split}.txt'))
        for record in records:
            boxes = [record['bbox']] + [d['bbox'] for d in record['distractors']]
            for x1, y1, x2, y2 in boxes:
                assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
            assert 1 <= len(record['distractors']) <= 2
        if split != 'train':
            with open(os.path.join(out, f'{split}.json')) as handle:
                entries = json.load(handle)
            assert entries == [{'file': r['id'], 'bbox': [r['bbox']], 'class': r['cls']} for r in records]


def test_boxes_are_tight_on_the_sounding_stamp(built, tiny_stampsav_config):
    out, meta = built
    cfg = tiny_stampsav_config
    stamps = load_stamps(cfg.stamps_root, log=quiet)
    photos, names = load_background_photos(cfg.templates_root)
    classes = sorted(stamps.classes)
    plans = plan_scenes(classes, meta['heard'], meta['unheard'], cfg.seed,
                        {'train': 0, 'test': cfg.n_test, 'test_unheard': cfg.n_unheard})
    with open(os.path.join(out, 'test.json')) as handle:
        entries = json.load(handle)
    with open(os.path.join(out, 'test_unheard.json')) as handle:
        entries += json.load(handle)
    for plan, entry in zip(plans, entries):
        scene = generate_scene(plan, cfg, stamps, photos, names)
        alpha = scene.layout.layers[0][..., 3]
        box = tight_box(alpha, 0, 0)
        assert entry['file'] == plan.scene_id and entry['class'] == plan.sounding_class
        assert np.allclose(np.array(entry['bbox'][0]) * cfg.size, box, atol=1e-3)
        x1, y1, x2, y2 = box
        outside = alpha > 0
        outside[y1:y2, x1:x2] = False
        assert not outside.any()  # nothing of the stamp outside its box
        for edge in (alpha[y1, x1:x2], alpha[y2 - 1, x1:x2], alpha[y1:y2, x1], alpha[y1:y2, x2 - 1]):
            assert edge.max() > 0  # and the stamp touches every side of it
        # the frame on disk is this scene's picture (up to JPEG)
        frame = cv2.imread(os.path.join(out, 'frames', plan.scene_id + '.jpg'))[..., ::-1]
        assert np.abs(frame.astype(float) - scene.image).mean() < 8  # another scene: ~40
        clip, _ = sf.read(os.path.join(out, 'audio', plan.scene_id + '.wav'), dtype='float32')
        assert np.abs(clip - scene.clip).max() < 1e-3


def test_unheard_classes_never_appear_in_train(built):
    out, meta = built
    unheard = set(meta['unheard'])
    assert len(unheard) == 2 and not unheard & set(meta['heard'])
    with open(os.path.join(out, 'train_labels.json')) as handle:
        labels = json.load(handle)
    assert list(labels) == read_lines(os.path.join(out, 'train.txt'))
    assert not unheard & set(labels.values())
    for split in ('train', 'test'):
        with open(os.path.join(out, f'scenes_{split}.jsonl')) as handle:
            for line in handle:
                record = json.loads(line)
                assert record['cls'] not in unheard
                assert not unheard & {d['cls'] for d in record['distractors']}
    with open(os.path.join(out, 'scenes_test_unheard.jsonl')) as handle:
        assert all(json.loads(line)['cls'] in unheard for line in handle)


def test_meta_records_the_build(built, tiny_stampsav_config):
    out, meta = built
    with open(os.path.join(out, 'meta.json')) as handle:
        assert json.load(handle) == meta
    assert meta['params'] == dataclasses.asdict(tiny_stampsav_config)
    assert meta['background_photos'] == ['beach.png', 'meadow.jpg', 'reef-back.png']
    assert meta['classes']['cow'] == ['animals/cow', 'animals/cow_white']
    assert (meta['sample_rate'], meta['clip_seconds']) == (SAMPLE_RATE, CLIP_SECONDS)
    for name, md5 in meta['files_md5'].items():
        with open(os.path.join(out, name), 'rb') as handle:
            assert hashlib.md5(handle.read()).hexdigest() == md5
    heard, unheard = split_classes(sorted(meta['classes']), tiny_stampsav_config.seed, 0.3)
    assert (heard, unheard) == (meta['heard'], meta['unheard'])
