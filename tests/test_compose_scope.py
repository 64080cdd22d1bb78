"""icl_av components build their unprefixed children in icl_av's scope, whatever the caller's default scope.

Another package's ``RandomFlip`` moves the image and boxes but not icl_av's masks, so a
dataset whose pipeline resolved in the caller's scope would score against masks on the
wrong side without any error. These tests build from MMEngine's scope, from a throwaway
scope that registers look-alike components, and from mmpretrain's scope when installed.
"""
import copy
import uuid
from contextlib import contextmanager

import numpy as np
import pytest
import torch
from mmengine.registry import DATASETS as ROOT_DATASETS
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import TRANSFORMS as ROOT_TRANSFORMS
from mmengine.registry import DefaultScope, Registry

from icl_av.registry import MODELS, TRANSFORMS, build_in_scope, build_transforms
from icl_av.structures.masks import decode_rle

# A scope that no package provides: its registries hold components named like icl_av's that
# would be picked if the dataset's children were looked up in the caller's scope.
THROWAWAY_SCOPE = 'icl_av_tests_throwaway'  # a constant: test ids must match across xdist workers
THROWAWAY_TRANSFORMS = Registry('transform', parent=ROOT_TRANSFORMS, scope=THROWAWAY_SCOPE)
THROWAWAY_MODELS = Registry('model', parent=ROOT_MODELS, scope=THROWAWAY_SCOPE)
THROWAWAY_DATASETS = Registry('dataset', parent=ROOT_DATASETS, scope=THROWAWAY_SCOPE)


@THROWAWAY_TRANSFORMS.register_module(name='RandomFlip')
class ImageOnlyFlip:
    """Flips the image and nothing else (the failure the scope rule prevents)."""

    def __init__(self, prob=0.5):
        self.prob = prob

    def __call__(self, results):
        results['img'] = results['img'][:, ::-1].copy()
        return results


@THROWAWAY_MODELS.register_module(name='AVDataPreprocessor')
class NotAPreprocessor(torch.nn.Module):
    """A look-alike name in the caller's scope; icl_av's localizer must not build it."""


SYNTHAV = dict(type='icl_av.SynthAVDataset', split='test', num_samples=3, seed=0, img_size=64, audio_seconds=0.25,
               test_mode=True)
# With the packing prefixed, only the flip is left to the scope rule: the silent case.
PACK_TYPES = ['PackAVInputs', 'icl_av.PackAVInputs']


@contextmanager
def default_scope(name):
    """``name`` as the current default scope for the block (the caller's scope in the tests)."""
    with DefaultScope.overwrite_default_scope(name):
        assert DefaultScope.get_current_instance().scope_name == name
        yield


def _mask(sample):
    return decode_rle(sample['data_samples'].gt_masks[0]).astype(bool)


def assert_flipped_together(flipped, plain):
    """Image, mask and box of ``flipped`` are the horizontal mirror of ``plain``'s."""
    img, ref = flipped['inputs']['img'], plain['inputs']['img']
    assert torch.equal(img, ref.flip(-1))
    mask, ref_mask = _mask(flipped), _mask(plain)
    assert mask.any() and np.array_equal(mask, ref_mask[:, ::-1])
    width = ref.shape[-1]
    box, ref_box = flipped['data_samples'].gt_bboxes[0], plain['data_samples'].gt_bboxes[0]
    assert torch.allclose(box, torch.stack([width - ref_box[2], ref_box[1], width - ref_box[0], ref_box[3]]))
    assert flipped['data_samples'].metainfo['flip'] is True


def _flip_and_plain(scope, pack_type):
    pipeline = [dict(type='RandomFlip', prob=1.0), dict(type=pack_type)]
    with default_scope(scope):
        flipped_set = ROOT_DATASETS.build(dict(SYNTHAV, pipeline=pipeline))
        types = [type(t) for t in flipped_set.pipeline.transforms]
    plain_set = ROOT_DATASETS.build(dict(SYNTHAV, pipeline=[dict(type='icl_av.PackAVInputs')]))
    sounding = next(i for i in range(len(plain_set)) if plain_set[i]['data_samples'].gt_masks)
    return types, flipped_set[sounding], plain_set[sounding]


@pytest.mark.parametrize('pack_type', PACK_TYPES)
@pytest.mark.parametrize('scope', ['mmengine', THROWAWAY_SCOPE])
def test_dataset_pipeline_resolves_in_icl_av_from_other_scopes(scope, pack_type):
    from icl_av.datasets.transforms import PackAVInputs, RandomFlip
    types, flipped, plain = _flip_and_plain(scope, pack_type)
    assert types == [RandomFlip, PackAVInputs]
    assert_flipped_together(flipped, plain)


