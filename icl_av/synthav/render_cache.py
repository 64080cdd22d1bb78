"""Render-once cache of SynthAV samples: frames and waveforms memory-mapped from disk.

Synthesising one sample costs ~13 ms of one core at 224 px / 3 s (~3 ms at 64 px / 1 s),
and every training epoch, validation and pseudo-label refresh would pay it again for the
same deterministic samples, on the cores the model needs. The cache renders a split once
(in parallel), stores its frames (uint8 ``N×H×W×3``), waveforms (float32 ``N×T``) and
ground truth (JSON, masks as COCO RLE) in a folder named by a hash of the sample
recipes, the render parameters and the generator's source code, and every process
(loader workers, the refresh loader, later runs, other seeds) reads it memory-mapped,
sharing the pages. A changed generator or parameter gives a new folder, never stale data.

Layout of one entry, ``<cache_dir>/<split>-<N>x<S>px-<T>s<rate>hz-<hash>/``:
``frames.npy``, ``audio.npy``, ``samples.json`` (per-sample ground truth) and
``manifest.json`` (written last: its presence marks a complete entry).
"""
import contextlib
import errno
import hashlib
import json
import multiprocessing
import os
import shutil
import socket
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

from icl_av.structures.masks import decode_rle, encode_rle
from icl_av.utils.errors import UserInputError
from . import classes, generator, scene_layout, scene_render, sounds, splits
from .generator import SynthAVSample, generate_sample

#: Bumped when the on-disk layout changes (the generator's changes are caught by its source hash).
CACHE_FORMAT = 1
#: Samples rendered per task handed to a render process.
_CHUNK = 64

Recipe = Tuple[str, int, str]  # (scene split, scene index, variant)


def generator_fingerprint() -> str:
    """SHA-256 of the source of every module that decides what a SynthAV sample looks like."""
    digest = hashlib.sha256()
    for module in (classes, scene_layout, scene_render, sounds, generator, splits):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


class SynthAVCacheError(UserInputError, ValueError):
    """The cache folder cannot be created, read or mapped; the message names the file and the fix.

    :class:`~icl_av.datasets.SynthAVDataset` reports it as an ``AVDatasetError``.
    """


