"""The command-line door: one clear error line for bad user input.

``tools/*.py`` call :func:`run_cli`; errors caused by what the user passed (a
missing config, a typo'd ``type``, a file that is not a checkpoint, a data root
that does not exist, an unreadable sample) are printed as a single line naming
the thing and what was expected. ``ICL_AV_DEBUG=1`` shows the full traceback.
"""
import difflib
import os
import os.path as osp
import re
import sys
import zipfile
from typing import Callable, List

from .errors import UserInputError, message_from_worker


def check_config_path(path: str) -> str:
    """Return ``path`` if it is a config file, else raise :class:`UserInputError`."""
    if not osp.isfile(path):
        raise UserInputError(f'config file not found: {path!r} (expected a python config such as '
                             'configs/icl/icl_r18_1xb32-9e_synthav64.py)')
    if not path.endswith(('.py', '.json', '.yaml', '.yml')):
        raise UserInputError(f'config {path!r} is not a .py/.json/.yaml config file')
    return path


def check_checkpoint_path(path: str) -> str:
    """Return ``path`` if it looks like a torch checkpoint, else raise :class:`UserInputError`.

    URLs are passed through (MMEngine downloads them); local files must exist and
    be torch's zip format (or the legacy pickle format).
    """
    if re.match(r'^[a-z]+://', path):
        return path
    if not osp.isfile(path):
        raise UserInputError(f'checkpoint not found: {path!r} (expected a .pth file saved by tools/train.py)')
    if osp.getsize(path) == 0:
        raise UserInputError(f'checkpoint {path!r} is empty (0 bytes): expected a .pth file saved by tools/train.py')
    if not zipfile.is_zipfile(path):
        with open(path, 'rb') as f:
            head = f.read(2)
        if head[:1] != b'\x80':  # not a legacy pickle either
            raise UserInputError(f'{path!r} is not a checkpoint: expected a torch .pth file saved by '
                                 'tools/train.py (zip or pickle format)')
    return path


def _registry_names() -> List[str]:
    """All names registered in icl_av's registries and their MMEngine parents."""
    from mmengine.registry import Registry

    from icl_av import registry as icl_registry
    from icl_av.utils.setup_env import register_all_modules
    try:
        register_all_modules(init_default_scope=False)
    except Exception:  # a broken import must not hide the original error
        pass
    names = set()
    for value in vars(icl_registry).values():
        if isinstance(value, Registry):
            names.update(value.module_dict)
            if value.parent is not None:
                names.update(value.parent.module_dict)
    return sorted(names)


def describe_registry_error(message: str) -> str:
    """Turn MMEngine's "X is not in the ... registry" into one line with close matches."""
    found = re.search(r'(\S+) is not in the (\S+) registry', message)
    if not found:
        return message
    name = found.group(1).strip('\'"`')
    line = f'unknown type {name!r} in the config: it is not in the {found.group(2)} registry'
    context = re.findall(r'class `(\w+)` in', message)
    if context:
        line += f' (while building {" > ".join(context)})'
    matches = difflib.get_close_matches(name, _registry_names(), n=3, cutoff=0.6)
    if matches:
        line += f'; did you mean {", ".join(repr(m) for m in matches)}?'
    return line


def one_line(error: BaseException) -> str:
    """A single-line description of a user-input error."""
    message = str(error.args[0]) if error.args else str(error)
    original = message_from_worker(message)  # an error re-raised from a loader worker
    message = message if original is None else original.splitlines()[0]
    if isinstance(error, KeyError) and 'registry' in message:
        return describe_registry_error(message)
    return ' '.join(message.split())


USER_ERRORS = (UserInputError, FileNotFoundError, NotADirectoryError, IsADirectoryError)


def _is_user_error(error: BaseException) -> bool:
    if isinstance(error, USER_ERRORS):
        return True
    if isinstance(error, KeyError) and 'is not in the' in str(error) and 'registry' in str(error):
        return True
    # Data errors (AVLoadError, AVDatasetError, ...) subclass UserInputError, so USER_ERRORS covers them.
    return False


def run_cli(main: Callable[[], None]) -> None:
    """Run ``main``; print user-input errors as one line and exit with status 2."""
    try:
        main()
    except Exception as error:  # noqa: BLE001 - filtered below
        if os.environ.get('ICL_AV_DEBUG') or not _is_user_error(error):
            raise
        print(f'error: {one_line(error)}', file=sys.stderr)
        print('(set ICL_AV_DEBUG=1 for the full traceback)', file=sys.stderr)
        sys.exit(2)
