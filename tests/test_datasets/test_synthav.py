"""SynthAV: determinism, geometry of the ground truth, sounds, splits and the dataset contract."""
import os
from itertools import combinations

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from icl_av.datasets import SynthAVDataset
from icl_av.synthav import (CLASS_NAMES, DISTRACTOR_AREA_RANGE, MAIN_AREA_RANGE, NUM_CLASSES,
                                     SNR_DB_RANGE, SYNTHAV_CLASSES, build_split, generate_sample)
from icl_av.synthav.sounds import (background_noise, mix_at_snr, render_class_sound,
                                            synthesize_sounding_audio)
from icl_av.registry import DATASETS

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SR = 16000


def box_mask(box, size):
    """Binary H×W map of an integer pixel box (right/bottom exclusive)."""
    x1, y1, x2, y2 = (int(round(c)) for c in box)
    mask = np.zeros((size, size), dtype=bool)
    mask[y1:y2, x1:x2] = True
    return mask


def ciou(pred: np.ndarray, gt: np.ndarray) -> float:
    """The protocol's cIoU = sum(P*G) / (sum(G) + sum(P*[G==0])) for binary P and G."""
    pred, gt = pred.astype(bool), gt.astype(bool)
    return float((pred & gt).sum() / (gt.sum() + (pred & ~gt).sum()))


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_sample_and_different_index_differs():
    first = generate_sample(3, 'train', 7, img_size=64)
    again = generate_sample(3, 'train', 7, img_size=64)
    assert np.array_equal(first.img, again.img)
    assert np.array_equal(first.audio, again.audio)
    assert np.array_equal(first.gt_bbox, again.gt_bbox)
    assert np.array_equal(first.gt_mask, again.gt_mask)
    other_index = generate_sample(3, 'train', 8, img_size=64)
    other_seed = generate_sample(4, 'train', 7, img_size=64)
    for other in (other_index, other_seed):
        assert not np.array_equal(first.img, other.img)
        assert not np.array_equal(first.audio, other.audio)


def test_audio_length_does_not_change_the_picture():
    short = generate_sample(0, 'test', 5, img_size=64, audio_seconds=0.5)
    long = generate_sample(0, 'test', 5, img_size=64, audio_seconds=1.0)
    assert np.array_equal(short.img, long.img)
    assert short.audio.shape == (8000,) and long.audio.shape == (16000,)


def test_train_val_and_test_share_no_scene():
    scenes = {split: {generate_sample(0, split, i, img_size=32).img.tobytes() for i in range(30)}
              for split in ('train', 'val', 'test')}
    ids = {split: {e.video_id for e in build_split(split, 30)} for split in ('train', 'val', 'test')}
    for a, b in (('train', 'val'), ('train', 'test'), ('val', 'test')):
        assert not scenes[a] & scenes[b], (a, b)
        assert not ids[a] & ids[b], (a, b)


# --------------------------------------------------------------------------- ground truth
@pytest.mark.parametrize('img_size', [128, 48])
def test_box_mask_and_distractor_ground_truth(img_size):
    lo, hi = MAIN_AREA_RANGE
    for index in range(60):
        sample = generate_sample(1, 'test', index, img_size=img_size)
        assert sample.img.shape == (img_size, img_size, 3) and sample.img.dtype == np.uint8
        assert sample.is_sounding and sample.class_name == CLASS_NAMES[sample.class_id]
        x1, y1, x2, y2 = sample.gt_bbox
        assert sample.gt_bbox.dtype == np.float32
        assert 0 <= x1 < x2 <= img_size and 0 <= y1 < y2 <= img_size
        area_fraction = (x2 - x1) * (y2 - y1) / img_size ** 2
        assert lo <= area_fraction <= hi
        # the exact mask lies inside its box, touches it, and keeps most of the object
        mask = sample.gt_mask
        assert mask.shape == (img_size, img_size) and mask.dtype == bool
        inside = box_mask(sample.gt_bbox, img_size)
        assert not (mask & ~inside).any()
        assert mask.sum() >= 0.25 * inside.sum()
        rle = sample.mask_rle()
        assert rle['size'] == [img_size, img_size] and isinstance(rle['counts'], str)
        assert np.array_equal(mask_utils.decode(rle).astype(bool), mask)
        assert int(mask_utils.area(rle)) == int(mask.sum())
        # distractors: other classes, all different, at most three, smaller or equal boxes
        distractors = sample.distractor_class_ids.tolist()
        assert len(distractors) <= 3 and len(set(distractors)) == len(distractors)
        assert sample.class_id not in distractors
        assert sample.distractor_bboxes.shape == (len(distractors), 4)
        for box in sample.distractor_bboxes:
            assert 0 <= box[0] < box[2] <= img_size and 0 <= box[1] < box[3] <= img_size
            fraction = (box[2] - box[0]) * (box[3] - box[1]) / img_size ** 2
            assert DISTRACTOR_AREA_RANGE[0] <= fraction <= max(MAIN_AREA_RANGE[1], DISTRACTOR_AREA_RANGE[1])


