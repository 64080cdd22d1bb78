"""SynthAV's generator: determinism, geometry of the ground truth, sounds, splits, trivial baselines."""
from itertools import combinations

import numpy as np
import pycocotools.mask as mask_utils
import pytest

from icl_av.synthav import (CLASS_NAMES, DISTRACTOR_AREA_RANGE, MAIN_AREA_RANGE, NUM_CLASSES, SNR_DB_RANGE,
                            SYNTHAV_CLASSES, build_split, generate_sample)
from icl_av.synthav.sounds import background_noise, mix_at_snr, render_class_sound, synthesize_sounding_audio

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
