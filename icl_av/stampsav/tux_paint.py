"""Where StampsAV's source material lives: two Debian Tux Paint packages, unpacked.

``tuxpaint-stamps-default`` holds the stamps (pictures with their sound effects, GPL-2);
``tuxpaint-data`` holds the background photos (``templates/`` and two ``starters/``,
GPL-2+). Both are fetched with ``apt-get download`` and unpacked with ``dpkg -x`` into
``data/tux/x``, where the defaults below point. A folder that is missing or unreadable is
a user error: the message names the folder and the commands that provide it, in one line.
"""
import os
import os.path as osp

from icl_av.utils.errors import UserInputError

STAMPS_PACKAGE = 'tuxpaint-stamps-default'
DATA_PACKAGE = 'tuxpaint-data'
#: Where the documented download commands unpack the two packages (relative to the repository).
DEFAULT_STAMPS_ROOT = 'data/tux/x/usr/share/tuxpaint/stamps'
DEFAULT_TEMPLATES_ROOT = 'data/tux/x/usr/share/tuxpaint'


def how_to_get(package: str) -> str:
    """The shell commands that download and unpack ``package`` into ``data/tux/x``."""
    return (f'get it with: mkdir -p data/tux && cd data/tux && apt-get download {package} '
            f'&& dpkg -x {package}_*.deb x')


def require_folder(path: str, package: str, what: str) -> str:
    """Return ``path`` if it is a readable folder, else raise a one-line :class:`UserInputError`.

    Args:
        path (str): The folder.
        package (str): The Debian package that provides it (named in the message).
        what (str): What the folder holds, e.g. ``'stamps folder'``.
    """
    if not osp.isdir(path):
        problem = 'is not a folder' if osp.exists(path) else 'not found'
        raise UserInputError(f'StampsAV {what} {path!r} {problem} (it comes from the Debian package {package}; '
                             f'{how_to_get(package)})')
    if not os.access(path, os.R_OK | os.X_OK):
        raise UserInputError(f'StampsAV {what} {path!r} is not readable (it comes from the Debian package '
                             f'{package}; {how_to_get(package)})')
    return path
