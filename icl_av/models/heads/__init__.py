"""Heads: projections into the shared audio-visual space and similarity maps."""
from .av_similarity_head import AVSimilarityHead

__all__ = ['AVSimilarityHead']
