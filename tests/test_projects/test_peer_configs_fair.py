"""A peer comparison differs only in the objective: the peers' configs equal the ICL default elsewhere."""
import pytest

PEERS = {
    'projects/avc_baseline/configs/avc_r18_1xb32-9e_synthav64.py': set(),
    'projects/ezvsl/configs/ezvsl_r18_1xb32-9e_synthav64.py': {'type', 'prior_alpha'},
    'projects/lvs/configs/lvs_r18_1xb32-9e_synthav64.py': set(),
}
ICL = 'configs/icl/icl_r18_1xb32-9e_synthav64.py'


@pytest.mark.parametrize('peer', sorted(PEERS))
def test_peer_differs_from_icl_only_in_the_objective(load_project_config, peer):
    icl, other = load_project_config(ICL).to_dict(), load_project_config(peer).to_dict()
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator', 'test_evaluator',
                'optim_wrapper', 'param_scheduler', 'train_cfg', 'randomness', 'default_hooks'):
        assert other[key] == icl[key], key
    model_keys = set(icl['model']) | set(other['model'])
    differing = {k for k in model_keys if icl['model'].get(k) != other['model'].get(k)}
    assert differing == {'loss'} | PEERS[peer]
    # No ICL iterations for the peers; the same per-epoch seeding as ICL.
    assert [h['type'] for h in icl['custom_hooks']] == ['EpochSeedHook', 'PseudoLabelHook']
    assert [h['type'] for h in other['custom_hooks']] == ['EpochSeedHook']
