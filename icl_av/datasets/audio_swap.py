"""The audio-swap control's pairing: every sample takes another sample's audio.

A model can score well on a localization benchmark by finding the *salient* object of the
frame without listening. Testing the same frames with other samples' audio tells the two
apart: a model that localises the *sounding* object loses much of its score, one that
ignores the sound keeps it. The datasets (``shuffle_audio=SEED``) pair frames and audio
with :func:`swap_donors`.
"""
from typing import Callable, Dict, List, Tuple

import numpy as np
from mmengine.logging import print_log

from .errors import AVDatasetError


def check_swap_seed(seed) -> None:
    """Raise ``ValueError`` unless ``seed`` is ``None`` (off) or an int >= 0."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f'shuffle_audio must be None (off) or the seed of the audio swap, an int >= 0; '
                         f'got {seed!r}')


def swap_donors(count: int, seed: int) -> np.ndarray:
    """For each of ``count`` samples, the index of the sample whose audio it takes.

    The samples are put in a random order drawn with ``np.random.default_rng(seed)`` and each
    takes the audio of the next one in that cycle. The cycle is a single one, so no sample
    keeps its own audio and every audio is used exactly once (a derangement, for
    ``count >= 2``); the same seed always gives the same pairing.

    Returns:
        np.ndarray: int64 ``(count,)`` donor indices.
    """
    order = np.random.default_rng(seed).permutation(count)
    donors = np.empty(count, dtype=np.int64)
    donors[order] = np.roll(order, -1)
    return donors


def swap_audio_sources(data_list: List[Dict], seed: int, audio_source: Callable[[Dict], Tuple[str, str]],
                       dataset_name: str) -> None:
    """Give each sounding entry of a data list the audio of another one, by :func:`swap_donors` (in place).

    Only ``audio_path`` and ``audio_id`` change; entries marked non-sounding keep their pairing.

    Args:
        data_list (list[dict]): The dataset's entries.
        seed (int): The ``shuffle_audio`` seed.
        audio_source (callable): ``entry -> (audio path, audio ID)`` of an entry's own audio.
        dataset_name (str): For the messages.

    Raises:
        AVDatasetError: Fewer than two sounding entries.
    """
    swapped = [i for i, info in enumerate(data_list) if info.get('is_sounding') is not False]
    if len(swapped) < 2:
        raise AVDatasetError(f'{dataset_name}: shuffle_audio={seed} needs at least 2 sounding samples to pair '
                             f'each frame with another sample\'s audio; the split has {len(swapped)}')
    sources = [audio_source(data_list[i]) for i in swapped]
    same_file = 0
    for position, donor in enumerate(swap_donors(len(swapped), seed)):
        receiver = data_list[swapped[position]]
        path, audio_id = sources[donor]
        same_file += path == sources[position][0]
        receiver['audio_path'] = path
        receiver['audio_id'] = audio_id
    print_log(f'{dataset_name}: audio swapped (shuffle_audio={seed}): each of {len(swapped)} sounding samples '
              f'is paired with another sample\'s audio; {len(data_list) - len(swapped)} non-sounding keep theirs',
              logger='current')
    if same_file:
        print_log(f'{dataset_name}: {same_file} samples got an audio file identical to their own after the swap '
                  '(the split lists the same ID more than once)', logger='current', level=30)
