"""ICL's objective: intra-frame sampling and inter-frame relation from pseudo-labels.

Round 1 has no pseudo-labels and trains the plain correspondence objective.  From
round 2 on, each frame carries the previous round's map of where its own sound was
(``maps``) and its audio's k-means cluster (``clusters``):

* intra-frame sampling: the pooled similarity of audio i to frame i's *sounding*
  region (the pseudo map's top locations) must beat frame i's *silent* region (its
  bottom locations) and the sounding regions of the other frames.
* inter-frame relation: frames whose audio falls in the same cluster as audio i
  probably show the same kind of source, so their sounding regions are extra
  positives for audio i (a supervised-contrastive average over positives).
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from icl_av.registry import MODELS, build_in_scope
from .av_correspondence_loss import AVCorrespondenceLoss
from .pooling import masked_mean
from .rank_batch import RankBatch

MASK_MODES = ('hard', 'soft')


@MODELS.register_module()
class ICLLoss(nn.Module):
    """Iterative contrastive learning loss.

    Args:
        tau (float): Temperature of the pseudo-label contrastive terms.
            Defaults to 0.07.
        fg_ratio (float): Fraction of a frame's locations, taken from the top of its
            pseudo map, that form its sounding (foreground) region in ``'hard'``
            mode. At least one location is used. Defaults to 0.2.
        bg_ratio (float): Fraction of locations, from the bottom of the pseudo map,
            that form its silent (background) region in ``'hard'`` mode. Keep
            ``fg_ratio + bg_ratio <= 1`` so the regions do not overlap.
            Defaults to 0.5.
        mask_mode (str): ``'hard'`` (top/bottom fractions, binary masks) or
            ``'soft'`` (foreground weights = the map, background = 1 - map).
        intra_weight (float): Weight of the intra-frame term (``loss_intra``).
        inter_weight (float): Weight of the inter-frame term (``loss_inter``).
        avc_weight (float): Weight of the correspondence fallback (``loss_avc``)
            used in round 1 and for samples whose pseudo-label is not valid.
        correspondence (dict): Config of the correspondence objective
            (an :class:`AVCorrespondenceLoss`), e.g. its ``tau`` and ``pool``; it
            contrasts the same samples as this loss (its own ``gather_across_ranks``
            is not read).
        keep_correspondence (bool): Keep the correspondence objective on for every
            sample after the first round (the pseudo-label terms are added to it),
            instead of only for samples without a valid pseudo-label. Defaults to False.
        gather_across_ranks (bool): In data-parallel training, contrast each audio with
            the frames of every rank: the negatives, the inter-frame positives (same
            cluster) and the correspondence fallback then come from the whole batch of
            all ranks, so N processes of B/N samples train the objective of one process
            of B samples (scores, clusters and validity are gathered with gradients and
            each rank's loss is scaled for DDP's gradient averaging; see
            :mod:`~icl_av.models.losses.rank_batch`). ``False`` contrasts only within each
            rank's batch. One process computes the same either way. Defaults to True.

    Returns (``forward``):
        dict: ``loss_avc`` in round 1; ``loss_intra``, ``loss_inter``,
        ``loss_avc`` afterwards. Each term sums its samples' losses and divides
        by the batch size, so a batch mixing valid and invalid samples weighs
        every sample once (across ranks: by the batch size of all ranks over the
        number of ranks).
    """

    def __init__(self, tau: float = 0.07, fg_ratio: float = 0.2, bg_ratio: float = 0.5, mask_mode: str = 'hard',
                 intra_weight: float = 1.0, inter_weight: float = 1.0, avc_weight: float = 1.0,
                 correspondence: Optional[dict] = None, keep_correspondence: bool = False,
                 gather_across_ranks: bool = True):
        super().__init__()
        if mask_mode not in MASK_MODES:
            raise ValueError(f'ICLLoss: mask_mode must be one of {MASK_MODES}, got {mask_mode!r}')
        if not (0 < fg_ratio <= 1 and 0 < bg_ratio <= 1):
            raise ValueError(f'ICLLoss: fg_ratio and bg_ratio must be in (0, 1], got {fg_ratio}, {bg_ratio}')
        if mask_mode == 'hard' and fg_ratio + bg_ratio > 1:
            raise ValueError(f'ICLLoss: fg_ratio + bg_ratio = {fg_ratio + bg_ratio} > 1 makes the sounding and '
                             f'silent regions overlap')
        if tau <= 0:
            raise ValueError(f'ICLLoss: tau must be > 0, got {tau}')
        self.tau, self.fg_ratio, self.bg_ratio, self.mask_mode = tau, fg_ratio, bg_ratio, mask_mode
        self.intra_weight, self.inter_weight, self.avc_weight = intra_weight, inter_weight, avc_weight
        self.keep_correspondence = keep_correspondence
        self.gather_across_ranks = bool(gather_across_ranks)
        cfg = dict(type='AVCorrespondenceLoss')
        cfg.update(correspondence or {})
        self.correspondence = build_in_scope(MODELS, cfg)
        if not isinstance(self.correspondence, AVCorrespondenceLoss):
            raise TypeError(f'ICLLoss: correspondence must build an AVCorrespondenceLoss, got '
                            f'{type(self.correspondence).__name__}')

    def region_masks(self, maps: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Sounding and silent region weights of each frame from its pseudo map.

        Args:
            maps (Tensor): ``B×h×w`` pseudo maps in ``[0, 1]``.

        Returns:
            tuple[Tensor, Tensor]: foreground and background weights, ``B×h×w``.
            Ties (e.g. a flat map) are broken arbitrarily by ``topk``.
        """
        maps = maps.float().clamp(0, 1)
        if self.mask_mode == 'soft':
            return maps, 1.0 - maps
        flat = maps.flatten(1)
        num = flat.shape[1]
        k_fg = max(1, min(num, round(self.fg_ratio * num)))
        k_bg = max(1, min(num, round(self.bg_ratio * num)))
        fg = torch.zeros_like(flat).scatter_(1, flat.topk(k_fg, dim=1).indices, 1.0)
        bg = torch.zeros_like(flat).scatter_(1, (-flat).topk(k_bg, dim=1).indices, 1.0)
        return fg.view_as(maps), bg.view_as(maps)

    def candidate_logits(self, fg_scores: torch.Tensor, bg_scores: torch.Tensor, valid: torch.Tensor,
                         start: int = 0) -> torch.Tensor:
        """Scores of each anchor audio's candidates: ``[frame 0 fg, ..., frame B-1 fg | own bg]``.

        Row i holds, for anchor audio i, the pooled similarity to every frame j's
        foreground (column j; column ``start + i``, its own frame, is the positive) and
        to its own frame's background (last column), divided by ``tau``. Other frames
        whose pseudo label is not valid are masked out (``-inf``): their foreground is
        unknown.

        Args:
            fg_scores (Tensor): ``B_r×B``, anchor audio i with frame j's foreground
                (``B_r = B`` in one process).
            bg_scores (Tensor): ``B_r``, each anchor's own frame's background.
            valid (Tensor): ``B`` bool, the frames' pseudo-label validity.
            start (int): Column of the first anchor's own frame.

        Returns:
            Tensor: ``B_r×(B+1)`` logits.
        """
        anchors = fg_scores.shape[0]
        logits = torch.cat([fg_scores, bg_scores[:, None]], dim=1) / self.tau
        own = _own_frames(anchors, fg_scores.shape[1], start, fg_scores.device)
        unknown = ~valid[None, :].expand_as(own) & ~own
        unknown = torch.cat([unknown, unknown.new_zeros(anchors, 1)], dim=1)
        return logits.masked_fill(unknown, float('-inf'))

    def forward(self, sim: torch.Tensor, pseudo_labels: Optional[dict] = None, **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the loss terms.

        Args:
            sim (Tensor): ``B×B×h×w`` cosine maps, frame i with audio j. When
                contrasting across ranks, ``B_r×B×h×w``: this rank's frames against
                every rank's audios in rank order (AVLocalizer gathers them).
            pseudo_labels (dict, optional): This rank's ``maps`` (``B_r×h×w`` float in
                [0, 1]), ``clusters`` (``B_r`` long), ``valid`` (``B_r`` bool);
                ``None`` in the first round.

        Returns:
            dict[str, Tensor]: Named loss terms (see the class docstring).
        """
        batch = RankBatch(sim.shape[0], sim.device, self.gather_across_ranks)
        batch.check_pairs(sim, type(self).__name__)
        if pseudo_labels is None:
            return {'loss_avc': self.avc_weight * batch.mean(self.correspondence.rank_losses(sim, batch))}
        anchors = sim.shape[0]
        maps, clusters = pseudo_labels['maps'], pseudo_labels['clusters']
        valid = pseudo_labels.get('valid')
        valid = torch.ones(anchors, dtype=torch.bool, device=sim.device) if valid is None else valid.bool()
        if maps.shape != (anchors, *sim.shape[-2:]):
            raise ValueError(f'ICLLoss: pseudo maps of shape {tuple(maps.shape)} do not match the similarity '
                             f'maps {tuple(sim.shape)} (expected B×h×w)')

        fg, bg = self.region_masks(maps.to(sim.dtype))
        # Each rank pools its own frames' foregrounds against all audios; the anchors are this rank's audios.
        fg_scores = batch.gather(masked_mean(sim, fg))[:, batch.start:batch.stop].t()  # [audio i, frame j]
        own = torch.diagonal(sim, offset=batch.start, dim1=0, dim2=1).permute(2, 0, 1)  # frame i with audio i
        bg_scores = (own * bg).sum(dim=(1, 2)) / bg.sum(dim=(1, 2)).clamp_min(1e-6)
        all_valid, all_clusters = batch.gather(valid), batch.gather(clusters)
        logits = self.candidate_logits(fg_scores, bg_scores, all_valid, batch.start)
        log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        rows = torch.arange(anchors, device=sim.device)
        intra = -log_prob[rows, rows + batch.start]

        same_cluster = clusters[:, None] == all_clusters[None, :]
        own_frame = _own_frames(anchors, batch.total, batch.start, sim.device)
        positives = same_cluster & (all_valid[None, :] | own_frame)
        frame_log_prob = log_prob[:, :batch.total]
        positive_log_prob = torch.where(positives, frame_log_prob, torch.zeros_like(frame_log_prob))
        inter = -positive_log_prob.sum(dim=1) / positives.sum(dim=1)

        avc = self.correspondence.rank_losses(sim, batch)
        valid_f = valid.to(sim.dtype)
        avc_f = torch.ones_like(valid_f) if self.keep_correspondence else 1 - valid_f
        return {
            'loss_intra': self.intra_weight * (valid_f * intra).sum() / batch.share,
            'loss_inter': self.inter_weight * (valid_f * inter).sum() / batch.share,
            'loss_avc': self.avc_weight * (avc_f * avc).sum() / batch.share,
        }


def _own_frames(anchors: int, total: int, start: int, device: torch.device) -> torch.Tensor:
    """``anchors×total`` bool, True where column ``start + i`` is anchor i's own frame."""
    columns = torch.arange(total, device=device)
    return columns[None, :] == (torch.arange(anchors, device=device) + start)[:, None]
