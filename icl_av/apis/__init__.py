"""High-level APIs: build a localizer from a config/checkpoint and localise frames or videos."""
from .inference import inference_localizer, init_localizer, localize_arrays
from .inference_pipeline import build_inference_pipeline

__all__ = ['init_localizer', 'inference_localizer', 'build_inference_pipeline', 'localize_arrays']
