"""LocalizationMetric: cIoU / AUC of sound-source maps, with baselines, ceiling and extended AP/F1.

One map's way: ``pred_map`` (feature resolution) -> upsampled to the evaluation grid ->
min-max normalised -> binarised by the protocol -> cIoU against the GT map built on the
same grid (Flickr consensus ``gt_map``, union of ``gt_masks`` or of ``gt_bboxes``).
The protocol is described in :mod:`icl_av.evaluation.metrics`; the extended-benchmark
definitions in :mod:`icl_av.evaluation.metrics.extended`.

Distributed use: each rank scores its own samples in :meth:`process` (every per-sample
number depends on that sample only, so only a few floats per sample are stored and
gathered); :meth:`compute_metrics` aggregates the gathered list on rank 0, so the result
does not depend on the batch size or the number of processes.

Gathering (:meth:`LocalizationMetric.evaluate`) keeps every rank's whole list and
concatenates them, then drops the repeats the sampler pads the last shard with (the same
``(sample_idx, video_id)``). MMEngine's own merge interleaves the ranks' lists and cuts
the result to the dataset's size, which assumes every rank holds the same number of
records; with ``on_corrupt='skip'`` on a test set a rank that dropped a sample holds
fewer, and the cut then keeps a padded repeat in place of nothing, counting a sample
twice. By default the lists travel through the process group (NCCL or gloo), so no
directory shared by the nodes is needed.
"""
import os
import pickle
import shutil
import tempfile
from itertools import chain, zip_longest
import os.path as osp
from typing import Dict, List, Optional, Sequence

import mmengine
import numpy as np
import torch
from mmengine.dist import all_gather_object, barrier, broadcast_object_list, get_dist_info, is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.evaluator.metric import _to_cpu
from mmengine.logging import MMLogger, print_log

from icl_av.registry import METRICS
from icl_av.structures.masks import encode_rle
from .extended import extended_scores
from .ciou_scores import ciou, summarize_cious
from .gt_maps import build_gt_map
from .map_binarization import binarize_map, binarize_prediction
from .protocol_presets import resolve_protocol
from .reference_maps import center_prior_map, perfect_prediction

#: The scorers reported next to the model: key prefix -> description.
BASELINES = {
    'center': 'centre prior (centred Gaussian map)',
    'whole': 'whole image (constant map)',
    'perfect': 'perfect localiser (GT as the map: the protocol ceiling)',
}


