"""Start a gloo process group for a multi-process CPU test, with a rendezvous no other test can join.

A TCP port chosen before binding can be taken in between (or chosen by a concurrent test's
group under pytest-xdist), and two groups on one store hang until their timeout. A fresh
file store in its own temporary folder is private to the group that is given its URL.
"""
import datetime
import os.path as osp
import tempfile

import torch.distributed as torch_dist

#: Long enough for a slow CI machine, short enough that a stuck peer fails the test instead of CI.
TIMEOUT = datetime.timedelta(seconds=120)


def rendezvous_url() -> str:
    """A fresh ``file://`` store for one process group (pass it to every rank)."""
    return 'file://' + osp.join(tempfile.mkdtemp(prefix='icl_av_pg_'), 'store')


def init_gloo(rank: int, world_size: int, url: str) -> None:
    """Join the gloo group of ``world_size`` ranks that meets at ``url`` (from :func:`rendezvous_url`)."""
    torch_dist.init_process_group('gloo', init_method=url, timeout=TIMEOUT, rank=rank, world_size=world_size)
