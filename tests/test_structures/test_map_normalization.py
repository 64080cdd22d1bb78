"""min_max_normalize: per-map rescaling, and each named convention for a flat map."""
import pytest
import torch

from icl_av.structures.map_normalization import FLAT_IS_BACKGROUND, FLAT_IS_EVERYWHERE, min_max_normalize


def test_each_map_is_rescaled_on_its_own():
    maps = torch.stack([torch.arange(4.).view(2, 2) * 3 - 5, -torch.eye(2)])
    normalised = min_max_normalize(maps, flat_value=FLAT_IS_BACKGROUND)
    torch.testing.assert_close(normalised[0], torch.tensor([[0., 1 / 3], [2 / 3, 1.]]))
    torch.testing.assert_close(normalised[1], 1 - torch.eye(2))


@pytest.mark.parametrize('flat_value', [FLAT_IS_BACKGROUND, FLAT_IS_EVERYWHERE])
def test_a_flat_map_takes_the_named_value_and_leaves_the_others_alone(flat_value):
    maps = torch.stack([torch.full((3, 3), 0.7), torch.arange(9.).view(3, 3)])
    normalised = min_max_normalize(maps, flat_value=flat_value)
    assert normalised[0].eq(flat_value).all()
    assert normalised[1].min() == 0 and normalised[1].max() == 1


def test_a_single_map_keeps_its_shape_and_float_dtype():
    single = torch.tensor([[1., 3.], [2., 5.]], dtype=torch.float64)
    normalised = min_max_normalize(single, flat_value=FLAT_IS_BACKGROUND)
    assert normalised.shape == (2, 2) and normalised.dtype == torch.float64
    assert min_max_normalize(torch.tensor([[0, 2]]), flat_value=0.0).dtype == torch.float32


def test_the_convention_must_be_named_and_maps_must_be_2d():
    with pytest.raises(TypeError):
        min_max_normalize(torch.rand(2, 2))  # flat_value is keyword-only and required
    with pytest.raises(ValueError, match='h×w'):
        min_max_normalize(torch.rand(4), flat_value=0.0)


def test_the_metric_and_the_heatmap_keep_their_conventions():
    from icl_av.evaluation.metrics.map_binarization import normalize_map
    from icl_av.visualization import heatmap_to_size
    flat = torch.full((2, 2), 3.0)
    assert normalize_map(flat).eq(1).all()  # the protocol scores a flat map as the whole frame
    assert not heatmap_to_size(flat, (4, 4)).any()  # a drawn flat heatmap highlights nothing
