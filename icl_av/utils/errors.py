"""The base class of every error caused by what the user passed.

It lives at the bottom of the package so that any layer can raise it (the data side's
``AVLoadError`` / ``AVDatasetError`` subclass it) and the command-line door
(:func:`icl_av.utils.cli.run_cli`) can recognise them all without importing the layers
above ``utils``.
"""


class UserInputError(Exception):
    """Something the user passed is wrong; the message says what and what was expected."""
