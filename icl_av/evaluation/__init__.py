"""Evaluation: the localization metric (cIoU/AUC, baselines, extended AP/F1) and its table."""
from .metrics import LocalizationMetric, format_localization_table

__all__ = ['LocalizationMetric', 'format_localization_table']
