"""Clip-art pictures labelled by their folders, minus every copy of a set of reference pictures.

The honest source for pretraining a visual tower for StampsAV: Debian's ``openclipart-png`` (about 8,100
public-domain PNGs in category folders). Its label is a picture's folder, ``depth`` levels down
(``animals/mammals`` at depth 2, ``animals`` at depth 1; a picture directly in a top folder is labelled by
that folder alone). Tux Paint's stamps were partly drawn from the same Open Clip Art Library, so a
pretraining set made of it would otherwise contain the benchmark's very objects: :func:`find_copies`
compares perceptual hashes (:mod:`icl_av.datasets.utils.picture_hash`) of every clip-art picture with both
orientations of every reference picture, and :func:`build_clipart_source` leaves out every copy.

Decoding and hashing 8,000 pictures takes minutes, so :func:`scan_pictures` keeps what it computed (hashes,
visible size, a small premultiplied cut-out) in a cache file, valid per picture while the file's size and
modification time stay the same, and reads only the pictures it does not hold.
"""
import hashlib
import multiprocessing
import os
import os.path as osp
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from icl_av.datasets.pasted_objects import premultiplied_cutout
from icl_av.datasets.utils.picture_hash import ALPHA_CUT, HASH_RECIPE, HASH_SIZES, hamming, picture_hashes, read_visible
from icl_av.utils import UserInputError

PICTURE_SUFFIXES = ('.png',)
REFERENCE_SUFFIXES = ('.png', '.svg')  # Tux Paint stamps come as PNG pictures, SVG drawings or both
# Copy or not, measured on openclipart-png against the 1,050 Tux Paint stamp pictures (PNG and SVG), with
# each clip-art picture's distance to its nearest stamp of a similar shape. From 58 to 72 of 256 bits at most
# 7 pictures share a distance; from 74 on the counts climb steeply (22, 15, 32, 22, 40, 49, 79, ...) into the
# bulk of unrelated pictures (most common: 102). Every pair up to 72 was looked at: the same drawings up to 56
# (re-rendered or simplified; a glass and a padlock at 48, a moon at 54), recoloured or shadowed copies at 68
# (a truck, a balloon, a T-shirt), and besides them only discs, striped flags against "=", road-sign frames
# and other STOP signs, cheap to lose. A recoloured copy can lie farther (a vacuum cleaner at 74): a luminance
# hash does not see colour swaps. The 64-bit hash separates nothing (copies at 0-12, unrelated pictures from
# 2 up), so the 256-bit one decides.
MATCH_HASH_BITS = 256
MATCH_MAX_BITS = 72  # a copy differs from a reference picture in at most this many bits
MATCH_MAX_ASPECT = 0.25  # and its width/height ratio by at most this much, in natural log (about 1.28x)
CUTOUT_SIDE = 128  # cut-outs are kept at most this large (the stand-in is trained at 64-128 px)
MIN_CLASS_SIZE = 5  # a folder with fewer pictures is no class (its pictures still serve as clutter)


def list_pictures(root: str, suffixes: Sequence[str] = PICTURE_SUFFIXES) -> List[str]:
    """The picture files under ``root``, as sorted ``/``-separated paths relative to it.

    Raises:
        UserInputError: ``root`` is not a folder or holds no picture (the message names it).
    """
    if not osp.isdir(root):
        raise UserInputError(f'{root}: not a folder')
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            if name.lower().endswith(tuple(suffixes)):
                found.append(osp.relpath(osp.join(dirpath, name), root).replace(os.sep, '/'))
    if not found:
        raise UserInputError(f'{root}: no {"/".join(suffixes)} pictures found under it')
    return sorted(found)


def folder_label(path: str, depth: int) -> Optional[str]:
    """The class of a picture at ``path`` (relative, ``/``-separated): its first ``depth`` folders, or ``None``
    for a picture directly in the root."""
    folders = path.split('/')[:-1]
    return '/'.join(folders[:depth]) if folders else None


