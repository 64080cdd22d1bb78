"""Localization metrics: the protocol (pure functions), extended AP/F1, the metric, the table."""
from .extended import average_precision, extended_scores, max_f1, precision_recall_curve
from .localization_metric import BASELINES, LocalizationMetric
from .protocol_presets import PRESETS, LocalizationProtocol, resolve_protocol
from .report import format_localization_table

__all__ = [
    'LocalizationMetric', 'BASELINES', 'PRESETS', 'LocalizationProtocol', 'resolve_protocol',
    'precision_recall_curve', 'average_precision', 'max_f1', 'extended_scores', 'format_localization_table'
]