def map_peak(pred_map: torch.Tensor) -> List[float]:
    """Where ``pred_map`` (``h×w``) is highest: the centre of that cell as ``[x, y]`` fractions of the map.

    Ties go to the first cell in row-major order.
    """
    height, width = pred_map.shape[-2:]
    index = int(torch.argmax(pred_map.reshape(-1)))
    return [(index % width + 0.5) / width, (index // width + 0.5) / height]


COLLECT_DEVICES = ('auto', 'gpu', 'cpu')


def gather_rank_parts(part: list, collect_device: str = 'auto', collect_dir: Optional[str] = None
                      ) -> Optional[List[list]]:
    """Every rank's list of records, in rank order, on rank 0 (``None`` on the other ranks).

    Args:
        part (list): This rank's records.
        collect_device (str): ``'auto'`` or ``'gpu'``: through the process group
            (``all_gather_object``: NCCL moves the pickled lists through GPU memory, gloo
            through the network; nothing is written to disk). ``'cpu'``: each rank pickles
            its list into ``collect_dir`` and rank 0 reads them back.
        collect_dir (str, optional): For ``'cpu'``: a directory every rank writes and rank 0
            reads, so on several nodes a shared filesystem; default a fresh folder under
            ``./.dist_test`` (one node, or a shared working directory).
    """
    rank, world_size = get_dist_info()
    if world_size == 1:
        return [list(part)]
    if collect_device != 'cpu':
        parts = all_gather_object(list(part))
        return [list(p) for p in parts] if rank == 0 else None
    folder = [None]
    if rank == 0:
        if collect_dir is None:
            os.makedirs('.dist_test', exist_ok=True)
            folder[0] = tempfile.mkdtemp(dir='.dist_test')
        else:
            os.makedirs(collect_dir, exist_ok=True)
            folder[0] = tempfile.mkdtemp(dir=collect_dir)
    broadcast_object_list(folder)
    with open(osp.join(folder[0], f'part_{rank}.pkl'), 'wb') as handle:
        pickle.dump(list(part), handle, protocol=pickle.HIGHEST_PROTOCOL)
    barrier()
    if rank != 0:
        return None
    parts = []
    for index in range(world_size):
        path = osp.join(folder[0], f'part_{index}.pkl')
        if not osp.exists(path):
            raise FileNotFoundError(f'LocalizationMetric: {path} (rank {index}\'s results) is not visible on rank 0: '
                                    "collect_dir must be shared by every rank, or use collect_device='auto'")
        with open(path, 'rb') as handle:
            parts.append(pickle.load(handle))
    shutil.rmtree(folder[0], ignore_errors=True)
    return parts


def merge_rank_parts(parts: Sequence[list], size: int) -> list:
    """One record per sample from the ranks' lists, whatever their lengths.

    With ``sample_idx`` on every record the lists are concatenated and a record whose
    ``(sample_idx, video_id)`` was already seen (the sampler's padding repeats samples to
    give every rank as many) is dropped. Without it the padding cannot be told apart, so
    the lists are interleaved as the sampler dealt them and cut to ``size`` (MMEngine's
    merge, exact only when every rank holds as many records; a warning says when not).
    """
    records = [record for part in parts for record in part]
    if records and all(record.get('sample_idx') is not None for record in records):
        seen, unique = set(), []
        for record in records:
            key = (record['sample_idx'], record.get('video_id'))
            if key not in seen:
                seen.add(key)
                unique.append(record)
        return unique
    if len({len(part) for part in parts}) > 1:
        MMLogger.get_current_instance().warning(
            'LocalizationMetric: the ranks hold different numbers of records (samples that failed to load) and '
            'the records carry no sample_idx, so padded repeats cannot be dropped exactly; add sample_idx to '
            'PackAVInputs meta_keys')
    interleaved = [record for record in chain.from_iterable(zip_longest(*parts)) if record is not None]
    return interleaved[:size]


def _to_float(value) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().reshape(-1)[0])
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])


