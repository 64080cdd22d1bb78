"""The packaged generator writes the very bytes of the benchmark's development generator.

Runs only where both the unpacked Debian packages (``data/tux`` in the checkout) and the
development generator (``../shared/benchmarks/stamps_av/make_scenes.py`` beside the
checkout) exist; skipped elsewhere.
"""
import os
import subprocess
import sys

import pytest
from tree_digest import tree_digest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TOOL = os.path.join(REPO_ROOT, 'tools', 'misc', 'make_stampsav.py')
DEV_SCRIPT = os.path.join(REPO_ROOT, '..', 'shared', 'benchmarks', 'stamps_av', 'make_scenes.py')
STAMPS_ROOT = 'data/tux/x/usr/share/tuxpaint/stamps'
TEMPLATES_ROOT = 'data/tux/x/usr/share/tuxpaint'


@pytest.mark.slow
@pytest.mark.parametrize('preset, seed', [('mini_big', 1), ('mini', 7)])
def test_same_bytes_as_the_development_generator(preset, seed, tmp_path):
    if not os.path.isdir(os.path.join(REPO_ROOT, STAMPS_ROOT, 'animals')) or \
            not os.path.isdir(os.path.join(REPO_ROOT, TEMPLATES_ROOT, 'templates')):
        pytest.skip('the Tux Paint packages are not unpacked under data/tux')
    if not os.path.isfile(DEV_SCRIPT):
        pytest.skip(f'the development generator is not at {DEV_SCRIPT}')
    # Both tools get the same relative roots (meta.json records them) and run from the checkout.
    common = ['--preset', preset, '--seed', str(seed), '--n-train', '40', '--n-test', '12', '--n-unheard', '8',
              '--stamps-root', STAMPS_ROOT, '--templates-root', TEMPLATES_ROOT]
    runs = {'development': [DEV_SCRIPT, '--workers', '1'], 'packaged': [TOOL, '--workers', '2']}
    digests = {}
    for name, (script, *workers) in runs.items():
        out = str(tmp_path / name)
        result = subprocess.run([sys.executable, script, '--out', out, *common, *workers], cwd=REPO_ROOT,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        digests[name] = tree_digest(out)
    assert len(digests['packaged']) == 2 * 60 + 10
    different = sorted(k for k in digests['development'].keys() | digests['packaged'].keys()
                       if digests['development'].get(k) != digests['packaged'].get(k))
    assert not different, f'files that differ: {different[:10]}'
