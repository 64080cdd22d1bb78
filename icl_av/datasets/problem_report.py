"""Build-time reports of unusable dataset entries: every problem at once, counted by reason."""
from collections import OrderedDict
from typing import Dict, List, Sequence

#: How many IDs / paths a report names before it says ``(+N more)``.
NUM_EXAMPLES_IN_REPORT = 5


def name_some(ids: Sequence[str], limit: int = NUM_EXAMPLES_IN_REPORT) -> str:
    """``'a, b, c'`` or ``'a, b, c (+7 more)'``: the IDs a warning names."""
    ids = list(ids)
    shown = ', '.join(str(i) for i in ids[:limit])
    return shown + (f' (+{len(ids) - limit} more)' if len(ids) > limit else '')


class ProblemReport:
    """Collects unusable entries by reason and formats one message for all of them."""

    def __init__(self):
        self.by_reason: Dict[str, List[str]] = OrderedDict()
        self.bad_ids = set()

    def add(self, video_id: str, reason: str, path: str) -> None:
        """Record that entry ``video_id`` is unusable because of ``reason`` (``path`` shown)."""
        self.by_reason.setdefault(reason, []).append(path)
        self.bad_ids.add(video_id)

    def __bool__(self) -> bool:
        return bool(self.bad_ids)

    def format(self, dataset_name: str, total: int) -> str:
        """One multi-line message: counts per reason and the first few paths of each."""
        lines = [f'{dataset_name}: {len(self.bad_ids)} of {total} entries are unusable:']
        for reason, paths in self.by_reason.items():
            shown = ', '.join(paths[:NUM_EXAMPLES_IN_REPORT])
            more = f' (+{len(paths) - NUM_EXAMPLES_IN_REPORT} more)' if len(paths) > NUM_EXAMPLES_IN_REPORT else ''
            lines.append(f'  - {len(paths)} × {reason}: {shown}{more}')
        return '\n'.join(lines)
