from .kmeans import KMEANS_METRICS, kmeans
from .pseudo_label_bank import PseudoLabelBank
