"""init_cpu_distributed: a gloo group for `--launcher pytorch` on hosts without CUDA, and nothing otherwise;
close_distributed: the group destroyed before exit, and nothing without one."""
import socket

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config

from icl_av.utils.dist_env import close_distributed, init_cpu_distributed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def single_process_env(monkeypatch):
    """What torchrun sets for a one-process job; the group is torn down afterwards."""
    for key, value in dict(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(_free_port()), RANK='0', LOCAL_RANK='0',
                           WORLD_SIZE='1').items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert not dist.is_initialized()
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


@pytest.mark.parametrize('backend', ['nccl', 'gloo', None])
def test_starts_a_gloo_group_on_a_cpu_host(single_process_env, backend):
    env_cfg = {} if backend is None else dict(env_cfg=dict(dist_cfg=dict(backend=backend)))
    init_cpu_distributed(Config(dict(launcher='pytorch', **env_cfg)))
    assert dist.is_initialized() and dist.get_backend() == 'gloo' and dist.get_world_size() == 1
    # A second call (the Runner's own set-up runs after it) leaves the running group alone.
    init_cpu_distributed(Config(dict(launcher='pytorch')))
    assert dist.is_initialized()


@pytest.mark.parametrize('launcher', ['none', 'slurm', None])
def test_other_launchers_start_nothing(single_process_env, launcher):
    init_cpu_distributed(Config(dict(launcher=launcher) if launcher else {}))
    assert not dist.is_initialized()


def test_a_cuda_host_is_left_to_mmengine(single_process_env, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    init_cpu_distributed(Config(dict(launcher='pytorch')))
    assert not dist.is_initialized()


def test_close_destroys_the_group_and_is_a_no_op_without_one(single_process_env):
    close_distributed()  # no group: nothing to do
    init_cpu_distributed(Config(dict(launcher='pytorch')))
    assert dist.is_initialized()
    close_distributed()
    assert not dist.is_initialized()
