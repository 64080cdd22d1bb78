"""tools/misc/make_synthav.py writes the documented frames+audio layout, and it parses."""
import csv
import json
import os

import mmcv
import numpy as np
import pycocotools.mask as mask_utils
import soundfile as sf

from icl_av.synthav import CLASS_NAMES, generate_sample
from script_modules import load_script

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCRIPT = os.path.join(REPO_ROOT, 'tools', 'misc', 'make_synthav.py')


def load_tool():
    return load_script(SCRIPT, 'make_synthav')


def test_make_synthav_writes_a_layout_that_parses(tmp_path, capsys):
    out = tmp_path / 'synthav'
    load_tool().main(['--out', str(out), '--num-train', '3', '--num-test', '4', '--seed', '2',
                      '--img-size', '48', '--audio-seconds', '0.5'])
    assert 'SynthAV written' in capsys.readouterr().out

    train_ids = (out / 'train.txt').read_text().split()
    test_ids = (out / 'test.txt').read_text().split()
    assert train_ids == [f'synthav_train_{i:06d}' for i in range(3)]
    assert test_ids == [f'synthav_test_{i:06d}' for i in range(4)]

    boxes = json.loads((out / 'test_boxes.json').read_text())
    masks = json.loads((out / 'test_masks.json').read_text())
    assert [entry['file'] for entry in boxes] == test_ids and set(masks) == set(test_ids)
    for index, entry in enumerate(boxes):
        sample = generate_sample(2, 'test', index, img_size=48, audio_seconds=0.5)
        assert entry['class'] == sample.class_name and entry['class'] in CLASS_NAMES
        assert len(entry['bbox']) == 1
        box = np.array(entry['bbox'][0])
        assert ((box >= 0) & (box <= 1)).all()
        assert np.allclose(box * 48, sample.gt_bbox)
        rle = masks[entry['file']]
        assert rle['size'] == [48, 48] and isinstance(rle['counts'], str)
        decoded = mask_utils.decode(rle)
        assert decoded.shape == (48, 48) and np.array_equal(decoded.astype(bool), sample.gt_mask)

    with open(out / 'test_plus_silent.csv', newline='') as handle:
        rows = list(csv.DictReader(handle))
    labels = [row['label'] for row in rows]
    assert labels.count('sounding') == 4 and labels.count('non-sounding') == 4  # default ratio 0.5
    assert [row['video'] for row in rows if row['label'] == 'sounding'] == test_ids

    all_ids = train_ids + [row['video'] for row in rows]
    for video_id in all_ids:
        img = mmcv.imread(str(out / 'frames' / f'{video_id}.jpg'))
        assert img.shape == (48, 48, 3)
        wave, rate = sf.read(str(out / 'audio' / f'{video_id}.wav'))
        info = sf.info(str(out / 'audio' / f'{video_id}.wav'))
        assert rate == 16000 and info.channels == 1 and info.subtype == 'PCM_16'
        assert wave.shape == (8000,)
    # the written frame is the generated one up to JPEG loss
    first = generate_sample(2, 'test', 0, img_size=48, audio_seconds=0.5)
    written = mmcv.imread(str(out / 'frames' / f'{test_ids[0]}.jpg')).astype(np.float32)
    assert np.abs(written - first.img).mean() < 4

    meta = json.loads((out / 'meta.json').read_text())
    assert meta['seed'] == 2 and meta['img_size'] == 48 and meta['classes'] == list(CLASS_NAMES)


def test_make_synthav_output_loads_in_the_frames_dataset(tmp_path):
    from icl_av.datasets import AVFramesDataset

    out = tmp_path / 'synthav'
    load_tool().main(['--out', str(out), '--num-train', '0', '--num-test', '3', '--img-size', '32',
                      '--audio-seconds', '0.25', '--extended-ratio', '0', '--quiet'])
    assert not (out / 'test_plus_silent.csv').exists()
    dataset = AVFramesDataset(data_root=str(out), ann_file='test.txt', box_file='test_boxes.json',
                              mask_file='test_masks.json', test_mode=True)
    assert len(dataset) == 3
    info = dataset.get_data_info(1)
    sample = generate_sample(0, 'test', 1, img_size=32, audio_seconds=0.25)
    assert tuple(info['bbox_frame_size']) == (1.0, 1.0)  # normalised boxes, scaled when the frame loads
    assert np.allclose(np.asarray(info['gt_bboxes']).reshape(-1, 4)[0] * 32, sample.gt_bbox, atol=1e-3)
