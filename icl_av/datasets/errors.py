"""Exceptions raised by the data side, so callers can tell bad data from bad code.

``AVLoadError`` is raised at load time when one file cannot be decoded (it names the
file and the reason); ``AVDatasetError`` at build time when the dataset's lists,
annotations or files are unusable (it reports *all* problems at once).
Both subclass builtins (``RuntimeError`` / ``ValueError``) so generic handlers still work,
and :class:`~icl_av.utils.errors.UserInputError`, so the command-line door prints them as
one ``error:`` line without importing this package.
"""
from icl_av.utils.errors import UserInputError


class AVLoadError(UserInputError, RuntimeError):
    """A media file (image, audio, video) could not be read or decoded.

    Args:
        path (str): The offending file.
        reason (str): What went wrong, in words.
    """

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f'Cannot load {self.path}: {reason}')


class AVDatasetError(UserInputError, ValueError):
    """A dataset's split list, annotation file or media files are unusable."""


class AVAnnotationError(AVDatasetError):
    """An annotation or split file (JSON, XML, CSV, TXT) is missing or malformed.

    Args:
        path (str): The annotation file.
        reason (str): What is wrong, in words.
    """

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f'Annotation file {self.path}: {reason}')
