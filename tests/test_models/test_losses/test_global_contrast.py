"""Global contrast: 2 processes × 32 samples train exactly what 1 process × 64 samples trains.

Two gloo processes on CPU each hold half of a 64-sample batch, run an ``AVLocalizer`` (tiny
towers without batch norm, so features do not depend on the batch split) wrapped in DDP,
and back-propagate the sum of its loss terms. DDP averages the two ranks' gradients. One
process with all 64 samples is the reference. For ``ICLLoss`` with pseudo-labels (four
audio clusters, so most same-cluster partners of an audio sit on the other rank, and some
invalid labels) and without them (the first round), and for ``AVCorrespondenceLoss``:

* the mean of the ranks' loss terms equals the reference terms;
* both ranks' averaged gradients equal the reference gradients;

also with uneven shards (40 + 24 samples). With ``gather_across_ranks=False`` the ranks
contrast only their own halves, and the gradients differ. One spawn serves every case.
"""
import os
import os.path as osp

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
import torch.nn as nn
from process_groups import init_gloo, rendezvous_url

from icl_av.models.losses import AVCorrespondenceLoss, ICLLoss
from icl_av.models.losses.rank_batch import RankBatch
from icl_av.registry import MODELS
from icl_av.structures import AVDataSample
from icl_av.utils.dist_env import all_gather_rows, close_distributed

BATCH = 64
WORLD_SIZE = 2
EVEN = [(0, 32), (32, 64)]
UNEVEN = [(0, 40), (40, 64)]
ICL = dict(type='ICLLoss', tau=0.2, fg_ratio=0.25, bg_ratio=0.5, correspondence=dict(tau=0.2, pool='softmax'))
CASES = {
    'icl': dict(loss=ICL, labels=True, shards=EVEN),
    'icl_keep_correspondence': dict(loss=dict(ICL, keep_correspondence=True), labels=True, shards=EVEN),
    'icl_first_round': dict(loss=ICL, labels=False, shards=EVEN),
    'avc': dict(loss=dict(type='AVCorrespondenceLoss', tau=0.2, pool='max'), labels=False, shards=EVEN),
    'icl_uneven': dict(loss=ICL, labels=True, shards=UNEVEN),
    'icl_local_only': dict(loss=dict(ICL, gather_across_ranks=False), labels=True, shards=EVEN),
}


class TinyVisual(nn.Module):
    """A 16 px image -> ``B×8×4×4`` map, one strided conv (no batch statistics)."""
    out_channels, out_stride = 8, 4

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, kernel_size=4, stride=4)

    def forward(self, img):
        return torch.relu(self.conv(img))


class TinyAudio(nn.Module):
    """A ``B×1×4×8`` spectrogram -> ``B×8`` embedding."""
    out_channels = 8

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32, 8)

    def forward(self, spec):
        return self.fc(spec.flatten(1))


def build_model(case: str):
    """The same initial weights in every process; the bank holds pseudo-labels for the cases that use them."""
    torch.manual_seed(0)
    model = MODELS.build(dict(type='AVLocalizer', visual_backbone=TinyVisual(), audio_backbone=TinyAudio(),
                              head=dict(type='AVSimilarityHead', embed_dims=16), loss=CASES[case]['loss']))
    if CASES[case]['labels']:
        gen = torch.Generator().manual_seed(1)
        maps = torch.randint(0, 256, (BATCH, 4, 4), generator=gen).float() / 255
        clusters = torch.randint(0, 4, (BATCH,), generator=gen)
        valid = torch.rand(BATCH, generator=gen) > 0.2
        model.update_pseudo_labels(torch.arange(BATCH), maps, clusters, valid=valid)
    return model


def batch(start: int, stop: int):
    """Samples ``start:stop`` of one fixed 64-sample batch, as the data preprocessor delivers them."""
    gen = torch.Generator().manual_seed(2)
    img, spec = torch.randn(BATCH, 3, 16, 16, generator=gen), torch.randn(BATCH, 1, 4, 8, generator=gen)
    samples = [AVDataSample(metainfo=dict(sample_idx=i)) for i in range(start, stop)]
    return dict(img=img[start:stop], audio=spec[start:stop]), samples


def loss_and_grads(model, inputs, samples):
    """Loss terms and the parameters' gradients after back-propagating their sum."""
    losses = model(inputs, samples, mode='loss')
    sum(losses.values()).backward()
    module = getattr(model, 'module', model)
    return ({name: value.detach() for name, value in losses.items()},
            {name: param.grad.clone() for name, param in module.named_parameters()})


def _worker(rank, world_size, url, out_dir):
    torch.set_num_threads(1)
    init_gloo(rank, world_size, url)
    try:
        results = {}
        for case, spec in CASES.items():
            # No reference to the DDP wrapper outlives its step: it must not meet a destroyed group.
            results[case] = loss_and_grads(nn.parallel.DistributedDataParallel(build_model(case)),
                                           *batch(*spec['shards'][rank]))
        # The gather helper itself: uneven rows and bool rows travel, and each rank's rows get the summed gradient.
        rows = torch.full((rank + 1, 2), float(rank + 1), requires_grad=True)
        gathered = all_gather_rows(rows)
        (gathered * torch.arange(1., 4.)[:, None]).sum().backward()  # every rank weights row k by k + 1
        results['gather'] = dict(gathered=gathered.detach(), grad=rows.grad,
                                 flags=all_gather_rows(torch.tensor([True, False][rank:])),
                                 layout=vars(RankBatch(rank + 1, torch.device('cpu'))))
        torch.save(results, osp.join(out_dir, f'rank{rank}.pt'))
    except BaseException:
        torch_dist.destroy_process_group()
        raise
    close_distributed()  # every rank got here: collect the DDP wrappers, wait for the peer, then destroy
    # The results are on disk. Leave without running the DDP / gloo destructors of this frame's
    # objects: with the peer already gone they can block the process at exit, and the spawn with it.
    os._exit(0)


