"""The parts of an ICL pseudo-label refresh that the hook only schedules.

``build_refresh_dataloader`` (the training set with the test pipeline, in order; a
``TrainingListView`` of the built training list during training) ->
``extract_pseudo_labels`` (maps and audio embeddings, gathered across ranks in
``sample_idx`` order) -> ``icl_av.models.utils.kmeans_on_rank0`` -> the localizer's
``update_pseudo_labels`` (the bank stores them). ``check_keeps_sample_idx`` makes a
pipeline that would drop the bank's key fail before training. ``fit_audio_prototypes``
clusters the training clips once, for a checkpoint of any method to use posterior maps.
"""
from .extraction import MAP_SOURCES, ExtractedPseudoLabels, extract_pseudo_labels
from .prototypes import (FAMILIARITY_QUANTILE, AudioPrototypes, describe_prototypes, fit_audio_prototypes,
                         has_audio_prototypes)
from .refresh_loader import (INHERITED_LOADER_KEYS, TrainingListView, build_refresh_dataloader,
                             built_training_dataset, evaluation_pipeline_of, reads_training_list,
                             refresh_dataloader_cfg, runner_loader_configs)
from .sample_idx_check import check_keeps_sample_idx
from .statistics import refresh_statistics

__all__ = [
    'MAP_SOURCES', 'ExtractedPseudoLabels', 'extract_pseudo_labels', 'INHERITED_LOADER_KEYS',
    'build_refresh_dataloader', 'evaluation_pipeline_of', 'refresh_dataloader_cfg', 'check_keeps_sample_idx',
    'refresh_statistics', 'FAMILIARITY_QUANTILE', 'AudioPrototypes', 'describe_prototypes',
    'fit_audio_prototypes', 'has_audio_prototypes', 'runner_loader_configs', 'TrainingListView',
    'built_training_dataset', 'reads_training_list'
]
