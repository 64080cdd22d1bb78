"""Training-time machinery: hooks (when the ICL pseudo-labels are refreshed, visualization, seeding) and
the ICL refresh itself (``pseudo_labels``: ``refresh_pseudo_labels`` and its parts)."""
from .hooks import *  # noqa: F401,F403
from .pseudo_labels import build_refresh_dataloader, extract_pseudo_labels, refresh_pseudo_labels  # noqa: F401
