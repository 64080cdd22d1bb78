"""tools/slurm_train.sh / slurm_test.sh: CPUs per task sized for the loader workers (srun replaced by a recorder)."""
import os
import os.path as osp
import stat
import subprocess

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def srun_arguments(tmp_path, script, env_overrides):
    fake = tmp_path / 'bin'
    fake.mkdir(exist_ok=True)
    (fake / 'srun').write_text('#!/usr/bin/env bash\necho "$@"\n')
    (fake / 'srun').chmod((fake / 'srun').stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f'{fake}:{os.environ["PATH"]}', **env_overrides)
    for name in ('CPUS_PER_TASK', 'WORKERS_PER_GPU', 'GPUS', 'GPUS_PER_NODE'):
        if name not in env_overrides:
            env.pop(name, None)
    result = subprocess.run(['bash', osp.join(REPO, 'tools', script), 'gpu', 'job', 'cfg.py', 'out'], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize('script, env, cpus', [
    ('slurm_train.sh', {}, 10), ('slurm_train.sh', {'WORKERS_PER_GPU': '4'}, 6),
    ('slurm_train.sh', {'CPUS_PER_TASK': '5'}, 5), ('slurm_test.sh', {}, 6)])
def test_cpus_per_task_follow_the_workers(tmp_path, script, env, cpus):
    arguments = srun_arguments(tmp_path, script, env)
    assert f'--cpus-per-task={cpus} ' in arguments and '--ntasks=8' in arguments
