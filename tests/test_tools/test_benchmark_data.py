"""tools/analysis_tools/benchmark_data.py: long-audio copies of a dataset and batches through the config's collate."""
import os
import os.path as osp

import numpy as np
import pytest
import soundfile as sf
from script_modules import load_script

from icl_av.utils import UserInputError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
bench = load_script(osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_data.py'), 'benchmark_data_tool')
GPU_CONFIG = osp.join(REPO, 'configs', 'icl', 'icl_r18_8xb64-20e_vggsound144k.py')


def short_dataset(root, ids=('a', 'b', 'c'), seconds=3.0):
    """A frames+audio root of 3 s 16-bit wavs and 40×48 JPEGs, with a train list."""
    import cv2
    os.makedirs(root / 'frames')
    os.makedirs(root / 'audio')
    for number, video_id in enumerate(ids):
        cv2.imwrite(str(root / 'frames' / f'{video_id}.jpg'), np.full((40, 48, 3), 40 * number, np.uint8))
        sf.write(str(root / 'audio' / f'{video_id}.wav'), np.full(int(seconds * 16000), 0.1 * (number + 1)),
                 16000, subtype='PCM_16')
    (root / 'train.txt').write_text('\n'.join(ids) + '\n')
    return root


def test_long_audio_copy_continues_each_clip_with_the_next(tmp_path):
    src = short_dataset(tmp_path / 'src')
    assert bench.main(['--make-long-audio', str(src), str(tmp_path / 'dst'), '--seconds', '10']) == 0
    dst = tmp_path / 'dst'
    info = sf.info(str(dst / 'audio' / 'b.wav'))
    assert info.frames == 160000 and info.samplerate == 16000 and info.subtype == 'PCM_16'
    data, _ = sf.read(str(dst / 'audio' / 'b.wav'), dtype='int16')
    original = {video_id: sf.read(str(src / 'audio' / f'{video_id}.wav'), dtype='int16')[0] for video_id in 'abc'}
    expected = np.concatenate([original['b'], original['c'], original['a'], original['b']])[:160000]
    assert np.array_equal(data, expected)
    assert os.path.islink(dst / 'frames') and (dst / 'train.txt').read_text() == 'a\nb\nc\n'
    assert bench.make_long_audio(str(src), str(tmp_path / 'few'), 5.0, max_files=2) == 2
    assert sorted(os.listdir(tmp_path / 'few' / 'audio')) == ['a.wav', 'b.wav']
    with pytest.raises(UserInputError, match='audio'):
        bench.make_long_audio(str(tmp_path / 'nowhere'), str(tmp_path / 'x'), 10.0)


def test_gpu_training_pipeline_in_batches_through_its_collate(tmp_path, capsys):
    root = short_dataset(tmp_path / 'd', ids=tuple('abcdef'))
    bench.main([GPU_CONFIG, '--num-samples', '4', '--warmup', '2', '--workers', '0', '1', '--batch-size', '2',
                '--cfg-options', f'train_dataloader.dataset.data_root={root}',
                'train_dataloader.dataset.ann_file=train.txt'])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith('machine: CPU')
    lines = [line for line in out if 'samples/s' in line]
    assert len(lines) == 2 and all('collate=corrupt_aware_collate' in line for line in lines)
    assert 'frames min_size=366, audio lazy=True' in lines[0] and 'workers=1 batch=2' in lines[1]
    assert bench.parse_args([GPU_CONFIG]).batch_size == 1