class SynthAVRenderCache:
    """One split of SynthAV rendered once into ``cache_dir`` and read back memory-mapped.

    Args:
        cache_dir (str | Path): Root folder of the cache (created if needed).
        name (str): Dataset split name, used in the entry's folder name.
        recipes (Sequence[tuple]): ``(scene_split, scene_index, variant)`` per sample, in
            dataset order.
        seed (int): Benchmark seed.
        img_size (int): Frame side in pixels.
        audio_seconds (float): Clip length in seconds.
        audio_sample_rate (int): Audio rate in Hz.
    """

    def __init__(self, cache_dir, name: str, recipes: Sequence[Recipe], seed: int, img_size: int,
                 audio_seconds: float, audio_sample_rate: int):
        self.recipes = [(str(s), int(i), str(v)) for s, i, v in recipes]
        self.params = dict(format=CACHE_FORMAT, seed=int(seed), img_size=int(img_size),
                           audio_seconds=float(audio_seconds), audio_sample_rate=int(audio_sample_rate))
        key = hashlib.sha256(json.dumps(dict(params=self.params, recipes=self.recipes,
                                             generator=generator_fingerprint())).encode()).hexdigest()
        self.key = key
        self.audio_length = int(round(audio_seconds * audio_sample_rate))
        self.root = Path(cache_dir)
        self.folder = self.root / (f'{name}-{len(self.recipes)}x{img_size}px-{audio_seconds:g}s'
                                   f'{audio_sample_rate}hz-{key[:16]}')
        self._frames: Optional[np.ndarray] = None
        self._audio: Optional[np.ndarray] = None
        self._samples: Optional[List[dict]] = None

    # ------------------------------------------------------------------ build
    def ensure(self, num_workers: int = 0, log=print) -> bool:
        """Render the entry unless a complete one exists; returns True when it rendered.

        Concurrent callers (DDP ranks, parallel runs) serialise on a lock file: one renders,
        the others then find the finished entry. Rendering goes to a temporary folder renamed
        into place at the end, so an interrupted render leaves no half entry behind.

        Args:
            num_workers (int): Render processes; 0 picks ``min(8, cpu_count)``.
            log (callable): Where progress lines go.
        """
        if self.is_complete():
            return False
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SynthAVCacheError(f'SynthAV cache: cannot create cache_dir {self.root}: {error}') from error
        with _locked(self.root / f'.{self.folder.name}.lock'):
            if self.is_complete():
                return False
            if self.folder.exists():
                raise SynthAVCacheError(f'SynthAV cache: {self.folder} exists but has no manifest.json '
                                     '(not written by this cache?); delete it to re-render')
            self._render(num_workers, log)
        return True

    def is_complete(self) -> bool:
        """Whether the entry's folder holds a manifest (written only after everything else)."""
        return (self.folder / 'manifest.json').is_file()

    def _render(self, num_workers: int, log) -> None:
        tmp = self.root / f'.tmp-{self.folder.name}-{socket.gethostname()}-{os.getpid()}'
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            num = len(self.recipes)
            size = self.params['img_size']
            _allocate_array(tmp / 'frames.npy', np.uint8, (num, size, size, 3))
            _allocate_array(tmp / 'audio.npy', np.float32, (num, self.audio_length))
            tasks = [(str(tmp), start, self.recipes[start:start + _CHUNK], self.params)
                     for start in range(0, num, _CHUNK)]
            workers = _render_workers(num_workers, len(tasks))
            log(f'SynthAV cache: rendering {num} samples into {self.folder} with {workers} process(es)')
            samples: List[dict] = []
            for chunk in _map(_render_chunk, tasks, workers):
                samples.extend(chunk)
            with open(tmp / 'samples.json', 'w') as file:
                json.dump(samples, file)
            manifest = dict(self.params, key=self.key, num_samples=num, audio_length=self.audio_length)
            with open(tmp / 'manifest.json', 'w') as file:
                json.dump(manifest, file, indent=1)
            try:
                os.rename(tmp, self.folder)
            except OSError:
                if not self.is_complete():  # not another host's finished render of the same entry
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # ------------------------------------------------------------------ read
    def open(self) -> None:
        """Map the arrays and read the ground truth, checking they match this entry."""
        manifest = self._read_json('manifest.json')
        if manifest.get('key') != self.key:
            raise SynthAVCacheError(f'SynthAV cache: {self.folder / "manifest.json"} belongs to another '
                                 'render (key mismatch); delete the folder to re-render')
        num, size = len(self.recipes), self.params['img_size']
        self._frames = self._map_array('frames.npy', np.uint8, (num, size, size, 3))
        self._audio = self._map_array('audio.npy', np.float32, (num, self.audio_length))
        samples = self._read_json('samples.json')
        if not isinstance(samples, list) or len(samples) != num:
            raise SynthAVCacheError(f'SynthAV cache: {self.folder / "samples.json"} does not hold {num} '
                                 'samples; delete the folder to re-render')
        self._samples = samples

    def read(self, idx: int) -> SynthAVSample:
        """Sample ``idx`` as :func:`generate_sample` would give it (writable copies of the arrays)."""
        if self._samples is None:
            self.open()
        meta = self._samples[idx]
        rle = meta['gt_mask_rle']
        return SynthAVSample(
            img=np.array(self._frames[idx]),
            audio=np.array(self._audio[idx]),
            sample_rate=self.params['audio_sample_rate'],
            variant=meta['variant'],
            is_sounding=meta['is_sounding'],
            class_id=meta['class_id'],
            class_name=meta['class_name'],
            gt_bbox=None if meta['gt_bbox'] is None else np.asarray(meta['gt_bbox'], dtype=np.float32),
            gt_mask=None if rle is None else decode_rle(rle).astype(bool),
            main_class_id=meta['main_class_id'],
            main_bbox=np.asarray(meta['main_bbox'], dtype=np.float32),
            distractor_class_ids=np.asarray(meta['distractor_class_ids'], dtype=np.int64),
            distractor_bboxes=np.asarray(meta['distractor_bboxes'], dtype=np.float32).reshape(-1, 4),
            snr_db=meta['snr_db'])

    def __getstate__(self) -> dict:
        """Pickle without the mapped arrays (spawned workers map the files themselves)."""
        state = dict(self.__dict__)
        state.update(_frames=None, _audio=None, _samples=None)
        return state

    def _read_json(self, name: str):
        path = self.folder / name
        try:
            with open(path) as file:
                return json.load(file)
        except (OSError, ValueError) as error:
            raise SynthAVCacheError(f'SynthAV cache: cannot read {path}: {error}; delete {self.folder} '
                                 'to re-render') from error

    def _map_array(self, name: str, dtype, shape: tuple) -> np.ndarray:
        path = self.folder / name
        try:
            array = np.load(path, mmap_mode='r')
        except (OSError, ValueError) as error:
            raise SynthAVCacheError(f'SynthAV cache: cannot map {path}: {error}; delete {self.folder} '
                                 'to re-render') from error
        if array.dtype != dtype or array.shape != shape:
            raise SynthAVCacheError(f'SynthAV cache: {path} holds {array.dtype} {array.shape}, expected '
                                 f'{np.dtype(dtype)} {shape}; delete {self.folder} to re-render')
        return array


