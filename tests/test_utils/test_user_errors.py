"""One base class for user-input errors: the data side's errors are UserInputErrors the CLI prints as one line."""
import pytest

from icl_av.datasets.errors import AVAnnotationError, AVDatasetError, AVLoadError
from icl_av.synthav.render_cache import SynthAVCacheError
from icl_av.utils import UserInputError, run_cli


@pytest.mark.parametrize('error, builtin', [
    (AVLoadError('clip.wav', 'file is empty (0 bytes)'), RuntimeError),
    (AVDatasetError('2 files missing'), ValueError),
    (AVAnnotationError('boxes.json', 'invalid JSON'), ValueError),
    (SynthAVCacheError('SynthAV cache: cannot map frames.npy'), ValueError),
])
def test_data_errors_are_user_errors_and_keep_their_builtin_base(error, builtin):
    assert isinstance(error, UserInputError) and isinstance(error, builtin)


def test_run_cli_prints_a_data_error_as_one_line(capsys, monkeypatch):
    monkeypatch.delenv('ICL_AV_DEBUG', raising=False)

    def main():
        raise AVLoadError('data/audio/a.wav', 'truncated file')

    with pytest.raises(SystemExit) as exit_info:
        run_cli(main)
    assert exit_info.value.code == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first == 'error: Cannot load data/audio/a.wav: truncated file'


def test_run_cli_lets_a_code_error_through(monkeypatch):
    monkeypatch.delenv('ICL_AV_DEBUG', raising=False)

    def main():
        raise ZeroDivisionError('a bug, not bad input')

    with pytest.raises(ZeroDivisionError):
        run_cli(main)
