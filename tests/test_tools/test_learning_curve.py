"""tools/analysis_tools/learning_curve.py: validation scores against epochs and wall minutes from a log."""
import os.path as osp

import pytest
from script_modules import load_script

LOG = """2026/01/02 10:00:00 - mmengine - INFO - Config:
2026/01/02 10:02:00 - mmengine - INFO - Saving checkpoint at 2 epochs
2026/01/02 10:02:30 - mmengine - INFO - Epoch(val) [2][4/4]    loc/ciou@0.5: 0.1000  loc/auc: 0.3000  loc/center/ciou@0.5: 0.1100
2026/01/02 10:03:00 - mmengine - INFO - PseudoLabelHook: refresh after epoch 2
   a continuation line without a timestamp
2026/01/02 10:06:00 - mmengine - INFO - Epoch(val) [4][4/4]    loc/ciou@0.5: 0.3000  loc/auc: 0.4000
2026/01/02 10:12:00 - mmengine - INFO - Epoch(val) [6][4/4]    loc/ciou@0.5: 0.2500  loc/auc: 0.4100
"""


@pytest.fixture
def tool(repo_root):
    return load_script(osp.join(repo_root, 'tools', 'analysis_tools', 'learning_curve.py'), 'learning_curve')


@pytest.fixture
def work_dir(tmp_path):
    run = tmp_path / 'run' / '20260102_100000'
    run.mkdir(parents=True)
    (run / '20260102_100000.log').write_text(LOG)
    return str(tmp_path / 'run')


def test_reads_epochs_minutes_and_the_metric_not_its_centre_prior(tool, work_dir):
    points = tool.read_curve(tool.newest_log(work_dir))
    assert [(p.epoch, round(p.minutes, 2), p.score) for p in points] == [(2, 2.5, 0.1), (4, 6.0, 0.3), (6, 12.0, 0.25)]
    assert [p.score for p in tool.read_curve(tool.newest_log(work_dir), 'loc/auc')] == [0.3, 0.4, 0.41]


def test_budget_gives_best_and_last_inside_it(tool, work_dir):
    points = tool.read_curve(tool.newest_log(work_dir))
    best, last = tool.within_budget(points, 10)
    assert (best.epoch, last.epoch) == (4, 4)
    best, last = tool.within_budget(points, 20)
    assert (best.epoch, last.epoch) == (4, 6)
    assert tool.within_budget(points, 1) == (None, None)


def test_cli_table_and_clear_errors(tool, work_dir, tmp_path, capsys):
    tool.main([work_dir, '--budget-minutes', '10'])
    out = capsys.readouterr().out
    assert '| 4 | 6.0 | 0.3000 |' in out and 'best 0.3000 (epoch 4' in out
    with pytest.raises(Exception, match='no MMEngine log'):
        tool.main([str(tmp_path / 'empty')])
    with pytest.raises(Exception, match='no validation line'):
        tool.main([work_dir, '--metric', 'loc/missing'])