@dataclass
class PictureTable:
    """What :func:`scan_pictures` knows about each picture, in the order of ``paths``.

    Attributes:
        root (str): The folder ``paths`` are relative to.
        paths (list[str]): The pictures.
        hashes (dict[int, ndarray]): ``{bits: (N, orientations, bits // 8) uint8}``.
        shapes (ndarray): ``(N, 2)`` height and width of each picture's visible part (0 where unreadable).
        errors (list[str]): Why a picture could not be used, ``''`` where it could.
        cutouts (list[ndarray] | None): Premultiplied uint8 RGBA cut-outs, when asked for.
        decoded (int): How many pictures were decoded this time (the others came from the cache).
    """
    root: str
    paths: List[str]
    hashes: Dict[int, np.ndarray]
    shapes: np.ndarray
    errors: List[str]
    cutouts: Optional[List[np.ndarray]] = None
    decoded: int = 0

    @property
    def readable(self) -> np.ndarray:
        return np.array([not error for error in self.errors], bool)


def _examine(job):
    """Decode and hash one picture (in a worker process): ``(hashes, shape, cutout)`` or the error text."""
    path, flips, cutout_side, alpha_cut = job
    try:
        visible = read_visible(path, alpha_cut)
    except UserInputError as error:
        return str(error)
    cutout = premultiplied_cutout(visible, alpha_cut, cutout_side, np.uint8) if cutout_side else None
    return picture_hashes(visible, alpha_cut, flips), visible.shape[:2], cutout


def _quiet_worker():
    cv2.setNumThreads(1)


def _file_signature(path: str) -> Tuple[int, int]:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


CACHE_LAYOUT = 'npz-signatures-v1'  # names the arrays a cache file holds: change it with them


def _cache_settings(flips: bool, cutout_side: int, alpha_cut: int) -> str:
    """What a cache file's entries depend on; a file made with other settings is rebuilt."""
    return f'{CACHE_LAYOUT};{HASH_RECIPE};flips={int(flips)};cutout={cutout_side};alpha_cut={alpha_cut}'


def _load_cache(cache_file: Optional[str], settings: str) -> Dict[str, tuple]:
    """``{path: ((size, mtime_ns), hashes, shape, error, cutout)}`` from a cache file made with the same settings.

    Returns ``{}`` when there is no such file or it was made with other settings.
    """
    if not cache_file or not osp.isfile(cache_file):
        return {}
    try:
        with np.load(cache_file, allow_pickle=False) as data:
            if str(data['settings']) != settings:
                return {}
            paths, signatures, shapes, errors = data['paths'], data['signatures'], data['shapes'], data['errors']
            hashes = {bits: data[f'hash{bits}'] for bits in (keep * keep for _, keep in HASH_SIZES)}
            offsets, cutout_shapes, pixels = data['cutout_offsets'], data['cutout_shapes'], data['cutout_pixels']
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise UserInputError(f'{cache_file}: not a readable picture cache ({error}); delete it to rebuild it')
    entries = {}
    for i, path in enumerate(paths.tolist()):
        cutout = None
        if offsets[i + 1] > offsets[i] or cutout_shapes[i].any():
            cutout = pixels[offsets[i]:offsets[i + 1]].reshape(*cutout_shapes[i], 4)
        entries[path] = (tuple(int(v) for v in signatures[i]), {bits: h[i] for bits, h in hashes.items()},
                         tuple(int(v) for v in shapes[i]), str(errors[i]), cutout)
    return entries


def _save_cache(cache_file: str, settings: str, table: PictureTable, signatures: List[Tuple[int, int]]) -> None:
    """Write the table to ``cache_file`` atomically (a temporary file, then a rename)."""
    cutouts = table.cutouts or [None] * len(table.paths)
    sizes = [0 if c is None else c.size for c in cutouts]
    arrays = dict(
        settings=np.array(settings), paths=np.array(table.paths, dtype=str), signatures=np.array(signatures, np.int64),
        shapes=table.shapes.astype(np.int32), errors=np.array(table.errors, dtype=str),
        cutout_offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        cutout_shapes=np.array([(0, 0) if c is None else c.shape[:2] for c in cutouts], np.int32).reshape(-1, 2),
        cutout_pixels=np.concatenate([c.ravel() for c in cutouts if c is not None] or [np.zeros(0, np.uint8)]))
    arrays.update({f'hash{bits}': h for bits, h in table.hashes.items()})
    os.makedirs(osp.dirname(osp.abspath(cache_file)), exist_ok=True)
    partial = f'{cache_file}.partial'
    with open(partial, 'wb') as f:
        np.savez_compressed(f, **arrays)
    os.replace(partial, cache_file)


