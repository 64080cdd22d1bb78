"""tools/misc/extract_frames_audio.py (resumable conversion) and tools/analysis_tools/benchmark_data.py."""
import os
import runpy
import sys

import pytest
import soundfile as sf

from icl_av.datasets.video_extraction import extract_video


def _run_tool(repo_root, rel_path, args, monkeypatch):
    monkeypatch.setattr(sys, 'argv', [rel_path] + [str(a) for a in args])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(os.path.join(repo_root, rel_path), run_name='__main__')
    return info.value.code


def test_video_without_audio_is_reported_not_written(tmp_path, av_media):
    av_media.write_video_only_mp4(tmp_path / 'videos' / 'silentfilm.mp4')
    result = extract_video(str(tmp_path / 'videos' / 'silentfilm.mp4'), 'silentfilm', str(tmp_path / 'out'))
    assert result.status == 'failed' and 'no audio track' in result.reason
    assert not os.path.exists(tmp_path / 'out' / 'audio' / 'silentfilm.wav')


def test_extract_is_resumable_and_output_loads(tmp_path, av_media, repo_root, monkeypatch, capsys):
    if not av_media.has_av_writer:
        pytest.skip('PyAV (av) is needed to write an mp4 with audio')
    for video_id in ('a', 'b'):
        av_media.write_av_mp4(tmp_path / 'videos' / f'{video_id}.mp4', seconds=1.0, rate=48000)
    av_media.write_video_only_mp4(tmp_path / 'videos' / 'mute.mp4')
    out = tmp_path / 'root'
    code = _run_tool(repo_root, 'tools/misc/extract_frames_audio.py',
                     [tmp_path / 'videos', out, '--quiet', '--sample-rate', 8000], monkeypatch)
    printed = capsys.readouterr().out
    assert code == 1 and '2 extracted, 0 already done, 1 failed' in printed and 'mute' in printed
    data, rate = sf.read(out / 'audio' / 'a.wav')
    assert rate == 8000 and data.ndim == 1 and abs(len(data) / rate - 1.0) < 0.1
    assert (out / 'frames' / 'a.jpg').stat().st_size > 0

    code = _run_tool(repo_root, 'tools/misc/extract_frames_audio.py',
                     [tmp_path / 'videos', out, '--quiet', '--fps', '5'], monkeypatch)
    assert '2 extracted' in capsys.readouterr().out  # a different output (frame folders): redone
    assert len([n for n in os.listdir(out / 'frames' / 'a') if n.endswith('.jpg')]) == 5
    code = _run_tool(repo_root, 'tools/misc/extract_frames_audio.py',
                     [tmp_path / 'videos', out, '--quiet', '--fps', '5'], monkeypatch)
    assert '0 extracted, 2 already done' in capsys.readouterr().out


def test_benchmark_prints_one_line_per_setting(tmp_path, av_media, repo_root, monkeypatch, capsys):
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b', 'c'))
    config = os.path.join(repo_root, 'configs', '_base_', 'datasets', 'custom_frames.py')
    code = _run_tool(repo_root, 'tools/analysis_tools/benchmark_data.py',
                     [config, '--num-samples', 3, '--warmup', 1, '--workers', 0,
                      '--cfg-options', f'train_dataloader.dataset.data_root={root}'], monkeypatch)
    lines = [line for line in capsys.readouterr().out.splitlines() if 'samples/s' in line]
    assert code == 0 and len(lines) == 1
    assert 'AVFramesDataset' in lines[0] and 'workers=0' in lines[0]


def test_benchmark_runs_a_full_config_in_a_fresh_interpreter(tmp_path, repo_root):
    """As users run it: a new process (no registry scope set by anything else), SynthAV from its cache."""
    import subprocess
    config = os.path.join(repo_root, 'configs', 'icl', 'icl_r18_1xb32-9e_synthav64.py')
    result = subprocess.run([sys.executable, 'tools/analysis_tools/benchmark_data.py', config, '--num-samples', '4',
                             '--warmup', '1', '--workers', '0', '--cfg-options',
                             'train_dataloader.dataset.num_samples=6', 'train_dataloader.dataset.img_size=32'],
                            cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if 'samples/s' in line]
    assert len(lines) == 1 and 'SynthAVDataset' in lines[0] and 'samples=6' in lines[0]


def test_benchmark_names_a_missing_config(tmp_path, repo_root):
    import subprocess
    result = subprocess.run([sys.executable, 'tools/analysis_tools/benchmark_data.py', str(tmp_path / 'nope.py')],
                            cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 2 and 'nope.py' in result.stderr and 'Traceback' not in result.stderr