@METRICS.register_module()
class LocalizationMetric(BaseMetric):
    """cIoU@0.5, AUC and mean cIoU of predicted maps, next to trivial baselines and the ceiling.

    Returned keys (with the ``loc/`` prefix): ``ciou@0.5``, ``auc``, ``mean_ciou``,
    ``num_samples``; the same three under ``center/``, ``whole/`` and ``perfect/`` (see
    :data:`BASELINES`, scored on the same samples and protocol); with ``extended=True``
    also ``ap``, ``max_f1``, ``precision@0.5`` and ``num_non_sounding`` -- the cIoU keys are
    then computed on the sounding pairs only.

    After :meth:`compute_metrics`, ``self.per_sample_results`` holds one dict per sample
    (``video_id``, ``sample_idx``, ``ciou``, ``confidence``, ``is_sounding``, the baselines'
    cIoUs, ``peak`` — where the map is highest, ``(x, y)`` as fractions of the frame's width and
    height, for pointing-game style analyses — and, with ``save_pred_rle``, the binary prediction as COCO RLE ``pred_rle``),
    sorted by ``sample_idx`` when every sample carries one (the metrics do not depend on the
    order; the records' order does, so a missing ``sample_idx`` leaves them in arrival order and
    logs a warning); ``out_file`` also writes them with the metrics (JSON, or pickle for ``.pkl``).

    Args:
        preset (str): Protocol preset (``'lvs'`` default, ``'adaptive'``, ``'native'``).
        eval_size (int | tuple | str, optional): Override: evaluation grid or ``'img_shape'``.
        upsample (str, optional): Override: ``'bilinear'``, ``'bilinear_ac'``, ``'bicubic'``,
            ``'area'`` or ``'nearest'``.
        threshold (str | float, optional): Override: ``'median'``, ``'gt_area'`` or a float.
        comparison (str, optional): Override: ``'>='`` or ``'>'``.
        gt_source (str): ``'auto'`` (``gt_map`` > ``gt_masks`` > ``gt_bboxes``), ``'map'``,
            ``'masks'`` or ``'bboxes'``.
        baselines (bool): Also score the centre prior, whole image and perfect localiser.
        extended (bool): Extended benchmark (needs ``is_sounding`` on every sample).
        ciou_thr (float): Success threshold of ``ciou@…`` and of extended true positives.
        recall_mode (str): Extended recall definition, ``'slavc'`` or ``'detection'``.
        save_pred_rle (bool): Keep each binary prediction as COCO RLE in the per-sample results.
        out_file (str, optional): JSON file for the metrics and the per-sample results.
        collect_device (str): How the ranks' records reach rank 0 (:func:`gather_rank_parts`):
            ``'auto'`` (default) or ``'gpu'`` through the process group, which needs no
            shared directory (several nodes); ``'cpu'`` through files in ``collect_dir``.
        prefix (str, optional): Metric key prefix (default ``'loc'``).
        collect_dir (str, optional): With ``collect_device='cpu'`` (implied when given): a
            directory shared by every rank (on several nodes, a shared filesystem).
    """
    default_prefix = 'loc'

    def __init__(self, preset: str = 'lvs', eval_size=None, upsample: Optional[str] = None, threshold=None,
                 comparison: Optional[str] = None, gt_source: str = 'auto', baselines: bool = True,
                 extended: bool = False, ciou_thr: float = 0.5, recall_mode: str = 'slavc',
                 save_pred_rle: bool = False, out_file: Optional[str] = None, collect_device: str = 'auto',
                 prefix: Optional[str] = None, collect_dir: Optional[str] = None):
        if collect_device not in COLLECT_DEVICES:
            raise ValueError(f'collect_device must be one of {COLLECT_DEVICES}, got {collect_device!r}')
        if collect_dir is not None and collect_device == 'auto':
            collect_device = 'cpu'
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.protocol = resolve_protocol(preset, eval_size=eval_size, upsample=upsample, threshold=threshold,
                                         comparison=comparison)
        if gt_source not in ('auto', 'map', 'masks', 'bboxes'):
            raise ValueError(f"gt_source must be 'auto', 'map', 'masks' or 'bboxes', got {gt_source!r}")
        if recall_mode not in ('slavc', 'detection'):
            raise ValueError(f"recall_mode must be 'slavc' or 'detection', got {recall_mode!r}")
        self.gt_source = gt_source
        self.baselines = baselines
        self.extended = extended
        self.ciou_thr = float(ciou_thr)
        self.recall_mode = recall_mode
        self.save_pred_rle = save_pred_rle
        self.out_file = out_file
        self.per_sample_results: List[dict] = []
        self._center_cache: Dict[tuple, torch.Tensor] = {}

    # ------------------------------------------------------------------ per sample
    def process(self, data_batch, data_samples: Sequence) -> None:
        """Score every predicted sample of a batch and keep the small per-sample record."""
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            self.results.append(self.score_sample(sample))

    def _center_map(self, size) -> torch.Tensor:
        if size not in self._center_cache:
            self._center_cache[size] = center_prior_map(size)
        return self._center_cache[size]

    def score_sample(self, sample: dict) -> dict:
        """The per-sample record of one predicted sample (a dict as ``AVDataSample.to_dict()`` gives).

        Args:
            sample (dict): Needs ``pred_map`` and ``img_shape``; reads ``gt_map`` /
                ``gt_masks`` / ``gt_bboxes``, ``confidence``, ``is_sounding``, ``video_id``,
                ``sample_idx``.

        Returns:
            dict: ``video_id``, ``sample_idx``, ``confidence``, ``is_sounding``, ``has_gt``,
            ``gt_fraction``, ``ciou`` and the baselines' ``<name>_ciou`` (``None`` where not
            scored), optionally ``pred_rle``.
        """
        video_id = sample.get('video_id')
        pred_map = sample.get('pred_map')
        if pred_map is None:
            raise KeyError(f'LocalizationMetric: sample {video_id!r} has no pred_map; the model must be run '
                           "with mode='predict' (AVLocalizer.predict) before the metric")
        pred_map = torch.as_tensor(pred_map).detach().float().cpu()
        size = self.protocol.size_for(sample.get('img_shape'))
        confidence = sample.get('confidence')
        confidence = _to_float(confidence) if confidence is not None else float(pred_map.max())
        is_sounding = sample.get('is_sounding')
        if self.extended and is_sounding is None:
            raise KeyError(f'LocalizationMetric(extended=True): sample {video_id!r} has no is_sounding field')
        is_sounding = None if is_sounding is None else bool(_to_float(is_sounding))

        gt = build_gt_map(sample, size, self.gt_source)
        gt_area = int((gt > 0).sum()) if gt is not None else 0
        binary = binarize_prediction(pred_map, size, self.protocol, gt_area)
        record = dict(video_id=video_id, sample_idx=sample.get('sample_idx'), confidence=confidence,
                      is_sounding=is_sounding, has_gt=gt is not None, peak=map_peak(pred_map),
                      gt_fraction=float((gt > 0).float().mean()) if gt is not None else None,
                      ciou=None)
        for name in BASELINES:
            record[f'{name}_ciou'] = None
        scored = gt is not None and is_sounding is not False
        if scored:
            record['ciou'] = ciou(binary, gt)
            if self.baselines:
                record['center_ciou'] = ciou(binarize_map(self._center_map(size), self.protocol, gt_area), gt)
                record['whole_ciou'] = ciou(torch.ones(size), gt)
                record['perfect_ciou'] = ciou(perfect_prediction(gt, self.protocol), gt)
        if self.save_pred_rle:
            record['pred_rle'] = encode_rle(binary.numpy() > 0)
        return record

    # ------------------------------------------------------------------ aggregate
    def evaluate(self, size: int) -> dict:
        """Gather every rank's records without truncation, score them on rank 0, share the metrics.

        Args:
            size (int): The dataset's length (used only for records without ``sample_idx``,
                see :func:`merge_rank_parts`).

        Returns:
            dict: The prefixed metrics, on every rank.
        """
        if not self.results:
            print_log(f'{type(self).__name__} got no results on this rank', logger='current', level=30)
        parts = gather_rank_parts(self.results, self.collect_device, self.collect_dir)
        metrics = [None]
        if is_main_process():
            computed = self.compute_metrics(_to_cpu(merge_rank_parts(parts, size)))
            if self.prefix:
                computed = {f'{self.prefix}/{key}': value for key, value in computed.items()}
            metrics = [computed]
        broadcast_object_list(metrics)
        self.results.clear()
        return metrics[0]

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Aggregate the gathered per-sample records (see the class docstring for the keys)."""
        logger = MMLogger.get_current_instance()
        if all(r['sample_idx'] is not None for r in results):
            results = sorted(results, key=lambda r: r['sample_idx'])
        else:
            logger.warning('LocalizationMetric: some samples carry no sample_idx (PackAVInputs meta_keys), so the '
                           'per-sample records stay in arrival order, which depends on the ranks and batches')
        self.per_sample_results = list(results)

        if self.extended:
            considered = [r for r in results if r['is_sounding']]
        else:
            considered = list(results)
        missing = [r['video_id'] for r in considered if not r['has_gt']]
        if missing:
            logger.warning(f'LocalizationMetric: {len(missing)} sample(s) have no GT map/masks/boxes and are not '
                           f'scored (first: {missing[:3]})')
        scored = [r for r in considered if r['ciou'] is not None]

        metrics: Dict[str, float] = {}
        metrics.update(summarize_cious([r['ciou'] for r in scored], self.ciou_thr))
        metrics['num_samples'] = len(scored)
        if self.baselines:
            for name in BASELINES:
                for key, value in summarize_cious([r[f'{name}_ciou'] for r in scored], self.ciou_thr).items():
                    metrics[f'{name}/{key}'] = value
        if self.extended:
            # A sounding pair that could not be scored (no GT) counts as mislocalised.
            cious = [r['ciou'] if r['ciou'] is not None else 0.0 for r in results]
            metrics.update(extended_scores([r['confidence'] for r in results], [r['is_sounding'] for r in results],
                                           cious, self.ciou_thr, self.recall_mode))
            metrics['num_non_sounding'] = sum(1 for r in results if not r['is_sounding'])
        if self.out_file:
            self._dump(metrics)
        return metrics

    def _dump(self, metrics: dict) -> None:
        """Write the protocol, metrics and per-sample records to ``out_file`` (``.pkl`` pickled, else JSON)."""
        directory = osp.dirname(osp.abspath(self.out_file))
        mmengine.mkdir_or_exist(directory)
        protocol = dict(vars(self.protocol))
        protocol['eval_size'] = list(protocol['eval_size']) if protocol['eval_size'] != 'img_shape' else 'img_shape'
        payload = dict(protocol=protocol, metrics=metrics, samples=self.per_sample_results)
        if self.out_file.endswith(('.pkl', '.pickle')):
            mmengine.dump(payload, self.out_file, file_format='pkl')
        else:
            mmengine.dump(payload, self.out_file, file_format='json', indent=1)
