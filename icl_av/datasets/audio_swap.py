"""The audio-swap control's pairing: every sample takes another sample's audio.

A model can score well on a localization benchmark by finding the *salient* object of the
frame without listening. Testing the same frames with other samples' audio tells the two
apart: a model that localises the *sounding* object loses much of its score, one that
ignores the sound keeps it. The datasets (``shuffle_audio=SEED``) pair frames and audio
with :func:`swap_donors`.
"""
import numpy as np


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
