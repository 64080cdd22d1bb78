"""PseudoLabelBank: update/gather, rounds, validity and the checkpoint round trip."""
import pytest
import torch

from icl_av.models.utils import PseudoLabelBank
from icl_av.registry import MODELS


def test_empty_bank_gathers_none():
    bank = MODELS.build(dict(type='PseudoLabelBank'))
    assert not bank.ready and bank.gather(torch.tensor([0, 1])) is None
    assert len(bank) == 0


def test_update_and_gather():
    bank = PseudoLabelBank()
    maps = torch.rand(3, 2, 2)
    bank.update(torch.tensor([4, 0, 2]), maps, torch.tensor([1, 2, 3]))
    assert bank.ready and int(bank.round) == 1
    assert len(bank) == 5 and bank.map_size == (2, 2)
    assert bank.maps.dtype == torch.uint8 and bank.clusters.dtype == torch.int64 and bank.valid.dtype == torch.bool
    out = bank.gather(torch.tensor([2, 4, 1, 9]))
    assert torch.allclose(out['maps'][0], maps[2], atol=1 / 255)
    assert torch.allclose(out['maps'][1], maps[0], atol=1 / 255)
    assert out['clusters'][:2].tolist() == [3, 1]
    assert out['valid'].tolist() == [True, True, False, False]  # 1 never written, 9 outside the bank
    assert out['maps'].dtype == torch.float32 and float(out['maps'].max()) <= 1.0


def test_num_samples_allocation_and_new_round_invalidates_unwritten():
    bank = PseudoLabelBank(num_samples=10)
    bank.update([0, 1], torch.ones(2, 3, 3), torch.tensor([0, 0]))
    assert len(bank) == 10
    bank.update([1], torch.zeros(1, 3, 3), torch.tensor([5]))
    out = bank.gather([0, 1])
    assert int(bank.round) == 2
    assert out['valid'].tolist() == [False, True]
    assert out['clusters'][1].item() == 5 and float(out['maps'][1].max()) == 0.0


def test_preallocated_and_non_finite_maps():
    bank = PseudoLabelBank(num_samples=4, map_size=(2, 2))
    assert bank.maps.shape == (4, 2, 2)
    maps = torch.rand(2, 2, 2)
    maps[1, 0, 0] = float('nan')
    bank.update([0, 1], maps, [0, 1])
    assert bank.gather([0, 1])['valid'].tolist() == [True, False]


def test_update_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match='PseudoLabelBank.update'):
        PseudoLabelBank().update([0, 1], torch.rand(3, 2, 2), torch.tensor([0, 1]))


def test_checkpoint_round_trip_resizes_empty_bank(tmp_path, tiny_localizer_cfg):
    model = MODELS.build(tiny_localizer_cfg)
    model.update_pseudo_labels(torch.arange(6), torch.rand(6, 4, 4), torch.tensor([0, 1, 0, 2, 2, 1]))
    path = tmp_path / 'model.pth'
    torch.save(model.state_dict(), path)
    fresh = MODELS.build(tiny_localizer_cfg)
    assert not fresh.pseudo_label_bank.ready
    fresh.load_state_dict(torch.load(path, weights_only=True))
    for name in ('maps', 'clusters', 'valid', 'round'):
        assert torch.equal(getattr(fresh.pseudo_label_bank, name), getattr(model.pseudo_label_bank, name)), name
    assert fresh.pseudo_label_bank.ready


def test_tables_for_vggsound_144k_at_14x14_stay_under_100_mb():
    from icl_av.models.utils import PseudoLabelBank
    bank = PseudoLabelBank(num_samples=144_000, map_size=(14, 14))
    total = sum(buffer.numel() * buffer.element_size() for buffer in bank.buffers())
    assert total < 100e6, f'{total / 1e6:.1f} MB'


def test_update_with_valid_flags_marks_the_rest_invalid():
    bank = PseudoLabelBank(num_samples=4)
    bank.update(torch.arange(4), torch.rand(4, 2, 2), torch.zeros(4, dtype=torch.long),
                valid=torch.tensor([True, False, True, False]))
    assert bank.gather(torch.arange(4))['valid'].tolist() == [True, False, True, False]
    with pytest.raises(ValueError, match='valid has 3 flags for 4 samples'):
        bank.update(torch.arange(4), torch.rand(4, 2, 2), torch.zeros(4, dtype=torch.long),
                    valid=torch.ones(3, dtype=torch.bool))


def test_update_returns_how_much_the_maps_changed():
    bank = PseudoLabelBank()
    clusters = torch.zeros(4, dtype=torch.long)
    assert bank.update([0, 1, 2, 3], torch.rand(4, 2, 2), clusters) is None  # nothing to compare with
    before = bank.dequantize(bank.maps.clone())
    change = bank.update([0, 1, 2, 3], torch.rand(4, 2, 2), clusters, valid=torch.tensor([True, True, False, True]))
    after = bank.dequantize(bank.maps)
    # The mean |new - old| of the stored maps over the rows that held a valid label (all four).
    assert change == pytest.approx(float((after - before).abs().mean()), abs=1e-7) and change > 0
    # Row 2 was written invalid: a round writing only it has no valid label to compare with ...
    assert bank.update([2], torch.rand(1, 2, 2), clusters[:1]) is None
    # ... and the same maps again change nothing.
    assert bank.update([2], bank.dequantize(bank.maps[[2]]), clusters[:1]) == 0.0
    # A new map size starts over.
    assert bank.update([0], torch.rand(1, 3, 3), clusters[:1]) is None


def test_quantize_is_the_stored_form_and_dequantize_its_inverse():
    maps = torch.tensor([[[0.0, 0.5], [1.0, float('nan')]]])
    stored = PseudoLabelBank.quantize(maps)
    assert stored.dtype == torch.uint8 and stored.flatten().tolist() == [0, 128, 255, 0]
    levels = torch.arange(256, dtype=torch.uint8).view(1, 16, 16)
    assert torch.equal(PseudoLabelBank.quantize(PseudoLabelBank.dequantize(levels)), levels)


def test_prototypes_stored_in_the_bank_are_refused_with_the_converter_named():
    from icl_av.utils.errors import UserInputError
    bank = PseudoLabelBank()
    state = {'maps': torch.zeros(2, 3, 3, dtype=torch.uint8), 'clusters': torch.zeros(2, dtype=torch.long),
             'valid': torch.ones(2, dtype=torch.bool), 'round': torch.tensor(1), 'prototypes': torch.rand(4, 8)}
    with pytest.raises(UserInputError, match='prototypes_to_posterior_maps.py'):
        bank.load_state_dict(state, strict=False)
