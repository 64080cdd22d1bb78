"""PseudoLabelBank records which sample list its rows index, and can forget its per-sample labels."""
import pytest
import torch

from icl_av.models.utils import PseudoLabelBank

DIGEST = 'ab' * 32


def filled_bank():
    bank = PseudoLabelBank()
    bank.update(torch.arange(3), torch.rand(3, 2, 2), torch.tensor([0, 1, 0]))
    return bank


def test_the_list_digest_is_unset_until_recorded_and_travels_in_the_state_dict():
    bank = filled_bank()
    assert bank.sample_list is None
    bank.record_sample_list(DIGEST)
    assert bank.sample_list == DIGEST
    loaded = PseudoLabelBank()
    loaded.load_state_dict(bank.state_dict())
    assert loaded.sample_list == DIGEST and loaded.ready
    bank.record_sample_list(None)
    assert bank.sample_list is None


@pytest.mark.parametrize('digest', ['ab', 'zz' * 32, 42])
def test_a_malformed_digest_is_a_clear_error(digest):
    with pytest.raises(ValueError, match='expected 64 hex digits'):
        PseudoLabelBank().record_sample_list(digest)


def test_a_state_dict_without_the_digest_loads_as_unrecorded():
    state = filled_bank().state_dict()
    del state['sample_list_digest']
    loaded = PseudoLabelBank()
    loaded.load_state_dict(state)  # strict: the missing key is filled in
    assert loaded.ready and loaded.sample_list is None


def test_discarding_forgets_the_samples_in_place():
    bank = filled_bank()
    bank.record_sample_list(DIGEST)
    buffers = {name: buffer for name, buffer in bank.named_buffers()}
    bank.discard_labels()
    assert not bank.ready and bank.gather([0, 1]) is None and bank.sample_list is None
    assert not bank.valid.any() and bank.clusters.eq(-1).all() and not bank.maps.any()
    assert len(bank) == 3  # same rows, same tensors (a DDP wrapper's buffer list stays valid)
    for name in ('maps', 'clusters', 'valid', 'round', 'sample_list_digest'):
        assert getattr(bank, name) is buffers[name], name
