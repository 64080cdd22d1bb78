"""MMEngine checkpoints load with torch's safe loader; nothing beyond what they need is allowed."""
import io
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from icl_av.utils import register_checkpoint_safe_globals


@pytest.fixture(autouse=True)
def allow_list():
    register_checkpoint_safe_globals()


def test_message_hub_and_numpy_state_load_with_weights_only():
    hub = MessageHub.get_instance('test_checkpoint_safety')
    for value in (1.0, 2.5, np.float64(3.0)):
        hub.update_scalar('train/loss', value)
    hub.update_info('extra', np.arange(3))
    buffer = io.BytesIO()
    torch.save({'message_hub': hub.state_dict(), 'seed': np.int64(7)}, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer)  # weights_only=True is torch's default
    history = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(history, HistoryBuffer)
    assert history.mean() == pytest.approx(6.5 / 3)
    assert loaded['seed'] == 7


class _Sneaky:
    """Pickles as getattr(HistoryBuffer, '__init__'): a getattr outside the allow-list."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


class _Exec:
    """Pickles as a call to exec: never allowed."""

    def __reduce__(self):
        return exec, ('print(1)',)


@pytest.mark.parametrize('payload', [_Sneaky(), _Exec()])
def test_other_globals_are_still_refused(payload):
    buffer = io.BytesIO()
    torch.save({'x': payload}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buffer)


def test_importing_icl_av_changes_no_global_state(repo_root):
    # A fresh interpreter: `import icl_av` must neither touch torch's allow-list nor load torchaudio.
    code = ('import sys, torch\n'
            'before = list(torch.serialization.get_safe_globals())\n'
            'import icl_av\n'
            'assert list(torch.serialization.get_safe_globals()) == before, "import icl_av changed the allow-list"\n'
            'assert "torchaudio" not in sys.modules, "import icl_av imported torchaudio"\n'
            'import icl_av.utils\n'
            'icl_av.utils.register_checkpoint_safe_globals()\n'
            'assert len(torch.serialization.get_safe_globals()) > len(before)\n')
    result = subprocess.run([sys.executable, '-c', code], cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
