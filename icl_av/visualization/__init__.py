"""Visualization: heatmap overlays (pure helpers) and the AVLocalVisualizer."""
from .heatmap import colorize_heatmap, heatmap_to_size, overlay_heatmap
from .local_visualizer import AVLocalVisualizer

__all__ = ['AVLocalVisualizer', 'heatmap_to_size', 'colorize_heatmap', 'overlay_heatmap']
