"""Training-time machinery: hooks (the ICL pseudo-label refresh, visualization, seeding) and the
single-purpose parts of the ICL iteration the refresh hook schedules (``pseudo_labels``)."""
from .hooks import *  # noqa: F401,F403
from .pseudo_labels import build_refresh_dataloader, extract_pseudo_labels  # noqa: F401
