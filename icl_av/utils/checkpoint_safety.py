"""Let torch's safe (``weights_only=True``) loader read MMEngine checkpoints.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True`` and MMEngine 0.10.7's
resume then fails on its own objects: the message hub's ``HistoryBuffer`` (whose
statistic methods are pickled as ``getattr(buffer, 'mean')``) and numpy arrays/scalars.
Instead of turning safety off, this allow-lists exactly those objects. ``getattr`` is
replaced by a restricted version that resolves only a ``HistoryBuffer``'s registered
statistic methods and refuses anything else.
"""
import pickle

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

try:  # numpy >= 2
    from numpy._core import multiarray as _np_multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _np_multiarray

_REGISTERED = False


_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name: str):
    """``getattr`` limited to a HistoryBuffer's statistic methods (e.g. ``mean``)."""
    allowed = set(_DEFAULT_STATISTICS) | set(HistoryBuffer._statistics_methods)
    if obj is not HistoryBuffer or name not in allowed:
        raise pickle.UnpicklingError(
            f'checkpoint asks for getattr({obj!r}, {name!r}); only HistoryBuffer '
            f'statistics {sorted(allowed)} are allowed')
    return getattr(obj, name)


def _numpy_dtype_classes() -> list:
    """The concrete numpy dtype classes (``numpy.dtypes.Float64DType`` ...) numpy 2 pickles."""
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is None:  # pragma: no cover - numpy 1.x
        return []
    return [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')]


def register_checkpoint_safe_globals() -> None:
    """Allow-list the globals MMEngine checkpoints contain for ``torch.load(weights_only=True)``.

    Idempotent. Called where checkpoints are loaded: ``tools/train.py`` (``--resume``,
    ``load_from``), ``tools/test.py``, :func:`icl_av.apis.init_localizer` and
    :func:`icl_av.utils.register_all_modules` (the setup call for Python scripts that build
    a Runner themselves), so they work on torch >= 2.6 without ``weights_only=False``.
    Importing ``icl_av`` does not call it: the allow-list is global state of torch.
    """
    global _REGISTERED
    if _REGISTERED:
        return
    torch.serialization.add_safe_globals([
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        _np_multiarray._reconstruct,
        _np_multiarray.scalar,
        *_numpy_dtype_classes(),
    ])
    _REGISTERED = True
