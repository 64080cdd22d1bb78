"""SynthAV image synthesis: object layout (with exact masks) and rendering.

The two jobs live in :mod:`.scene_layout` (where objects go) and :mod:`.scene_render`
(how they are drawn); this module keeps their names importable from one place.
"""
from .scene_layout import (DISTRACTOR_AREA_RANGE, MAIN_AREA_RANGE, MAX_ROTATION_DEG,  # noqa: F401
                           MIN_DISTRACTOR_VISIBLE, MIN_INSIDE_FRACTION, MIN_MAIN_VISIBLE, PEER_DISTRACTOR_PROB,
                           PlacedObject, layout_scene, mask_box, rasterize_polygon, sample_object)
from .scene_render import render_background, render_scene  # noqa: F401
