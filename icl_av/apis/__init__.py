"""High-level APIs: build a localizer from a config/checkpoint and localise frames or videos."""
from .inference import build_inference_pipeline, inference_localizer, init_localizer, localize_arrays

__all__ = ['init_localizer', 'inference_localizer', 'build_inference_pipeline', 'localize_arrays']
