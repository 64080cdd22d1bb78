"""register_all_modules fills the registries from their `locations` and sets the default scope."""
import subprocess
import sys


def run_fresh(code: str, repo_root: str) -> str:
    """Run ``code`` in a fresh interpreter (registries and default scope start empty)."""
    result = subprocess.run([sys.executable, '-c', code], cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_register_all_modules_fills_every_registry_and_sets_the_scope(repo_root):
    out = run_fresh(
        'from mmengine.registry import DefaultScope\n'
        'from icl_av import registry\n'
        'assert "LogMelFrontend" not in registry.MODELS.module_dict\n'
        'from icl_av.utils import register_all_modules\n'
        'register_all_modules()\n'
        'print(DefaultScope.get_current_instance().scope_name)\n'
        'for name in ("MODELS", "DATASETS", "TRANSFORMS", "HOOKS", "METRICS", "VISUALIZERS"):\n'
        '    print(name, sorted(getattr(registry, name).module_dict))\n', repo_root)
    lines = dict(line.split(' ', 1) for line in out.strip().splitlines()[1:])
    assert out.splitlines()[0] == 'icl_av'
    for registry_name, member in [('MODELS', 'LogMelFrontend'), ('MODELS', 'AVLocalizer'),
                                  ('DATASETS', 'SynthAVDataset'), ('TRANSFORMS', 'PackAVInputs'),
                                  ('HOOKS', 'PseudoLabelHook'), ('METRICS', 'LocalizationMetric'),
                                  ('VISUALIZERS', 'AVLocalVisualizer')]:
        assert f"'{member}'" in lines[registry_name], (registry_name, member)


def test_register_all_modules_without_scope_leaves_the_scope_alone(repo_root):
    out = run_fresh(
        'from mmengine.registry import DefaultScope\n'
        'from icl_av.utils import register_all_modules\n'
        'register_all_modules(init_default_scope=False)\n'
        'from icl_av.registry import MODELS\n'
        'print(DefaultScope.get_current_instance(), "AVLocalizer" in MODELS.module_dict)\n', repo_root)
    assert out.strip() == 'None True'


def test_register_all_modules_installs_the_checkpoint_allow_list(repo_root):
    out = run_fresh(
        'import torch\n'
        'from mmengine.logging import HistoryBuffer\n'
        'from icl_av.utils import register_all_modules\n'
        'assert HistoryBuffer not in torch.serialization.get_safe_globals()\n'
        'register_all_modules(init_default_scope=False)\n'
        'print(HistoryBuffer in torch.serialization.get_safe_globals())\n', repo_root)
    assert out.strip() == 'True'


def test_a_foreign_default_scope_gets_a_new_icl_av_scope(repo_root):
    out = run_fresh(
        'import warnings\n'
        'from mmengine.registry import DefaultScope\n'
        'DefaultScope.get_instance("other", scope_name="mmengine")\n'
        'from icl_av.utils import register_all_modules\n'
        'with warnings.catch_warnings(record=True) as caught:\n'
        '    warnings.simplefilter("always")\n'
        '    register_all_modules()\n'
        'print(DefaultScope.get_current_instance().scope_name, any("not \\"icl_av\\"" in str(w.message) '
        'for w in caught))\n', repo_root)
    assert out.strip() == 'icl_av True'
