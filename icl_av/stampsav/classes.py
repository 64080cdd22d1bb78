"""Which stamps form one StampsAV class.

Tux Paint ships look-alike and sound-alike stamps (the same spinning top with four
letters, a goat and a ram with the same recording, ...). They are merged into one class,
so that a silent distractor is never a near-twin of the sounding object and an unheard
class has no twin among the heard ones. Every other stamp is a class of its own, named
after the stamp.
"""
from typing import Dict, List

CLASS_GROUPS: Dict[str, List[str]] = {
    'dreydl': ['dreydl-gimmel', 'dreydl-hay', 'dreydl-nun', 'dreydl-shin'],  # one picture, four letters
    'goat': ['goat', 'mountaingoat', 'ram'],  # (near-)identical recordings
    'cow': ['cow', 'cow_white'],
    'pig': ['pig', 'pig_golden', 'pig_golden2'],
    'sheep': ['sheep', 'sheep_lamb'],
    'scissors': ['scissors_small_closed', 'scissors_small_open'],
    'camel': ['camel', 'dromedary'],
    'deer': ['deer', 'doe', 'caribou'],
    'duck': ['duck', 'drake'],
}
_CLASS_OF_STAMP = {stamp: group for group, stamps in CLASS_GROUPS.items() for stamp in stamps}


def class_of(stamp_name: str) -> str:
    """The class of the stamp called ``stamp_name`` (its group, else its own name)."""
    return _CLASS_OF_STAMP.get(stamp_name, stamp_name)
