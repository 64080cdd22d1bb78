"""tools/analysis_tools/gpu_check.sh without a GPU: one line saying so, exit status 0, nothing written."""
import os
import os.path as osp
import subprocess

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_without_a_gpu_it_says_so_in_one_line_and_succeeds(tmp_path):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', GPU_CHECK_DIR=str(tmp_path / 'check'))
    env.pop('GPU_CHECK_FORCE_CPU', None)
    result = subprocess.run(['bash', osp.join(REPO, 'tools', 'analysis_tools', 'gpu_check.sh')], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['gpu_check: no GPU on this machine (torch sees no CUDA device); '
                                          'nothing was measured']
    assert not (tmp_path / 'check').exists()
