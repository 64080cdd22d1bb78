"""tools/analysis_tools/seed_sweep.py: runs each seed, reuses finished runs, tabulates mean ± std."""
import json
import os.path as osp
import subprocess
import sys

import pytest
from script_modules import load_script

TINY = """
_base_ = ['{root}/configs/icl/icl_r18_1xb32-9e_synthav64.py']
_data = dict(img_size=32, num_samples=8, audio_seconds=0.5)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=_data)
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=_data)
test_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=_data)
model = dict(head=dict(embed_dims=16))
train_cfg = dict(max_epochs=2, val_interval=1)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
custom_hooks = [dict(type='EpochSeedHook'),
                dict(type='PseudoLabelHook', iteration_epochs=[1, 1], num_clusters=2,
                     dataloader=dict(num_workers=0, dataset=dict(pipeline=[dict(type='PackAVInputs')])))]
"""


def load_tool(repo_root):
    return load_script(osp.join(repo_root, 'tools', 'analysis_tools', 'seed_sweep.py'), 'seed_sweep')


def test_table_reports_mean_and_sample_std(repo_root):
    tool = load_tool(repo_root)
    runs = [dict(test={'loc/ciou@0.5': v, 'loc/auc': 0.5, 'loc/mean_ciou': 0.4, 'loc/center/ciou@0.5': 0.2,
                       'loc/perfect/ciou@0.5': 1.0}, val_curve={4: v}) for v in (0.6, 0.8)]
    text = tool.table({'icl': runs}, epochs=[4, 7])
    row = text.splitlines()[2]
    assert row.startswith('| icl | 2 | 0.700 ± 0.141 | 0.500 ± 0.000 | 0.400 ± 0.000 | 0.700 ± 0.141 | n/a')
    assert row.endswith('| 0.200 | 1.000 |')


@pytest.mark.slow
def test_sweep_trains_tests_and_resumes(repo_root, tmp_path):
    import torch
    from mmengine.config import Config

    config = tmp_path / 'tiny.py'
    config.write_text(TINY.format(root=repo_root))
    cmd = [sys.executable, 'tools/analysis_tools/seed_sweep.py', str(config), '--seeds', '0', '1',
           '--work-dir', str(tmp_path / 'sweep'), '--epochs', '1', '2']
    first = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    tool = load_tool(repo_root)
    results = json.loads((tmp_path / 'sweep' / 'results.json').read_text())
    runs = results['tiny']
    assert [r['seed'] for r in runs] == [0, 1]
    weights = []
    for run in runs:
        run_dir = tmp_path / 'sweep' / 'tiny' / f"seed{run['seed']}"
        # Each seed trained with its own seed (the config the run dumped) ...
        assert Config.fromfile(str(run_dir / 'tiny.py')).randomness.seed == run['seed']
        # ... and the table's numbers are the ones its own test and training runs logged.
        assert run['test'] == tool.test_metrics(str(run_dir / 'test'))
        assert run['val_curve'] == {str(epoch): value for epoch, value in tool.val_curve(str(run_dir)).items()}
        assert sorted(map(int, run['val_curve'])) == [1, 2]
        # A perfect localiser bounds every score from above.
        assert run['test']['loc/ciou@0.5'] <= run['test']['loc/perfect/ciou@0.5']
        checkpoint = torch.load(tool.checkpoint_to_test(str(run_dir), 'last'), map_location='cpu', weights_only=False)
        weights.append(checkpoint['state_dict'])
    # Different seeds trained different models.
    assert any(not torch.equal(weights[0][k], weights[1][k]) for k in weights[0] if weights[0][k].is_floating_point())
    # The printed row is the mean ± std over the seeds.
    ciou = [r['test']['loc/ciou@0.5'] for r in runs]
    assert f'| tiny | 2 | {tool.mean_std(ciou)} |' in first.stdout
    # A second call reuses the finished runs instead of training again.
    again = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)
    assert again.returncode == 0
    assert json.loads((tmp_path / 'sweep' / 'results.json').read_text()) == results
    assert not list((tmp_path / 'sweep' / 'tiny' / 'seed0').glob('train_stdout.log.*'))


def test_best_checkpoint_is_the_one_selected_on_val(repo_root, tmp_path):
    tool = load_tool(repo_root)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_9.pth'))
    with pytest.raises(SystemExit, match='best_'):
        tool.checkpoint_to_test(str(tmp_path), 'best')
    (tmp_path / 'best_loc_ciou@0.5_epoch_6.pth').write_bytes(b'')
    assert tool.checkpoint_to_test(str(tmp_path), 'best').endswith('best_loc_ciou@0.5_epoch_6.pth')
    assert tool.checkpoint_to_test(str(tmp_path), 'last') == str(tmp_path / 'epoch_9.pth')


