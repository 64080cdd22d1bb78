"""Which samples a contrastive loss compares: this rank's batch, or the batch of every rank.

With data-parallel training each process (rank) holds ``B_r`` of the ``B = sum(B_r)``
samples of a step. A loss that contrasts a sample only with its own rank's batch trains
a different objective for each process count (``N`` ranks of ``B/N`` samples see ``B/N - 1``
negatives, not ``B - 1``). A *global* contrast keeps the objective of one process with
``B`` samples:

* every rank gathers, with gradients, the rows the loss compares (audio embeddings, then
  per-pair scores of its own frames) from all ranks (:meth:`RankBatch.gather`);
* each rank computes the losses of its *own* anchors against all ``B`` candidates;
* each rank divides the sum of its anchors' losses by ``B / N`` (:attr:`RankBatch.share`),
  not by ``B``.

Why ``B / N``: the objective is ``L = (1/B) * sum over all anchors a of l_a``. Rank r
returns ``L_r = (N/B) * sum over its anchors of l_a``, so the mean of the ``L_r`` is ``L``.
The gather's backward sums, for rank r's rows, the gradients coming from every rank's
``L_r``; rank r's parameters therefore receive ``N * dL/dθ`` through rank r's samples. DDP
averages the ranks' gradients, ``(1/N) * sum_r N * dL/dθ|_r = dL/dθ``: exactly the
gradient of one process with the whole batch. (Batch-norm statistics stay per rank; use
SyncBN where that matters.)

With one process, or with ``gather_across_ranks=False``, the batch is the rank's own and
every loss computes exactly what it computed before global contrast existed.
"""
import torch
import torch.distributed as dist

from icl_av.utils.dist_env import all_gather_rows, gather_batch_sizes


class RankBatch:
    """This rank's place in the batch a contrastive loss compares its samples with.

    Args:
        local_size (int): ``B_r``, the samples (frames) of this rank.
        device (torch.device): Where the size exchange runs (the backend's device).
        across_ranks (bool): Contrast with every rank's samples when a process group of
            more than one rank is running; otherwise (or with ``False``) with this rank's only.

    Attributes:
        is_global (bool): Several ranks take part.
        world_size (int): ``N`` (1 when not global).
        sizes (list[int]): Every rank's ``B_r`` in rank order.
        start, stop (int): This rank's samples are rows ``start:stop`` of the gathered batch.
        total (int): ``B``, the samples of all ranks.
        share (float | int): What the sum of this rank's anchor losses is divided by:
            ``B / N`` when global (see the module docstring), ``B_r`` otherwise.
    """

    def __init__(self, local_size: int, device: torch.device, across_ranks: bool = True):
        initialized = dist.is_available() and dist.is_initialized()
        self.world_size = dist.get_world_size() if across_ranks and initialized else 1
        self.is_global = self.world_size > 1
        if self.is_global:
            self.sizes = gather_batch_sizes(local_size, device)
            rank = dist.get_rank()
        else:
            self.sizes, rank = [int(local_size)], 0
        self.start, self.stop = sum(self.sizes[:rank]), sum(self.sizes[:rank + 1])
        self.total = sum(self.sizes)
        self.share = self.total / self.world_size if self.is_global else int(local_size)

    def gather(self, rows: torch.Tensor) -> torch.Tensor:
        """Every rank's ``rows`` (``B_r×...``) as one ``B×...`` tensor, differentiable; ``rows`` when local."""
        return all_gather_rows(rows, self.sizes) if self.is_global else rows

    def check_pairs(self, sim: torch.Tensor, owner: str) -> None:
        """Raise unless ``sim`` pairs this rank's ``B_r`` frames with the ``B`` audios of the contrast."""
        if sim.dim() == 4 and sim.shape[1] == self.total:
            return
        if self.is_global:
            raise ValueError(f'{owner} contrasts across {self.world_size} ranks and expects B_r×B×h×w similarity '
                             f'maps (this rank\'s frames against the B = {self.total} audios of all ranks, '
                             f'as AVLocalizer gathers them), got {tuple(sim.shape)}')
        raise ValueError(f'{owner} expects B×B×h×w similarity maps, got {tuple(sim.shape)}')

    def mean(self, per_anchor: torch.Tensor) -> torch.Tensor:
        """The batch mean of per-anchor losses of this rank (``.mean()`` when local, sum / ``share`` when global)."""
        return per_anchor.sum() / self.share if self.is_global else per_anchor.mean()