@pytest.fixture(scope='module')
def ranks(tmp_path_factory):
    """What each of the two processes computed, for every case."""
    out_dir = str(tmp_path_factory.mktemp('global_contrast'))
    mp.start_processes(_worker, args=(WORLD_SIZE, rendezvous_url(), out_dir), nprocs=WORLD_SIZE, join=True,
                       start_method='spawn')
    return [torch.load(osp.join(out_dir, f'rank{r}.pt'), weights_only=False) for r in range(WORLD_SIZE)]


def reference(case: str):
    """One process with the whole batch."""
    return loss_and_grads(build_model(case), *batch(0, BATCH))


@pytest.mark.parametrize('case', ['icl', 'icl_keep_correspondence', 'icl_first_round', 'avc', 'icl_uneven'])
def test_two_processes_train_the_objective_of_one(ranks, case):
    expected_losses, expected_grads = reference(case)
    if CASES[case]['labels']:
        assert set(expected_losses) == {'loss_intra', 'loss_inter', 'loss_avc'}
    for name, value in expected_losses.items():
        mean = sum(rank[case][0][name] for rank in ranks) / WORLD_SIZE
        torch.testing.assert_close(mean, value, rtol=1e-5, atol=1e-6, msg=f'{case} {name}')
    for name, grad in expected_grads.items():
        assert grad.abs().max() > 0, name
        torch.testing.assert_close(ranks[0][case][1][name], ranks[1][case][1][name], rtol=0, atol=0)
        torch.testing.assert_close(ranks[0][case][1][name], grad, rtol=1e-4, atol=1e-6, msg=f'{case} {name}')


def test_local_only_contrast_trains_another_objective(ranks):
    expected_losses, expected_grads = reference('icl_local_only')  # one process: local and global coincide
    global_losses, _ = reference('icl')
    for name, value in expected_losses.items():
        assert torch.equal(value, global_losses[name])
    inter = sum(rank['icl_local_only'][0]['loss_inter'] for rank in ranks) / WORLD_SIZE
    assert not torch.allclose(inter, expected_losses['loss_inter'], rtol=1e-3)
    differ = [name for name, grad in expected_grads.items()
              if not torch.allclose(ranks[0]['icl_local_only'][1][name], grad, rtol=1e-3, atol=1e-5)]
    assert differ, 'a contrast within each rank should not give the gradient of the whole batch'


def test_gathered_rows_and_their_gradients(ranks):
    for rank in ranks:
        gather = rank['gather']
        assert gather['gathered'].tolist() == [[1., 1.], [2., 2.], [2., 2.]]
        assert gather['flags'].dtype == torch.bool and gather['flags'].tolist() == [True, False, False]
    # Row k is weighted by k + 1 on both ranks: rank 0 owns row 0, rank 1 rows 1 and 2.
    assert ranks[0]['gather']['grad'].tolist() == [[2., 2.]]
    assert ranks[1]['gather']['grad'].tolist() == [[4., 4.], [6., 6.]]
    assert [(r['gather']['layout']['start'], r['gather']['layout']['stop']) for r in ranks] == [(0, 1), (1, 3)]
    assert ranks[0]['gather']['layout']['total'] == 3 and ranks[0]['gather']['layout']['share'] == 1.5


def test_one_process_contrasts_its_own_batch_whatever_the_switch():
    """Without a process group nothing is gathered and both settings give bit-identical losses and gradients."""
    torch.manual_seed(0)
    sim = torch.rand(6, 6, 3, 3) * 2 - 1
    labels = dict(maps=torch.rand(6, 3, 3), clusters=torch.tensor([0, 1, 0, 1, 2, 2]),
                  valid=torch.tensor([True, True, False, True, True, True]))
    for make, kwargs in ((ICLLoss, dict(pseudo_labels=labels)), (ICLLoss, {}), (AVCorrespondenceLoss, {})):
        outputs = []
        for across in (True, False):
            leaf = sim.clone().requires_grad_()
            losses = make(gather_across_ranks=across)(leaf, **kwargs)
            sum(losses.values()).backward()
            outputs.append((losses, leaf.grad))
        for name in outputs[0][0]:
            assert torch.equal(outputs[0][0][name], outputs[1][0][name])
        assert torch.equal(outputs[0][1], outputs[1][1])
    layout = RankBatch(6, torch.device('cpu'))
    assert not layout.is_global and (layout.start, layout.stop, layout.total, layout.share) == (0, 6, 6, 6)
    with pytest.raises(ValueError, match='B×B×h×w'):
        ICLLoss()(torch.rand(2, 3, 4, 4), pseudo_labels=None)