def _sample_meta(sample: SynthAVSample) -> dict:
    """JSON-ready ground truth of a sample (everything but the frame and the waveform)."""
    return dict(
        variant=sample.variant,
        is_sounding=bool(sample.is_sounding),
        class_id=int(sample.class_id),
        class_name=sample.class_name,
        gt_bbox=None if sample.gt_bbox is None else sample.gt_bbox.tolist(),
        gt_mask_rle=None if sample.gt_mask is None else encode_rle(sample.gt_mask),
        main_class_id=int(sample.main_class_id),
        main_bbox=sample.main_bbox.tolist(),
        distractor_class_ids=sample.distractor_class_ids.tolist(),
        distractor_bboxes=sample.distractor_bboxes.tolist(),
        snr_db=None if sample.snr_db is None else float(sample.snr_db))


def _allocate_array(path: Path, dtype, shape: tuple) -> None:
    """Create a zero ``.npy`` file with its disk space reserved up front.

    A memory-mapped write into a sparse file on a full disk kills the process (SIGBUS)
    with no message; reserving the blocks first turns that into an error naming the folder.
    """
    array = np.lib.format.open_memmap(path, mode='w+', dtype=dtype, shape=shape)
    del array
    if hasattr(os, 'posix_fallocate'):
        size = path.stat().st_size
        with open(path, 'r+b') as handle:
            try:
                os.posix_fallocate(handle.fileno(), 0, size)
            except OSError as error:
                if error.errno == errno.ENOSPC:
                    raise SynthAVCacheError(f'SynthAV cache: not enough disk space in {path.parent.parent} for '
                                         f'{path.name} ({size / 2 ** 30:.2f} GiB); free some, point '
                                         'ICL_AV_SYNTHAV_CACHE elsewhere or set cache_dir=None') from error
                if error.errno not in (errno.EINVAL, errno.EOPNOTSUPP):  # filesystems without fallocate
                    raise


def _render_chunk(task) -> List[dict]:
    """Render ``recipes`` into rows ``start...`` of the entry's arrays; returns their ground truth."""
    folder, start, recipes, params = task
    frames = np.load(Path(folder) / 'frames.npy', mmap_mode='r+')
    audio = np.load(Path(folder) / 'audio.npy', mmap_mode='r+')
    metas = []
    for offset, (scene_split, scene_index, variant) in enumerate(recipes):
        sample = generate_sample(params['seed'], scene_split, scene_index, params['img_size'],
                                 params['audio_seconds'], params['audio_sample_rate'], variant)
        frames[start + offset] = sample.img
        audio[start + offset] = sample.audio
        metas.append(_sample_meta(sample))
    frames.flush()
    audio.flush()
    return metas


def _render_workers(requested: int, num_tasks: int) -> int:
    """Processes to render with: none from a daemonic process (it may not fork children)."""
    if multiprocessing.current_process().daemon:
        return 1
    wanted = requested if requested > 0 else min(8, os.cpu_count() or 1)
    return max(1, min(wanted, num_tasks))


def _map(function, tasks: list, workers: int) -> Iterator:
    """``map`` in order, over ``workers`` processes when more than one."""
    if workers <= 1:
        yield from map(function, tasks)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context('fork' if 'fork' in methods else 'spawn')
    with context.Pool(workers) as pool:
        yield from pool.imap(function, tasks)


@contextlib.contextmanager
def _locked(path: Path):
    """Hold an exclusive lock on ``path`` (``fcntl.flock``; no lock where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the atomic rename still keeps entries whole
        yield
        return
    try:
        handle = open(path, 'a')
    except OSError as error:
        raise SynthAVCacheError(f'SynthAV cache: cannot write in {path.parent} ({error}); point '
                             'ICL_AV_SYNTHAV_CACHE at a writable folder or set cache_dir=None') from error
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
