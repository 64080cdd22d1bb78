"""tools/analysis_tools/benchmark.py on the tiny config (one iteration, CPU)."""
import importlib.util
import json
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BENCHMARK = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'benchmark.py')


def load_benchmark():
    spec = importlib.util.spec_from_file_location('icl_av_benchmark', BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_prints_one_line_per_setting(tmp_path, tiny_config, capsys):
    out = tmp_path / 'bench.json'
    results = load_benchmark().main([tiny_config, '--device', 'cpu', '--amp', '--batch-size', '2', '--num-iters',
                                     '1', '--num-warmup', '0', '--num-workers', '0', '--out', str(out)])
    lines = [line for line in capsys.readouterr().out.splitlines() if 'samples/s' in line]
    assert [(r['mode'], r['precision']) for r in results] == [
        ('inference', 'fp32'), ('train', 'fp32'), ('inference', 'amp'), ('train', 'amp')]
    assert len(lines) == 4 and lines[1].startswith('train') and 'bwd' in lines[1] and 'peak RSS' in lines[1]
    train = results[1]
    assert train['batch_size'] == 2 and train['samples_per_s'] > 0
    assert train['step_ms'] == pytest.approx(
        train['data_ms'] + train['forward_ms'] + train['backward_ms'] + train['optimizer_ms'])
    assert results[0]['latency_ms'] > 0 and results[0]['cpu_peak_rss_mb'] > 0
    assert json.loads(out.read_text())[0]['mode'] == 'inference'


def test_benchmark_rejects_bad_iteration_counts(tiny_config):
    from icl_av.utils import UserInputError
    with pytest.raises(UserInputError, match='num-iters'):
        load_benchmark().main([tiny_config, '--num-iters', '0'])
