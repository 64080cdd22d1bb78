"""The metric, the table and the visualization hook inside MMEngine's Runner.test()."""
import pytest
from mmengine.config import Config
from mmengine.runner import Runner
from tiny_configs import write_tiny_config

from icl_av.evaluation import format_localization_table


@pytest.mark.slow
def test_runner_test_reports_metrics_and_saves_pictures(tmp_path):
    cfg = Config.fromfile(write_tiny_config(tmp_path))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.test_dataloader.dataset.split = 'test_extended'
    cfg.test_evaluator = dict(type='LocalizationMetric', gt_source='masks', extended=True,
                              out_file=str(tmp_path / 'per_sample.json'))
    cfg.default_hooks.visualization = dict(type='AVVisualizationHook', enable=True, interval=2, out_dir='vis')
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    assert metrics['loc/num_samples'] + metrics['loc/num_non_sounding'] == 4
    for key in ('loc/ciou@0.5', 'loc/auc', 'loc/center/auc', 'loc/whole/mean_ciou', 'loc/perfect/ciou@0.5',
                'loc/ap', 'loc/max_f1', 'loc/precision@0.5'):
        assert key in metrics
    assert (tmp_path / 'per_sample.json').is_file()
    table = format_localization_table(metrics, 'synthav test_extended')
    assert 'perfect localiser' in table and 'extended: AP' in table
    pictures = list((tmp_path / 'work').rglob('vis/*.png'))
    assert len(pictures) == 2
