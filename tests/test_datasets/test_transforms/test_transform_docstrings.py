"""Every pipeline transform documents the keys it reads and writes, in mmaction2's sections."""
import inspect
import re

import pytest

import icl_av.datasets.transforms as transforms

CLASSES = [getattr(transforms, name) for name in transforms.__all__ if inspect.isclass(getattr(transforms, name))]


def _section(doc, title):
    """The ``- key`` lines under ``title:`` (up to the next blank-line-separated header), or None."""
    match = re.search(rf'^ *{re.escape(title)}[^\n]*:\n\n((?: +- .*\n(?: {{6,}}.*\n)*)+)', doc, re.MULTILINE)
    return None if match is None else match.group(1)


def test_the_transforms_are_found():
    assert len(CLASSES) >= 12


@pytest.mark.parametrize('cls', CLASSES, ids=lambda cls: cls.__name__)
def test_a_transform_says_what_it_reads_and_writes(cls):
    doc = inspect.getdoc(cls)
    assert _section(doc, 'Required Keys'), f'{cls.__name__}: no "Required Keys:" section'
    assert _section(doc, 'Added Keys') or _section(doc, 'Modified Keys'), \
        f'{cls.__name__}: neither "Added Keys:" nor "Modified Keys:"'
