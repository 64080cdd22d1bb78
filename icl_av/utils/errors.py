"""The base class of every error caused by what the user passed.

It lives at the bottom of the package so that any layer can raise it (the data side's
``AVLoadError`` / ``AVDatasetError`` subclass it) and the command-line door
(:func:`icl_av.utils.cli.run_cli`) can recognise them all without importing the layers
above ``utils``.
"""
import re
from typing import Optional

# torch.utils.data's ExceptionWrapper.reraise() writes "Caught <Type> in DataLoader worker process N.\n
# Original Traceback (most recent call last):\n ... <module>.<Type>: <message>".
_WORKER_HEADER = re.compile(r'^Caught (\w+) in DataLoader worker process \d+\.\nOriginal Traceback')


class UserInputError(Exception):
    """Something the user passed is wrong; the message says what and what was expected."""


def message_from_worker(text: str, type_name: Optional[str] = None) -> Optional[str]:
    """The original message of an error that a PyTorch loader worker re-raised, else ``None``.

    PyTorch rebuilds a worker's exception in the main process as ``ErrorType(message)``
    with the worker's whole traceback as the message; this finds the message again, so
    an error reads the same with and without loader workers.

    Args:
        text (str): The message the main process received.
        type_name (str, optional): The class name of the error (e.g. ``'AVLoadError'``);
            defaults to the one the traceback's header names.

    Returns:
        str | None: The text after the traceback's last ``<module>.<Type>: `` (the message,
        followed by any notes added with ``add_note``), or ``None`` when ``text`` is not a
        worker re-raise.
    """
    header = _WORKER_HEADER.match(text)
    if not header:
        return None
    name = re.escape(type_name or header.group(1))
    matches = list(re.finditer(rf'^(?:[\w.]+\.)?{name}: ', text, flags=re.MULTILINE))
    return text[matches[-1].end():].rstrip() if matches else None