def test_scenes_vary_classes_positions_and_distractor_counts():
    samples = [generate_sample(2, 'train', i, img_size=64) for i in range(80)]
    assert {s.class_id for s in samples} == set(range(NUM_CLASSES))
    assert {len(s.distractor_class_ids) for s in samples} == {0, 1, 2, 3}
    centres = np.array([[(s.gt_bbox[0] + s.gt_bbox[2]) / 2, (s.gt_bbox[1] + s.gt_bbox[3]) / 2] for s in samples])
    touching_border = [s.gt_bbox[0] == 0 or s.gt_bbox[1] == 0 or s.gt_bbox[2] == 64 or s.gt_bbox[3] == 64
                       for s in samples]
    assert np.mean(touching_border) > 0.3  # objects are cut by the frame, not kept central
    assert centres[:, 0].std() > 6 and centres[:, 1].std() > 6
    # size does not give the sounding object away: often a distractor is as large or larger
    def box_area(box):
        return (box[2] - box[0]) * (box[3] - box[1])
    largest_is_sounding = [all(box_area(s.gt_bbox) > box_area(b) for b in s.distractor_bboxes) for s in samples]
    assert np.mean(largest_is_sounding) < 0.85


def test_class_catalogue_combinations_are_unique_but_attributes_shared():
    assert 8 <= NUM_CLASSES <= 12 and len(set(CLASS_NAMES)) == NUM_CLASSES
    looks = {(c.shape, round(c.hue), c.texture) for c in SYNTHAV_CLASSES}
    assert len(looks) == NUM_CLASSES
    # no single visual attribute names the class
    for attribute in ('shape', 'texture'):
        values = [getattr(c, attribute) for c in SYNTHAV_CLASSES]
        assert len(set(values)) < NUM_CLASSES
    # nor does pitch alone: several classes' fundamental ranges overlap
    overlaps = sum(1 for a, b in combinations(SYNTHAV_CLASSES, 2)
                   if a.sound.f0_range[0] < b.sound.f0_range[1] and b.sound.f0_range[0] < a.sound.f0_range[1])
    assert overlaps >= 3


# --------------------------------------------------------------------------- sounds
def _spectro_temporal_features(wave: np.ndarray) -> np.ndarray:
    """A small generic descriptor: log band energies (mean, spread over time), per-band
    tonality (peak / mean power) and the modulation spectrum of the loudness envelope."""
    frame, hop = 512, 256
    frames = np.lib.stride_tricks.sliding_window_view(wave, frame)[::hop] * np.hanning(frame)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    edges = np.unique(np.geomspace(4, power.shape[1] - 1, 25).astype(int))
    bands = list(zip(edges[:-1], edges[1:]))
    log_bands = 10 * np.log10(np.stack([power[:, a:b].sum(axis=1) for a, b in bands], axis=1) + 1e-12)
    log_bands = np.maximum(log_bands, log_bands.max() - 60) - log_bands.max()  # loudness-free, 60 dB floor
    tonality = np.stack([np.log(power[:, a:b].max(axis=1) / (power[:, a:b].mean(axis=1) + 1e-12) + 1e-6)
                         for a, b in bands], axis=1)
    envelope = log_bands.max(axis=1)
    modulation = np.log(np.abs(np.fft.rfft(envelope - envelope.mean()))[1:16] + 1)
    return np.concatenate([log_bands.mean(axis=0), log_bands.std(axis=0), modulation, tonality.mean(axis=0)])


def test_class_sounds_are_separable_from_spectral_features():
    features, labels = [], []
    for class_id in range(NUM_CLASSES):
        for index in range(10):
            rng = np.random.default_rng([class_id, index])
            audio, _ = synthesize_sounding_audio(SYNTHAV_CLASSES[class_id].sound, SR, SR, rng)
            features.append(_spectro_temporal_features(audio))
            labels.append(class_id)
    features, labels = np.stack(features), np.array(labels)
    features = (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-6)
    correct = 0
    for i in range(len(labels)):  # leave-one-out nearest centroid (chance: 1 / NUM_CLASSES)
        keep = np.arange(len(labels)) != i
        centroids = np.stack([features[keep & (labels == c)].mean(axis=0) for c in range(NUM_CLASSES)])
        correct += int(np.argmin(((centroids - features[i]) ** 2).sum(axis=1)) == labels[i])
    assert correct / len(labels) >= 0.85
    # two clips of a class are alike but never identical
    rng = np.random.default_rng(0)
    one = render_class_sound(SYNTHAV_CLASSES[0].sound, SR, SR, rng)
    two = render_class_sound(SYNTHAV_CLASSES[0].sound, SR, SR, rng)
    assert not np.allclose(one, two)