def scan_pictures(root: str, paths: Sequence[str], *, flips: bool = False, cutout_side: int = 0,
                  alpha_cut: int = ALPHA_CUT, cache_file: Optional[str] = None, workers: int = 0,
                  log: Optional[Callable[[str], None]] = None) -> PictureTable:
    """Hash every picture of ``paths`` (relative to ``root``), reusing and updating ``cache_file``.

    Args:
        root (str): The pictures' folder.
        paths (sequence[str]): The pictures, relative to ``root``.
        flips (bool): Also hash each picture mirrored (for the reference side of :func:`find_copies`).
        cutout_side (int): Also keep a premultiplied uint8 cut-out at most this large (0: none).
        alpha_cut (int): Alpha below this (0-255) counts as transparent.
        cache_file (str, optional): An ``.npz`` file to read and (when something new was decoded) write;
            pictures that could not be used are tried again on every run.
        workers (int): Decoding processes (0: this process).
        log (callable, optional): Receives a progress line every 1000 decoded pictures.

    Returns:
        PictureTable: A picture that cannot be decoded or shows nothing is kept with its error text.
    """
    settings = _cache_settings(flips, cutout_side, alpha_cut)
    cached = _load_cache(cache_file, settings)
    signatures = [_file_signature(osp.join(root, path)) for path in paths]
    # A picture is read again when its file changed or it could not be used last time (a missing SVG renderer
    # may have been installed since).
    todo = [i for i, path in enumerate(paths)
            if path not in cached or cached[path][0] != signatures[i] or cached[path][3]]
    results: Dict[int, tuple] = {}
    if todo:
        jobs = [(osp.join(root, paths[i]), flips, cutout_side, alpha_cut) for i in todo]
        start = time.time()
        if workers > 0:
            pool = multiprocessing.get_context('fork').Pool(workers, initializer=_quiet_worker)
            stream = pool.imap(_examine, jobs, chunksize=8)
        else:
            pool, stream = None, map(_examine, jobs)
        try:
            for count, (i, result) in enumerate(zip(todo, stream), 1):
                results[i] = result
                if log and count % 1000 == 0:
                    log(f'  decoded {count}/{len(todo)} pictures of {root} ({time.time() - start:.0f} s)')
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    rows = 2 if flips else 1
    hashes = {keep * keep: np.zeros((len(paths), rows, keep * keep // 8), np.uint8) for _, keep in HASH_SIZES}
    shapes = np.zeros((len(paths), 2), np.int32)
    errors, cutouts = [''] * len(paths), [None] * len(paths)
    for i, path in enumerate(paths):
        if i in results:
            result = results[i]
            if isinstance(result, str):
                errors[i] = result
                continue
            picture_hash, shape, cutout = result
        else:
            _, picture_hash, shape, _, cutout = cached[path]
        for bits in hashes:
            hashes[bits][i] = picture_hash[bits]
        shapes[i], cutouts[i] = shape, cutout
    table = PictureTable(root, list(paths), hashes, shapes, errors, cutouts if cutout_side else None, len(todo))
    if cache_file and (any(not errors[i] for i in todo) or len(cached) != len(paths)):
        _save_cache(cache_file, settings, table, signatures)
    return table


@dataclass
class CopyMatches:
    """For each candidate picture: its nearest reference picture and whether it is a copy of it.

    Attributes:
        nearest (ndarray): Index of the nearest reference picture among those of a similar shape (-1: none).
        distance (ndarray): Its Hamming distance in bits (the larger of ``MATCH_HASH_BITS`` + 1 where none).
        is_copy (ndarray): ``distance <= max_bits``.
    """
    nearest: np.ndarray
    distance: np.ndarray
    is_copy: np.ndarray


def find_copies(candidates: PictureTable, references: PictureTable, max_bits: int = MATCH_MAX_BITS,
                max_aspect: float = MATCH_MAX_ASPECT, bits: int = MATCH_HASH_BITS) -> CopyMatches:
    """Which candidates copy a reference picture, mirrored or not.

    A candidate copies a reference when their visible parts have nearly the same shape (width/height ratios
    within ``max_aspect`` in natural log: a copy keeps its proportions, and featureless pictures such as a
    filled bar and a many-pointed star would otherwise hash alike) and their ``bits``-bit hashes differ in
    at most ``max_bits`` bits, in either orientation of the reference. Unreadable pictures copy nothing.
    """
    ok_c, ok_r = candidates.readable, references.readable
    count = len(candidates.paths)
    nearest = np.full(count, -1, np.int64)
    distance = np.full(count, bits + 1, np.int64)
    if ok_c.any() and ok_r.any():
        ref_index = np.nonzero(ok_r)[0]
        ref_hashes = references.hashes[bits][ref_index]  # (M, orientations, B)
        orientations = ref_hashes.shape[1]
        flat = ref_hashes.reshape(len(ref_index) * orientations, -1)
        ratio = lambda shapes: np.log(np.maximum(shapes[:, 1], 1) / np.maximum(shapes[:, 0], 1))  # noqa: E731
        ref_ratio = ratio(references.shapes[ref_index])
        cand_index = np.nonzero(ok_c)[0]
        cand_ratio = ratio(candidates.shapes[cand_index])
        for start in range(0, len(cand_index), 512):
            block = cand_index[start:start + 512]
            dist = hamming(candidates.hashes[bits][block, 0], flat).reshape(len(block), len(ref_index), orientations)
            dist = dist.min(axis=2).astype(np.int64)
            dist[np.abs(cand_ratio[start:start + 512, None] - ref_ratio[None, :]) > max_aspect] = bits + 1
            best = dist.argmin(axis=1)
            nearest[block] = np.where(dist[np.arange(len(block)), best] <= bits, ref_index[best], -1)
            distance[block] = dist[np.arange(len(block)), best]
    return CopyMatches(nearest, distance, distance <= max_bits)


@dataclass
class ClipartSource:
    """Labelled clip-art cut-outs with no copy of a reference picture, and the account of what was left out.

    Attributes:
        names (list[str]): The class names (folders), sorted.
        cutouts (list[list[ndarray]]): Each class's premultiplied uint8 cut-outs.
        clutter (list[ndarray]): Every kept picture's cut-out, classes or not (for clutter and scenery).
        removed (list[tuple]): ``(picture, reference picture, bits)`` for each left-out copy.
        unreadable (list[tuple]): ``(picture, reason)`` for each picture that could not be used.
        unlabelled (int): Kept pictures in no class (directly in the root, or in a folder under the minimum).
        total (int): Pictures found.
        references (int): Reference pictures compared against.
        near_misses (dict[int, int]): ``{bits: how many kept pictures}`` whose nearest reference is that far,
            for the distances just above the threshold.
        seconds (float): Time spent listing, decoding, hashing and matching.
    """
    names: List[str]
    cutouts: List[List[np.ndarray]]
    clutter: List[np.ndarray]
    removed: List[Tuple[str, str, int]]
    unreadable: List[Tuple[str, str]]
    unlabelled: int
    total: int
    references: int
    near_misses: Dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def class_sizes(self) -> Dict[str, int]:
        return {name: len(pictures) for name, pictures in zip(self.names, self.cutouts)}


def cache_file_for(cache_dir: str, root: str, what: str) -> str:
    """The cache file of the pictures under ``root`` in ``cache_dir`` (one per folder, named after it)."""
    digest = hashlib.sha1(osp.abspath(root).encode()).hexdigest()[:10]
    return osp.join(cache_dir, f'{what}-{digest}.npz')


def build_clipart_source(clipart_root: str, reference_root: str, *, reference_suffixes=REFERENCE_SUFFIXES,
                         label_depth: int = 2, min_class_size: int = MIN_CLASS_SIZE, cutout_side: int = CUTOUT_SIDE,
                         cache_dir: Optional[str] = None, workers: int = 0, max_bits: int = MATCH_MAX_BITS,
                         max_aspect: float = MATCH_MAX_ASPECT,
                         log: Optional[Callable[[str], None]] = None) -> ClipartSource:
    """The clip art under ``clipart_root``, labelled by folder, without any copy of a picture under ``reference_root``.

    Args:
        clipart_root (str): The clip-art folder (``openclipart/png``).
        reference_root (str): Pictures that must not be learnt from, searched recursively (the Tux Paint stamps).
        reference_suffixes (sequence[str]): Which files there are pictures (``.svg`` ones need cairosvg).
        label_depth (int): How many folder levels name a class (1 or 2).
        min_class_size (int): Classes with fewer pictures (after de-duplication) are dropped; their pictures
            still serve as clutter.
        cutout_side (int): The cut-outs' long side at most.
        cache_dir (str, optional): Where the hash caches live (none when ``None``).
        workers (int): Decoding processes.
        max_bits, max_aspect: How close a copy is (:func:`find_copies`).
        log (callable, optional): Receives progress lines.

    Raises:
        UserInputError: a folder is missing or empty, a reference picture cannot be read (its copies could not
            be found), or no class is left (the message names the folder or file).
    """
    start = time.time()
    if label_depth < 1:
        raise UserInputError(f'label depth {label_depth}: expected 1 (top folders) or more')
    references = list_pictures(reference_root, reference_suffixes)
    pictures = list_pictures(clipart_root)
    cache = (lambda root, what: cache_file_for(cache_dir, root, what)) if cache_dir else (lambda root, what: None)
    ref_table = scan_pictures(reference_root, references, flips=True, cache_file=cache(reference_root, 'references'),
                              workers=workers, log=log)
    unread = [error for error in ref_table.errors if error]
    if unread:
        raise UserInputError(f'{len(unread)} of the {len(references)} pictures under {reference_root} cannot be read, '
                             f'so their copies cannot be found; the first: {unread[0]}')
    table = scan_pictures(clipart_root, pictures, cutout_side=cutout_side, cache_file=cache(clipart_root, 'clipart'),
                          workers=workers, log=log)
    matches = find_copies(table, ref_table, max_bits, max_aspect)
    removed = [(pictures[i], references[matches.nearest[i]], int(matches.distance[i]))
               for i in np.nonzero(matches.is_copy)[0]]
    unreadable = [(path, error) for path, error in zip(pictures, table.errors) if error]
    kept = [i for i in range(len(pictures)) if table.readable[i] and not matches.is_copy[i]]
    kept_distances = matches.distance[kept]
    near_misses = {bits: int((kept_distances == bits).sum()) for bits in range(max_bits + 1, max_bits + 17)}
    groups: Dict[Optional[str], List[np.ndarray]] = {}
    for i in kept:
        label = folder_label(pictures[i], label_depth)
        groups.setdefault(label, []).append(table.cutouts[i])
    names = sorted(name for name, group in groups.items() if name is not None and len(group) >= min_class_size)
    unlabelled = sum(len(group) for name, group in groups.items() if name not in names)
    if not names:
        raise UserInputError(f'{clipart_root}: no folder holds {min_class_size} or more usable pictures '
                             f'(labels are folders {label_depth} level(s) down)')
    return ClipartSource(names=names, cutouts=[groups[name] for name in names],
                         clutter=[table.cutouts[i] for i in kept], removed=removed, unreadable=unreadable,
                         unlabelled=unlabelled, total=len(pictures), references=int(ref_table.readable.sum()),
                         near_misses=near_misses, seconds=time.time() - start)
