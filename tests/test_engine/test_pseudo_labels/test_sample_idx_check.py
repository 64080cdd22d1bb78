"""check_keeps_sample_idx: a pipeline that drops the bank's key is refused, with one line naming the loader."""
import pytest

from icl_av.datasets.transforms import PackAVInputs
from icl_av.engine.pseudo_labels import check_keeps_sample_idx


def test_default_and_explicit_meta_keys_with_sample_idx_pass():
    check_keeps_sample_idx(dict(type='X', pipeline=[dict(type='PackAVInputs')]), 'train_dataloader')
    check_keeps_sample_idx(dict(pipeline=[dict(type='icl_av.PackAVInputs', meta_keys=('sample_idx', ))]), 'x')
    check_keeps_sample_idx(dict(pipeline=[dict(type='MyPacker', meta_keys=())]), 'x')  # not ours to judge


@pytest.mark.parametrize('dataset', [
    dict(pipeline=[dict(type='RandomFlip'), dict(type='PackAVInputs', meta_keys=('video_id', 'flip'))]),
    dict(type='RepeatDataset', dataset=dict(pipeline=[dict(type='PackAVInputs', meta_keys=['video_id'])])),
    dict(type='ConcatDataset', datasets=[dict(pipeline=[dict(type='PackAVInputs')]),
                                         dict(pipeline=[dict(type='PackAVInputs', meta_keys=())])]),
])
def test_a_config_without_sample_idx_is_refused(dataset):
    with pytest.raises(ValueError, match=r"train_dataloader: PackAVInputs meta_keys .* lack 'sample_idx'"):
        check_keeps_sample_idx(dataset, 'train_dataloader')


def test_built_transforms_are_read_too():
    class Built:
        pipeline = [PackAVInputs(meta_keys=('video_id', ))]

    with pytest.raises(ValueError, match='refresh loader'):
        check_keeps_sample_idx(Built(), 'refresh loader')
    Built.pipeline = [PackAVInputs()]
    check_keeps_sample_idx(Built(), 'refresh loader')