def test_mix_at_snr_and_background_noise_in_samples():
    rng = np.random.default_rng(0)
    clean = render_class_sound(SYNTHAV_CLASSES[3].sound, SR, SR, rng)
    noise = background_noise(SR, SR, rng)
    mixed = mix_at_snr(clean, noise, 10.0)
    residual = mixed - clean
    measured = 10 * np.log10(np.mean(clean ** 2) / np.mean(residual ** 2))
    assert measured == pytest.approx(10.0, abs=1e-6)
    # the horn's harmonics stop below 3 kHz: energy at 6-8 kHz can only be the background noise
    horn = CLASS_NAMES.index('horn')
    for index in range(40):
        sample = generate_sample(0, 'train', index, img_size=16)
        assert sample.audio.dtype == np.float32 and np.abs(sample.audio).max() <= 1.0
        assert SNR_DB_RANGE[0] <= sample.snr_db <= SNR_DB_RANGE[1]
        if sample.class_id == horn:
            spectrum = np.abs(np.fft.rfft(sample.audio)) ** 2
            freqs = np.fft.rfftfreq(len(sample.audio), 1 / SR)
            assert spectrum[(freqs > 6000) & (freqs < 8000)].sum() > 1e-4 * spectrum.sum()


# --------------------------------------------------------------------------- baselines
def test_centre_prior_and_whole_image_score_low_and_perfect_high():
    size = 128
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    gaussian = np.exp(-((xx - size / 2) ** 2 + (yy - size / 2) ** 2) / (2 * (size / 4) ** 2))
    centre_prior = gaussian >= np.median(gaussian)  # central 50 % disc
    assert abs(centre_prior.mean() - 0.5) < 0.01
    whole = np.ones((size, size), dtype=bool)
    scores = {'centre': [], 'whole': [], 'perfect': []}
    for index in range(200):
        sample = generate_sample(0, 'test', index, img_size=size)
        gt = box_mask(sample.gt_bbox, size)
        scores['centre'].append(ciou(centre_prior, gt))
        scores['whole'].append(ciou(whole, gt))
        # the best a median-binarised map can do: the top-50 % pixels of a map peaked on the box
        area = gt.mean()
        scores['perfect'].append(min(2 * area, 1 / (2 * area)))
    success = {k: float(np.mean(np.array(v) >= 0.5)) for k, v in scores.items()}
    assert success['centre'] < 0.25
    assert success['whole'] == 0.0
    assert success['perfect'] == 1.0


# --------------------------------------------------------------------------- dataset
def test_dataset_results_follow_the_contract():
    dataset = SynthAVDataset(split='test', num_samples=5, seed=0, img_size=64, test_mode=True)
    assert len(dataset) == 5
    assert dataset.metainfo['classes'] == CLASS_NAMES
    results = dataset[2]
    assert results['img'].shape == (64, 64, 3) and results['img'].dtype == np.uint8
    assert results['img_shape'] == (64, 64) and results['ori_shape'] == (64, 64)
    assert results['audio'].shape == (16000,) and results['audio'].dtype == np.float32
    assert results['audio_sample_rate'] == 16000 and results['audio_is_feature'] is False
    assert results['audio_meta']['rate'] == 16000 and results['audio_meta']['duration'] == pytest.approx(1.0)
    assert results['gt_bboxes'].shape == (1, 4) and results['gt_bboxes'].dtype == np.float32
    assert len(results['gt_masks']) == 1 and results['gt_masks'][0]['size'] == [64, 64]
    assert results['is_sounding'] is True
    assert results['video_id'] == 'synthav_test_000002' and results['sample_idx'] == 2
    assert results['class_name'] == CLASS_NAMES[results['class_id']]
    sample = generate_sample(0, 'test', 2, img_size=64)
    assert np.array_equal(results['img'], sample.img)
    assert np.array_equal(results['gt_bboxes'][0], sample.gt_bbox)
    assert np.array_equal(mask_utils.decode(results['gt_masks'][0]).astype(bool), sample.gt_mask)


