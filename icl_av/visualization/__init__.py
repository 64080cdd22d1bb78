"""Visualization: heatmap overlays and map grids (pure helpers) and the AVLocalVisualizer."""
from .heatmap import colorize_heatmap, heatmap_to_size, overlay_heatmap
from .local_visualizer import AVLocalVisualizer
from .map_grid import map_grid

__all__ = ['AVLocalVisualizer', 'heatmap_to_size', 'colorize_heatmap', 'overlay_heatmap', 'map_grid']
