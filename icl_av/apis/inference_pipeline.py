"""The preprocessing of inference inputs: the config's test pipeline, minus loading, plus what raw inputs need.

Inference must see exactly the preprocessing used in evaluation, so the pipeline is the
test (or val) dataset's own; only its loading transforms are dropped (the inputs arrive
decoded) and an ``AudioClip`` / ``Resize`` are added when an in-memory dataset's pipeline
lacks them.
"""
import copy
from typing import Tuple

from mmcv.transforms import Compose
from mmengine.config import Config

from icl_av.registry import build_transforms
from icl_av.utils.errors import UserInputError

DEFAULT_SAMPLE_RATE = 16000


def _test_dataset_cfg(cfg: Config) -> dict:
    for loader in ('test_dataloader', 'val_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        while 'pipeline' not in dataset and isinstance(dataset.get('dataset'), dict):  # dataset wrappers
            dataset = dataset['dataset']
        if dataset.get('pipeline'):
            return dataset
    raise UserInputError('the model config has no test_dataloader.dataset.pipeline (nor a val one) to '
                         'preprocess inference inputs with')


def _type_name(transform_cfg: dict) -> str:
    return str(transform_cfg.get('type', '')).split('.')[-1]


GEOMETRY_TRANSFORMS = ('Resize', 'CenterCrop', 'RandomResizedCrop')


def build_inference_pipeline(cfg: Config) -> Tuple[Compose, int]:
    """The config's test pipeline without its loading transforms, and the audio rate it expects.

    In-memory datasets (SynthAV) deliver frames and clips already at the training size,
    so their test pipeline has no ``AudioClip`` / resize; for arbitrary inputs these are
    added from the dataset's ``audio_seconds`` / ``img_size`` (or the same top-level
    config variables): ``AudioClip(duration, offset='center')`` and a square ``Resize``.

    Returns:
        tuple: ``(Compose, sample_rate)``; ``sample_rate`` comes from the loading transforms'
        (or the dataset's ``audio_sample_rate``), default 16000.
    """
    dataset = _test_dataset_cfg(cfg)
    transforms = list(dataset['pipeline'])
    rate = dataset.get('audio_sample_rate') or cfg.get('audio_sample_rate') or DEFAULT_SAMPLE_RATE
    for transform in transforms:
        if _type_name(transform).startswith('Load') and transform.get('sample_rate'):
            rate = transform['sample_rate']
    kept = [copy.deepcopy(t) for t in transforms if not _type_name(t).startswith('Load')]
    names = {_type_name(t) for t in kept}
    added = []
    seconds = dataset.get('audio_seconds') or cfg.get('audio_seconds')
    if 'AudioClip' not in names and seconds:
        added.append(dict(type='AudioClip', duration=float(seconds), offset='center'))
    img_size = dataset.get('img_size') or cfg.get('img_size')
    if not names.intersection(GEOMETRY_TRANSFORMS) and img_size:
        size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        added.append(dict(type='Resize', scale=size))
    # Built in icl_av's scope, as the datasets build theirs, whatever default scope the config sets.
    return Compose(build_transforms(added + kept)), int(rate)