def test_dataset_is_lazy_serializable_and_built_by_registry():
    cfg = dict(type='SynthAVDataset', split='train', num_samples=6, seed=1, img_size=32, audio_seconds=0.25)
    lazy = DATASETS.build(dict(cfg, lazy_init=True))
    assert not lazy._fully_initialized
    plain = DATASETS.build(dict(cfg, serialize_data=False))
    serialized = DATASETS.build(cfg)
    assert len(lazy) == len(plain) == len(serialized) == 6
    for idx in (0, 5):
        a, b = plain[idx], serialized[idx]
        assert np.array_equal(a['img'], b['img']) and np.array_equal(a['audio'], b['audio'])
        assert a['audio'].shape == (4000,)
    subset = serialized.get_subset([4, 1])
    assert subset[0]['video_id'] == 'synthav_train_000004'


def test_dataset_runs_its_pipeline():
    seen = []

    def record(results):
        seen.append(results['video_id'])
        return {'packed': results['sample_idx']}

    dataset = SynthAVDataset(split='train', num_samples=3, img_size=32, pipeline=[record])
    assert dataset[1] == {'packed': 1}
    assert seen == ['synthav_train_000001']


def test_extended_split_has_both_labels_in_the_right_ratio():
    dataset = SynthAVDataset(split='test_extended', num_samples=40, seed=0, img_size=32,
                             audio_seconds=0.5, extended_ratio=0.5, test_mode=True)
    items = [dataset[i] for i in range(len(dataset))]
    sounding = [r for r in items if r['is_sounding']]
    non_sounding = [r for r in items if not r['is_sounding']]
    assert len(sounding) == 20 and len(non_sounding) == 20
    variants = [r['synthav_meta']['variant'] for r in non_sounding]
    assert variants.count('offscreen') == 10 and variants.count('silent') == 10
    assert any(r['is_sounding'] for r in items[:10]) and not all(r['is_sounding'] for r in items[:10])
    test_set = SynthAVDataset(split='test', num_samples=20, seed=0, img_size=32, audio_seconds=0.5)
    test_by_id = {test_set[i]['video_id']: test_set[i] for i in range(20)}
    for results in sounding:  # the sounding part is the plain test set
        assert np.array_equal(results['img'], test_by_id[results['video_id']]['img'])
    for results in non_sounding:
        assert results['video_id'].startswith('synthav_testx_')
        assert results['gt_bboxes'].shape == (0, 4) and results['gt_masks'] == []
        meta = results['synthav_meta']
        rms = float(np.sqrt(np.mean(results['audio'] ** 2)))
        if meta['variant'] == 'silent':
            assert results['class_id'] == -1 and rms < 0.01
        else:  # off-screen: a real sound of a class that is not in the picture
            assert rms > 0.03
            in_frame = {meta['main_class_id'], *meta['distractor_class_ids'].tolist()}
            assert results['class_id'] not in in_frame
    with pytest.raises(ValueError, match='extended_ratio'):
        SynthAVDataset(split='test_extended', num_samples=4, extended_ratio=1.5)
    with pytest.raises(ValueError, match='unknown split'):
        SynthAVDataset(split='validation', num_samples=4)


def test_base_config_defines_the_loaders():
    cfg = Config.fromfile(os.path.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'synthav.py'))
    train, val, test = cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader
    assert train.batch_size == 32 and train.num_workers == 2 and train.persistent_workers
    assert train.sampler == dict(type='DefaultSampler', shuffle=True)
    assert train.dataset.type == 'SynthAVDataset' and train.dataset.num_samples == 2000
    # Model selection must not look at the test split.
    assert val.dataset.split == 'val' and val.dataset.num_samples == 300 and val.dataset.test_mode
    assert test.dataset.split == 'test' and test.dataset.num_samples == 500 and test.dataset.test_mode
    assert [t['type'] for t in train.dataset.pipeline] == ['RandomFlip', 'PackAVInputs']
    assert [t['type'] for t in val.dataset.pipeline] == ['PackAVInputs']
    assert [t['type'] for t in test.dataset.pipeline] == ['PackAVInputs']
    assert cfg.val_evaluator.type == 'LocalizationMetric'
    assert cfg.test_evaluator.type == 'LocalizationMetric'


def test_base_config_dataset_runs_its_pipeline():
    cfg = Config.fromfile(os.path.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'synthav.py'))
    train = cfg.train_dataloader
    # the configured dataset builds and runs its pipeline (in the icl_av scope, as configs set it)
    with DefaultScope.overwrite_default_scope('icl_av'):
        dataset = DATASETS.build(dict(train.dataset, num_samples=2, img_size=32))
        packed = dataset[0]
    assert tuple(packed['inputs']['img'].shape) == (3, 32, 32)
    assert tuple(packed['inputs']['audio'].shape) == (1, 16000)
    assert packed['data_samples'].gt_bboxes.shape == (1, 4)
