from .kmeans import KMEANS_METRICS, kmeans, kmeans_on_rank0
from .pseudo_label_bank import PseudoLabelBank
