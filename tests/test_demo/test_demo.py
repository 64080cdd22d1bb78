"""demo/demo.py: overlay video / image output and one-line errors."""
import os.path as osp
import subprocess
import sys

import cv2
import pytest
from script_modules import load_script

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO_ROOT, 'demo', 'demo.py')


def load_demo():
    return load_script(DEMO, 'icl_av_demo')


def test_frame_times_cover_the_video():
    demo = load_demo()
    assert demo.frame_times(2.0, 2.0) == [0.25, 0.75, 1.25, 1.75]
    assert demo.frame_times(0.2, 2.0) == [0.1]


def test_demo_writes_an_overlay_video(tmp_path, tiny_config, tiny_checkpoint, av_video):
    video = av_video(tmp_path / 'in.mp4', seconds=2.0, size='64x48')
    out = tmp_path / 'out' / 'overlay.mp4'
    load_demo().main([video, tiny_config, tiny_checkpoint, '--out', str(out), '--fps', '3'])
    capture = cv2.VideoCapture(str(out))
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, frame = capture.read()
    capture.release()
    assert ok and frame.shape == (48, 64, 3)
    assert frames == 6


def test_demo_writes_one_image(tmp_path, tiny_config, tiny_checkpoint, av_video):
    video = av_video(tmp_path / 'in.mp4', seconds=1.0, size='64x48')
    out = tmp_path / 'frame.jpg'
    load_demo().main([video, tiny_config, tiny_checkpoint, '--out', str(out), '--time', '0.5'])
    assert cv2.imread(str(out)).shape == (48, 64, 3)


def test_audio_less_video_is_one_error_line(tmp_path, tiny_config, tiny_checkpoint, av_video):
    video = av_video(tmp_path / 'silent.mp4', seconds=1.0, audio=False)
    proc = subprocess.run([sys.executable, DEMO, video, tiny_config, tiny_checkpoint, '--out',
                           str(tmp_path / 'o.mp4')], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    first = proc.stderr.strip().splitlines()[0]
    assert first.startswith('error:') and 'no audio track' in first and 'silent.mp4' in first
    assert 'Traceback' not in proc.stderr


def test_unreadable_video_and_bad_output_name(tmp_path, tiny_config, tiny_checkpoint):
    from icl_av.datasets import AVLoadError
    from icl_av.utils import UserInputError
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video at all')
    demo = load_demo()
    with pytest.raises(AVLoadError, match='broken.mp4'):
        demo.main([str(broken), tiny_config, tiny_checkpoint, '--out', str(tmp_path / 'o.mp4')])
    with pytest.raises(UserInputError, match='--out'):
        demo.main([str(broken), tiny_config, tiny_checkpoint, '--out', str(tmp_path / 'o.txt')])
