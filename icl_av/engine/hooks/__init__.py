from .pseudo_label_hook import PseudoLabelHook
from .audio_prototype_hook import AudioPrototypeHook  # noqa: F401
from .atomic_checkpoint_hook import AtomicCheckpointHook  # noqa: F401
from .corrupt_sample_hook import CorruptSampleHook  # noqa: F401
from .epoch_seed_hook import EpochSeedHook, epoch_worker_init_fn  # noqa: F401
from .visualization_hook import AVVisualizationHook  # noqa: F401
