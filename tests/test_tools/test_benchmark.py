"""tools/analysis_tools/benchmark.py on a tiny config (a single iteration per setting, CPU)."""
import json
import os.path as osp

import pytest
from script_modules import load_script

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BENCHMARK = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'benchmark.py')
MODE_PREFIXES = ('inference', 'train', 'refresh')


def load_benchmark():
    return load_script(BENCHMARK, 'icl_av_benchmark')


def result_lines(text):
    return [line for line in text.splitlines() if line.startswith(MODE_PREFIXES)]


def test_benchmark_prints_one_line_per_setting(tmp_path, tiny_config, capsys):
    out = tmp_path / 'bench.json'
    results = load_benchmark().main([tiny_config, '--device', 'cpu', '--amp', '--batch-size', '2', '--num-iters',
                                     '1', '--num-warmup', '0', '--num-workers', '0', '--out', str(out)])
    printed = capsys.readouterr().out
    lines = result_lines(printed)
    from icl_av.utils.machine import cpu_capabilities
    cpu = cpu_capabilities()
    assert f'\nmachine: CPU {cpu.model} ({cpu.flags()})' in '\n' + printed
    assert "amp_dtype='auto' here: " + ('bf16' if cpu.amx else 'fp32') in printed
    assert [(r['mode'], r['precision']) for r in results] == [
        ('inference', 'fp32'), ('train', 'fp32'), ('inference', 'amp'), ('train', 'amp')]
    assert len(lines) == 4 and lines[1].startswith('train') and 'bwd' in lines[1] and 'peak RSS' in lines[1]
    train = results[1]
    assert train['batch_size'] == 2 and train['samples_per_s'] > 0
    assert train['step_ms'] == pytest.approx(
        train['data_ms'] + train['forward_ms'] + train['backward_ms'] + train['optimizer_ms'])
    assert results[0]['latency_ms'] > 0 and results[0]['cpu_peak_rss_mb'] > 0
    report = json.loads(out.read_text())
    assert report['results'][0]['mode'] == 'inference'
    assert report['machine']['cpu'] == cpu.model and report['machine']['cpu_flags'] == cpu.flags()


def test_benchmark_compare_reports_refresh_ratio_and_table(tiny_config, capsys):
    """--mode all --compare: every channels_last setting, the refresh phase with its ratio, one table."""
    results = load_benchmark().main([tiny_config, '--device', 'cpu', '--mode', 'all', '--compare',
                                     '--batch-size', '2', '--refresh-batch-size', '4', '--num-iters', '1',
                                     '--num-warmup', '0', '--num-workers', '0'])
    text = capsys.readouterr().out
    assert [(r['mode'], r['channels_last']) for r in results] == [
        ('inference', False), ('train', False), ('refresh', False),
        ('inference', True), ('train', True), ('refresh', True)]
    refresh = results[2]
    assert refresh['batch_size'] == 4  # the refresh loader is the hook's, not the training one
    assert refresh['refresh_to_train'] == pytest.approx(refresh['samples_per_s'] / results[1]['samples_per_s'])
    assert refresh['step_ms'] == pytest.approx(refresh['data_ms'] + refresh['model_ms'])
    table = [line for line in text.splitlines() if line.startswith('| fp32')]
    assert len(table) == 2 and '| off |' in table[0] and '| on |' in table[1]
    assert len(result_lines(text)) == 6


def test_refresh_loader_follows_the_pseudo_label_hook(tmp_path, repo_root):
    """The refresh loader is the hook's: training dataset, test pipeline (no flip), hook batch size."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'icl', 'icl_r18_1xb64-20e_synthav224.py'))
    cfg.merge_from_dict({'train_dataloader.dataset.num_samples': 4, 'train_dataloader.num_workers': 0})
    init_default_scope('icl_av')
    loader = load_benchmark().build_refresh_loader(cfg, batch_size=None, num_workers=0)
    hook_cfg = next(h for h in cfg.custom_hooks if h['type'] == 'PseudoLabelHook')
    assert loader.batch_size == hook_cfg['dataloader']['batch_size']
    assert loader.dataset.split == 'train' and len(loader.dataset) == 4
    assert not any(type(t).__name__ == 'RandomFlip' for t in loader.dataset.pipeline.transforms)


def test_benchmark_rejects_bad_iteration_counts(tiny_config):
    from icl_av.utils import UserInputError
    with pytest.raises(UserInputError, match='num-iters'):
        load_benchmark().main([tiny_config, '--num-iters', '0'])
