"""Training-time machinery: hooks (the ICL pseudo-label refresh, visualization, seeding)."""
from .hooks import *  # noqa: F401,F403