@pytest.mark.parametrize('pack_type', PACK_TYPES)
def test_dataset_pipeline_resolves_in_icl_av_from_mmpretrain_scope(pack_type):
    pytest.importorskip('mmpretrain', reason='needs mmpretrain (in the test extras) to build from its scope')
    from icl_av.datasets.transforms import PackAVInputs, RandomFlip
    types, flipped, plain = _flip_and_plain('mmpretrain', pack_type)
    assert types == [RandomFlip, PackAVInputs]
    assert_flipped_together(flipped, plain)


def test_prefixed_types_still_reach_their_packages():
    import mmcv.transforms
    with default_scope(THROWAWAY_SCOPE):
        flip = build_in_scope(TRANSFORMS, dict(type='mmcv.RandomFlip', prob=1.0))
        throwaway = build_in_scope(TRANSFORMS, dict(type=f'{THROWAWAY_SCOPE}.RandomFlip', prob=1.0))
        chosen = build_in_scope(TRANSFORMS, dict(type='RandomFlip', prob=1.0, _scope_=THROWAWAY_SCOPE))
        preprocessor = build_in_scope(MODELS, dict(type='mmengine.BaseDataPreprocessor'))
    assert type(flip) is mmcv.transforms.RandomFlip
    assert type(throwaway) is ImageOnlyFlip and type(chosen) is ImageOnlyFlip  # a prefix or `_scope_` wins
    assert type(preprocessor).__name__ == 'BaseDataPreprocessor'
    # Callables pass through a pipeline untouched; the caller's scope is back afterwards.
    assert build_transforms([len]) == [len] and build_transforms(None) == []
    assert DefaultScope.get_current_instance() is None or \
        DefaultScope.get_current_instance().scope_name != THROWAWAY_SCOPE


def test_mmpretrain_prefixed_model_builds_its_children_in_its_own_scope():
    pytest.importorskip('mmpretrain', reason='needs mmpretrain (in the test extras) to build from its scope')
    with default_scope('icl_av'):
        classifier = build_in_scope(MODELS, dict(type='mmpretrain.ImageClassifier',
                                                 backbone=dict(type='ResNet', depth=18)))
    assert type(classifier.backbone).__module__.startswith('mmpretrain.')


def _tiny_localizer():
    # Unprefixed children: they must resolve in icl_av whatever scope builds the localizer.
    return dict(
        type='icl_av.AVLocalizer',
        data_preprocessor=dict(type='AVDataPreprocessor',
                               audio_frontend=dict(type='LogMelFrontend', sample_rate=16000, n_mels=32)),
        visual_backbone=dict(type='TimmVisualBackbone', model_name='resnet18', out_index=2),
        audio_backbone=dict(type='TimmAudioEncoder', model_name='resnet18', pool='max'),
        head=dict(type='AVSimilarityHead', embed_dims=16),
        loss=dict(type='ICLLoss', correspondence=dict(type='AVCorrespondenceLoss')))


def _check_localizer(model):
    from icl_av.models.audio_frontends import LogMelFrontend
    from icl_av.models.data_preprocessors import AVDataPreprocessor
    from icl_av.models.losses import AVCorrespondenceLoss, ICLLoss
    assert type(model.data_preprocessor) is AVDataPreprocessor
    assert type(model.data_preprocessor.audio_frontend) is LogMelFrontend
    assert type(model.criterion) is ICLLoss and type(model.criterion.correspondence) is AVCorrespondenceLoss
    gen = torch.Generator().manual_seed(0)
    from icl_av.structures import AVDataSample
    batch = dict(inputs=dict(img=[torch.randint(0, 256, (3, 32, 32), generator=gen, dtype=torch.uint8)
                                  for _ in range(2)],
                             audio=[torch.randn(1, 4000, generator=gen) for _ in range(2)]),
                 data_samples=[AVDataSample(metainfo=dict(sample_idx=i, img_shape=(32, 32))) for i in range(2)])
    losses = model.loss(**model.data_preprocessor(batch, training=True))
    assert all(torch.isfinite(v).all() for v in losses.values())


@pytest.mark.parametrize('scope', ['mmengine', THROWAWAY_SCOPE])
def test_localizer_children_resolve_in_icl_av_from_other_scopes(scope):
    with default_scope(scope):
        model = ROOT_MODELS.build(_tiny_localizer())
    _check_localizer(model)


def test_runner_under_mmpretrain_scope_builds_the_localizer(tmp_path):
    pytest.importorskip('mmpretrain', reason='needs mmpretrain (in the test extras) to build from its scope')
    from mmengine.runner import Runner
    saved = copy.deepcopy(DefaultScope._instance_dict)  # the Runner installs its scope globally
    try:
        runner = Runner(model=_tiny_localizer(), work_dir=str(tmp_path), default_scope='mmpretrain',
                        experiment_name=f'scope_{uuid.uuid4().hex[:8]}')
        assert DefaultScope.get_current_instance().scope_name == 'mmpretrain'
        _check_localizer(runner.model)
    finally:
        DefaultScope._instance_dict = saved
