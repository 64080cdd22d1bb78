"""Format a LocalizationMetric result as one text table (what ``tools/test.py`` prints)."""
import math
from typing import Dict, Optional

#: Table rows: (label, key prefix inside the metric namespace).
TABLE_ROWS = (
    ('model', ''),
    ('centre prior', 'center/'),
    ('whole image', 'whole/'),
    ('perfect localiser', 'perfect/'),
)
_ANCHOR = 'ciou@0.5'


def _metric_namespace(metrics: Dict) -> Optional[str]:
    """The prefix (``''`` or e.g. ``'loc/'``) under which the model's ``ciou@0.5`` lives."""
    candidates = []
    for key in metrics:
        if not key.endswith(_ANCHOR):
            continue
        namespace = key[:-len(_ANCHOR)]
        if not any(namespace.endswith(prefix) for _, prefix in TABLE_ROWS[1:]):
            candidates.append(namespace)
    return min(candidates, key=len) if candidates else None


def _cell(value, width: int) -> str:
    if value is None:
        return '-'.rjust(width)
    value = float(value)
    if math.isnan(value):
        return 'n/a'.rjust(width)
    return f'{value:.4f}'.rjust(width)


def format_localization_table(metrics: Dict, split_name: str) -> str:
    """One text table of a localization result: model, baselines, ceiling; extended scores below.

    Args:
        metrics (dict): What :class:`LocalizationMetric` returns (keys with or without the
            ``loc/`` prefix, as ``Runner.test()`` returns them).
        split_name (str): Name of the evaluated split, shown in the title.

    Returns:
        str: The table (rows: model, centre prior, whole image, perfect localiser; columns
        cIoU@0.5, AUC, mean cIoU, N), one line per row, without a trailing newline.
    """
    namespace = _metric_namespace(metrics)
    if namespace is None:
        return f'Localization on {split_name}: no localization metrics (expected a {_ANCHOR!r} key)'
    count = metrics.get(f'{namespace}num_samples')
    count_text = '-' if count is None else str(int(count))
    header = ('method', 'cIoU@0.5', 'AUC', 'mean cIoU', 'N')
    widths = (17, 8, 8, 9, max(3, len(count_text)))
    lines = [f'Localization on {split_name}']
    lines.append('| ' + ' | '.join(h.ljust(w) if i == 0 else h.rjust(w)
                                   for i, (h, w) in enumerate(zip(header, widths))) + ' |')
    lines.append('|' + '|'.join('-' * (w + 2) for w in widths) + '|')
    for label, row_prefix in TABLE_ROWS:
        key = namespace + row_prefix
        if f'{key}{_ANCHOR}' not in metrics:
            continue
        cells = [label.ljust(widths[0]), _cell(metrics.get(f'{key}{_ANCHOR}'), widths[1]),
                 _cell(metrics.get(f'{key}auc'), widths[2]), _cell(metrics.get(f'{key}mean_ciou'), widths[3]),
                 count_text.rjust(widths[4])]
        lines.append('| ' + ' | '.join(cells) + ' |')
    if f'{namespace}ap' in metrics:
        extra = metrics.get(f'{namespace}num_non_sounding')
        lines.append(f"extended: AP {_cell(metrics[f'{namespace}ap'], 0)}  "
                     f"max-F1 {_cell(metrics.get(f'{namespace}max_f1'), 0)}  "
                     f"precision@0.5 {_cell(metrics.get(f'{namespace}precision@0.5'), 0)}  "
                     f"(cIoU rows: sounding pairs only; non-sounding pairs: "
                     f"{'-' if extra is None else int(extra)})")
    return '\n'.join(lines)
