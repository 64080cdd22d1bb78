"""Exceptions raised by the data side, so callers can tell bad data from bad code.

``AVLoadError`` is raised at load time when one file cannot be decoded (it names the
file and the reason); ``AVDatasetError`` at build time when the dataset's lists,
annotations or files are unusable (it reports *all* problems at once);
``CorruptSampleLimitError`` when more of a training epoch failed to load than the run
allows (see :class:`icl_av.engine.hooks.CorruptSampleHook`).
Both families subclass builtins (``RuntimeError`` / ``ValueError``) so generic handlers still work,
and :class:`~icl_av.utils.errors.UserInputError`, so the command-line door prints them as
one ``error:`` line without importing this package.

Crossing process boundaries: these errors pickle with their ``path`` and ``reason``
(multiprocessing pools send exceptions back that way), and a PyTorch loader worker's
re-raise, which rebuilds the exception in the main process as ``ErrorType(message)``
with the worker's whole traceback as the message, gives back the same error with the
original one-line message (see :func:`message_from_worker`). So the command line prints
the same ``error:`` line with or without loader workers.
"""
import re
from typing import Optional

from icl_av.utils.errors import UserInputError, message_from_worker

__all__ = ['AVLoadError', 'AVDatasetError', 'AVAnnotationError', 'CorruptSampleLimitError']

class AVLoadError(UserInputError, RuntimeError):
    """A media file (image, audio, video) could not be read or decoded.

    Args:
        path (str): The offending file.
        reason (str, optional): What went wrong, in words. Omitted only when PyTorch's
            loader rebuilds the error from a worker's message; the path and reason are then
            read back from that message (split at the first ``": "`` after the path).
    """

    def __init__(self, path: str, reason: Optional[str] = None):
        if reason is None:
            path, reason = self._split(str(path))
        self.path = str(path)
        self.reason = reason
        super().__init__(f'Cannot load {self.path}: {reason}')

    @staticmethod
    def _split(text: str):
        """``(path, reason)`` out of a worker's message (or ``('?', text)`` when it does not parse)."""
        original = message_from_worker(text, 'AVLoadError')
        original = text if original is None else original.splitlines()[0]  # a load error is one line
        found = re.match(r'Cannot load (.+?): (.*)$', original, flags=re.DOTALL)
        if found is None:
            return '?', original
        return found.group(1), found.group(2)

    def __reduce__(self):
        return type(self), (self.path, self.reason)


class AVDatasetError(UserInputError, ValueError):
    """A dataset's split list, annotation file or media files are unusable."""

    def __init__(self, message: str):
        original = message_from_worker(str(message), type(self).__name__)
        super().__init__(original if original is not None else message)


class AVAnnotationError(AVDatasetError):
    """An annotation or split file (JSON, XML, CSV, TXT) is missing or malformed.

    Args:
        path (str): The annotation file.
        reason (str, optional): What is wrong, in words (omitted only when rebuilt from a
            loader worker's message, like :class:`AVLoadError`).
    """

    def __init__(self, path: str, reason: Optional[str] = None):
        if reason is None:
            text = str(path)
            original = message_from_worker(text, type(self).__name__)
            original = text if original is None else original.splitlines()[0]
            found = re.match(r'Annotation file (.+?): (.*)$', original, flags=re.DOTALL)
            path, reason = (found.group(1), found.group(2)) if found else ('?', original)
        self.path = str(path)
        self.reason = reason
        ValueError.__init__(self, f'Annotation file {self.path}: {reason}')

    def __reduce__(self):
        return type(self), (self.path, self.reason)


class CorruptSampleLimitError(UserInputError, RuntimeError):
    """More of a training epoch failed to load than ``max_corrupt_fraction`` allows.

    A disk that rots must not train on what little is left: the run stops with this one
    line (the command line prints it as ``error: ...``).
    """