def test_controls_and_training_minutes_get_their_columns(repo_root):
    tool = load_tool(repo_root)
    runs = [dict(test={'loc/ciou@0.5': 0.5, 'loc/auc': 0.5, 'loc/mean_ciou': 0.4, 'loc/center/ciou@0.5': 0.2,
                       'loc/perfect/ciou@0.5': 0.6}, val_curve={}, train_minutes=minutes,
                 controls={'audio-swap': {'loc/ciou@0.5': swap}, 'unheard': {'loc/ciou@0.5': 0.3}})
            for minutes, swap in ((10.0, 0.1), (12.0, 0.2))]
    lines = tool.table({'icl': runs}, epochs=[]).splitlines()
    assert lines[0].startswith('| config | seeds | cIoU@0.5 | AUC | mean cIoU | audio-swap cIoU@0.5 | '
                               'unheard cIoU@0.5 | train min |')
    assert lines[2] == ('| icl | 2 | 0.500 ± 0.000 | 0.500 ± 0.000 | 0.400 ± 0.000 | 0.150 ± 0.071 | '
                        '0.300 ± 0.000 | 11.0 | 0.200 | 0.600 |')


def _finished_run_with_fake_tests(tool, tmp_path, monkeypatch, seed):
    """A trained run of seed ``seed`` whose tools/test.py calls are recorded and log cIoU 0.1, 0.2, ..."""
    train_dir = tmp_path / 'cfg' / f'seed{seed}'
    train_dir.mkdir(parents=True)
    (train_dir / 'last_checkpoint').write_text(str(train_dir / 'epoch_2.pth'))
    calls = []

    def fake_run(cmd, log_path):
        calls.append(cmd)
        test_dir = osp.dirname(log_path)
        record = {'loc/ciou@0.5': 0.1 * len(calls)}
        (tmp_path / test_dir / 'stamp').mkdir(parents=True)
        (tmp_path / test_dir / 'stamp' / 'stamp.json').write_text(json.dumps(record))

    monkeypatch.setattr(tool, 'run', fake_run)
    return calls


def test_controls_run_tools_test_with_their_arguments(repo_root, tmp_path, monkeypatch):
    tool = load_tool(repo_root)
    calls = _finished_run_with_fake_tests(tool, tmp_path, monkeypatch, 3)
    result = tool.train_and_test('cfg.py', 3, str(tmp_path), ['a=1'], 'last',
                                 controls={'audio-swap': ['--shuffle-audio', '0']})
    assert [cmd[cmd.index('--work-dir') + 1].rsplit('/', 1)[-1] for cmd in calls] == ['test', 'audio-swap']
    assert calls[1][calls[1].index('--work-dir') + 2:] == ['--shuffle-audio', '0', '--cfg-options',
                                                          'randomness.seed=3', 'a=1']
    assert result['test']['loc/ciou@0.5'] == 0.1 and result['controls']['audio-swap']['loc/ciou@0.5'] == 0.2
    assert result['train_minutes'] is None  # trained elsewhere: no wall time recorded


def test_maps_go_to_every_test_and_to_their_own_folders(repo_root, tmp_path, monkeypatch):
    tool = load_tool(repo_root)
    calls = _finished_run_with_fake_tests(tool, tmp_path, monkeypatch, 1)
    tool.train_and_test('cfg.py', 1, str(tmp_path), [], 'last', controls={'audio-swap': ['--shuffle-audio', '0']},
                        maps='posterior')
    assert [cmd[cmd.index('--work-dir') + 1].rsplit('/', 1)[-1] for cmd in calls] == ['test_posterior',
                                                                                      'audio-swap_posterior']
    assert all(cmd[cmd.index('--maps') + 1] == 'posterior' for cmd in calls)
    assert tool.parse_args(['c.py', '--maps', 'cosine']).maps == 'cosine'


def test_refit_prototypes_go_to_every_posterior_test_and_to_their_own_folders(repo_root, tmp_path, monkeypatch):
    tool = load_tool(repo_root)
    calls = _finished_run_with_fake_tests(tool, tmp_path, monkeypatch, 1)
    tool.train_and_test('cfg.py', 1, str(tmp_path), [], 'last', controls={'audio-swap': ['--shuffle-audio', '0']},
                        maps='posterior', refit_prototypes=True)
    assert [cmd[cmd.index('--work-dir') + 1].rsplit('/', 1)[-1] for cmd in calls] == ['test_posterior-refit',
                                                                                      'audio-swap_posterior-refit']
    assert all('--refit-prototypes' in cmd for cmd in calls)


def test_refit_prototypes_without_posterior_maps_is_refused(repo_root, capsys):
    tool = load_tool(repo_root)
    with pytest.raises(SystemExit):
        tool.parse_args(['c.py', '--refit-prototypes'])
    assert '--refit-prototypes needs --maps posterior' in capsys.readouterr().err
