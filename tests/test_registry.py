"""Registries: default_scope builds icl_av components without imports; other scopes stay reachable."""
import subprocess
import sys

from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope

from icl_av.registry import MODELS


def test_default_scope_builds_without_manual_imports(repo_root):
    # A fresh interpreter that imports nothing from icl_av: the registry's `locations` must do it.
    code = ('from mmengine.registry import MODELS, DefaultScope\n'
            "DefaultScope.get_instance('t', scope_name='icl_av')\n"
            "m = MODELS.build(dict(type='LogMelFrontend', n_mels=32))\n"
            "print(type(m).__module__)\n")
    out = subprocess.run([sys.executable, '-c', code], cwd=repo_root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'icl_av.models.audio_frontends.spectrogram_frontends'


def test_child_registry_reaches_other_scopes():
    with DefaultScope.overwrite_default_scope('icl_av'):
        # An MMEngine component named with its scope, built through icl_av's child registry.
        preprocessor = MODELS.build(dict(type='mmengine.BaseDataPreprocessor'))
    assert type(preprocessor).__name__ == 'BaseDataPreprocessor'


def test_root_registry_finds_icl_av_by_scope_prefix():
    frontend = ROOT_MODELS.build(dict(type='icl_av.LinearSTFTFrontend'))
    assert type(frontend).__name__ == 'LinearSTFTFrontend'
