"""Whether pseudo-labels that came with a checkpoint may be trained on: they must index this sample list.

The bank's rows are read by ``sample_idx``, a position in the list they were made on, and the
bank records that list's digest with every round. Loaded labels are kept when the recorded digest
equals the training list's (``load_from`` or resume on the same data), and when resuming from a
checkpoint that records none (as such runs always resumed). They are discarded when the digests
differ (``load_from`` or resume on another dataset; a resumed run past a boundary then refreshes at
once) and, when not resuming, whenever the two cannot be compared.
"""
from typing import Optional, Tuple


def discard_foreign_labels(bank, training_list: Optional[str], resuming: bool) -> Tuple[bool, Optional[str]]:
    """Discard the bank's loaded labels (``bank.discard_labels()``) unless they index ``training_list``.

    Args:
        bank (PseudoLabelBank): A bank holding labels (``ready``), as loaded.
        training_list (str | None): Digest of the training list (``None``: it has no sample IDs).
        resuming (bool): Whether the run resumes (rather than starting from ``load_from``).

    Returns:
        tuple[bool, str | None]: Whether the labels were discarded, and the line to log
        (a warning when discarded, information when a new run keeps them, else ``None``).
    """
    recorded = bank.sample_list
    if recorded is not None and training_list is not None:
        if recorded == training_list:
            return False, None if resuming else (
                f"PseudoLabelHook: the checkpoint's pseudo-labels (round {int(bank.round)}) were made on this "
                f'training list (sha256 {training_list[:12]}); round 1 trains on them')
        reason = f'they index another sample list (sha256 {recorded[:12]}; this training list: {training_list[:12]})'
    elif resuming:
        return False, None
    elif recorded is None:
        reason = 'the checkpoint does not record which sample list they index, and load_from starts a new run'
    else:
        reason = ('the training dataset has no sample IDs to compare with the list they index, and load_from '
                  'starts a new run')
    loaded_round = int(bank.round)
    bank.discard_labels()
    return True, (f'PseudoLabelHook: discarded the pseudo-labels (round {loaded_round}) loaded from the checkpoint: '
                  f'{reason}; training runs without pseudo-labels until the next refresh')
