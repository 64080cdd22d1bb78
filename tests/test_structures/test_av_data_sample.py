"""AVDataSample: typed data fields, metainfo, and what survives batching helpers (to/cpu/clone)."""
import pytest
import torch

from icl_av.structures import AVDataSample


def test_metainfo_and_data_fields_are_kept_apart():
    sample = AVDataSample(metainfo=dict(sample_idx=3, video_id='clip', img_shape=(64, 64), flip=False))
    sample.gt_bboxes = torch.tensor([[1., 2., 30., 40.]])
    sample.pred_map = torch.rand(8, 8)
    assert sample.sample_idx == 3 and sample.img_shape == (64, 64)
    assert set(sample.metainfo_keys()) == {'sample_idx', 'video_id', 'img_shape', 'flip'}
    assert set(sample.keys()) == {'gt_bboxes', 'pred_map'}
    assert 'pred_map' in sample and 'gt_map' not in sample


@pytest.mark.parametrize('field, wrong', [
    ('gt_bboxes', [[1., 2., 3., 4.]]),  # a list where boxes must be a tensor
    ('gt_map', None),
    ('pred_map', 0.5),
    ('confidence', 1.0),
    ('audio_embedding', [0.1, 0.2]),
    ('gt_masks', {'size': [4, 4], 'counts': b'04'}),  # one RLE dict where a list of them is expected
])
def test_typed_fields_reject_the_wrong_type_and_name_the_field(field, wrong):
    with pytest.raises(TypeError, match=f'AVDataSample.{field}'):
        setattr(AVDataSample(), field, wrong)


def test_typed_fields_can_be_deleted_and_moved():
    sample = AVDataSample(metainfo=dict(sample_idx=0))
    sample.gt_masks = [{'size': [4, 4], 'counts': b'04'}]
    sample.confidence = torch.tensor(0.7)
    sample.audio_embedding = torch.ones(5)
    moved = sample.cpu()
    assert isinstance(moved, AVDataSample) and moved.sample_idx == 0
    assert torch.equal(moved.audio_embedding, torch.ones(5)) and moved.gt_masks == sample.gt_masks
    copy = sample.clone()
    copy.confidence = torch.tensor(0.1)
    assert sample.confidence.item() == pytest.approx(0.7)  # setting a field of a clone leaves the original
    del sample.confidence
    assert 'confidence' not in sample
    with pytest.raises(AttributeError):
        sample.confidence
