"""The numbers one pseudo-label refresh reports: how the new labels look, for its log line and scalars."""
from typing import Dict, Optional

import torch


def refresh_statistics(maps: torch.Tensor, clusters: torch.Tensor, keep: torch.Tensor, num_clusters: int,
                       fg_threshold: float, map_change: Optional[float] = None) -> Dict[str, float]:
    """Summarise a round of pseudo-labels.

    Args:
        maps (Tensor): ``N×h×w`` normalised maps in ``[0, 1]``.
        clusters (LongTensor): ``N`` cluster ids in ``[0, num_clusters)``.
        keep (BoolTensor): ``N`` flags: the label may be trained on.
        num_clusters (int): k of the clustering (empty clusters count too).
        fg_threshold (float): Map value from which a location counts as foreground.
        map_change (float, optional): The bank's change figure (see ``PseudoLabelBank.update``).

    Returns:
        dict[str, float]: ``num_samples``, ``cluster_size_min`` / ``_max``, ``clusters_empty``,
        ``fg_area`` (mean fraction of locations ``>= fg_threshold``), ``fg_threshold``, ``kept``
        (fraction of labels kept) and, when given, ``map_change``.
    """
    sizes = torch.bincount(clusters.cpu(), minlength=num_clusters)
    stats = dict(
        num_samples=float(maps.shape[0]),
        cluster_size_min=float(sizes.min()),
        cluster_size_max=float(sizes.max()),
        clusters_empty=float((sizes == 0).sum()),
        fg_area=float((maps >= fg_threshold).float().mean()),
    )
    if map_change is not None:
        stats['map_change'] = float(map_change)
    stats['fg_threshold'] = float(fg_threshold)
    stats['kept'] = float(keep.float().mean())
    return stats


def format_refresh_line(statistics: Dict[str, float], where: str, num_clusters: int) -> str:
    """The one log line of a refresh (``where``: e.g. ``'before training'``) from its statistics.

    Reads the keys of :func:`refresh_statistics`, ``seconds`` and, when present,
    ``time_ratio_to_epoch`` (the refresh's time over the last training epoch's).
    """
    ratio = (f' ({statistics["time_ratio_to_epoch"]:.2f}x the last training epoch)'
             if 'time_ratio_to_epoch' in statistics else '')
    change = f'{statistics["map_change"]:.4f}' if 'map_change' in statistics else 'n/a (first refresh)'
    return (f'PseudoLabelHook: refresh {where}: {int(statistics["num_samples"])} samples in '
            f'{statistics["seconds"]:.1f} s{ratio}; {num_clusters} clusters, size min '
            f'{int(statistics["cluster_size_min"])} / max {int(statistics["cluster_size_max"])}, '
            f'{int(statistics["clusters_empty"])} empty; mean foreground area {statistics["fg_area"]:.3f} '
            f'(map >= {statistics["fg_threshold"]:g}); mean |map change| since last refresh {change}; '
            f'{statistics["kept"]:.1%} of the pseudo-labels kept')
