"""The ICL pseudo-label refresh: one function, :func:`refresh_pseudo_labels`, and its parts.

``build_refresh_dataloader`` (the training set with the test pipeline, in order; a
``TrainingListView`` of the built training list during training) ->
``refresh_pseudo_labels``: ``extract_pseudo_labels`` (maps and audio embeddings, gathered
across ranks in ``sample_idx`` order) -> ``cluster_audio`` (seeded k-means) -> the
localizer's ``set_audio_prototypes`` -> a second extraction when its maps use the
prototypes -> the keep mask -> the localizer's ``update_pseudo_labels`` (the bank stores
them). ``check_keeps_sample_idx`` makes a pipeline that would drop the bank's key fail
before training. ``refresh_audio_prototypes`` fits and stores the prototypes alone, for a
checkpoint of any method to use posterior maps.
"""
from .extraction import ExtractedPseudoLabels, extract_pseudo_labels, unwrap_model
from .loaded_labels import discard_foreign_labels
from .prototypes import (FAMILIARITY_QUANTILE, AudioPrototypes, cluster_audio, describe_prototypes,
                         fit_audio_prototypes, has_audio_prototypes)
from .refresh import (RefreshResult, check_refresh_args, is_positive_int, refresh_audio_prototypes,
                      refresh_list_digest, refresh_pseudo_labels)
from .refresh_loader import (INHERITED_LOADER_KEYS, TrainingListView, build_refresh_dataloader,
                             build_refresh_dataloader_from_cfg, built_training_dataset, evaluation_pipeline_of,
                             reads_training_list, refresh_dataloader_cfg, runner_loader_configs,
                             runner_refresh_dataloader_cfg)
from .sample_idx_check import check_keeps_sample_idx
from .statistics import format_refresh_line, refresh_statistics

__all__ = [
    'ExtractedPseudoLabels', 'extract_pseudo_labels', 'discard_foreign_labels', 'FAMILIARITY_QUANTILE',
    'AudioPrototypes', 'cluster_audio', 'describe_prototypes', 'fit_audio_prototypes', 'has_audio_prototypes',
    'RefreshResult', 'check_refresh_args', 'is_positive_int', 'refresh_audio_prototypes', 'refresh_list_digest',
    'refresh_pseudo_labels', 'unwrap_model', 'INHERITED_LOADER_KEYS', 'TrainingListView', 'build_refresh_dataloader',
    'build_refresh_dataloader_from_cfg', 'built_training_dataset', 'evaluation_pipeline_of', 'reads_training_list',
    'refresh_dataloader_cfg', 'runner_loader_configs', 'runner_refresh_dataloader_cfg', 'check_keeps_sample_idx',
    'format_refresh_line', 'refresh_statistics'
]
