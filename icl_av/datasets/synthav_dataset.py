"""SynthAVDataset: the built-in synthetic benchmark as an MMEngine dataset (a thin adapter).

The data list holds only each sample's recipe (ID, scene split, scene index, variant);
the frame and the waveform are rebuilt from ``(seed, scene split, index)``, so loader
workers need no files and each sample is identical in every epoch. Without a
``cache_dir`` a sample is synthesised every time it is read (~3 ms at 64 px / 1 s, ~13 ms
at 224 px / 3 s of one core); with one, the split is rendered once into it and read back
memory-mapped (:mod:`icl_av.synthav.render_cache`), so epochs, validations and
pseudo-label refreshes skip synthesis. The benchmark itself (scenes, sounds, splits, the
cache, the exporter) is the package :mod:`icl_av.synthav`; this module only adapts it to
MMEngine (data list, ``get_data_info``, the audio-swap control).
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from icl_av.registry import DATASETS, build_transforms
from icl_av.structures.masks import encode_rle

from icl_av.synthav.classes import CLASS_NAMES
from icl_av.synthav.generator import SynthAVSample, generate_sample
from icl_av.synthav.render_cache import SynthAVCacheError, SynthAVRenderCache
from icl_av.synthav.splits import SPLITS, build_split
from .audio_swap import check_swap_seed, swap_donors
from .errors import AVDatasetError


@DATASETS.register_module()
class SynthAVDataset(BaseDataset):
    """Procedural audio-visual scenes with exact ground truth (boxes, masks, sounding flag).

    Each scene has a textured background, one large main object (clipped box area
    0.28-0.48 of the frame, so the whole-image prediction stays below cIoU 0.5) and 0-3
    distractors of other classes (box area 0.08-0.30, or as large as the main object
    half of the time), placed uniformly over the frame and possibly overlapping; in a
    sounding sample the main object plays its class's sound mixed with background
    noise at a random SNR (3-20 dB). ``test_extended`` adds non-sounding pairs
    (off-screen sound of an absent class, or near-silence).

    Results handed to the pipeline (``docs/contracts.md``): ``img`` (uint8 BGR H×W×3),
    ``img_shape``, ``ori_shape``, ``audio`` (float32 ``(N,)``), ``audio_sample_rate``,
    ``audio_meta`` (rate, offset, duration, source), ``audio_is_feature`` (False),
    ``gt_bboxes`` (float32 N×4 pixels; ``0×4`` when not sounding), ``gt_masks`` (list of
    one COCO RLE dict; empty when not sounding), ``is_sounding``, ``video_id``,
    ``sample_idx``, ``class_id`` / ``class_name`` (of the heard sound; -1/'silence'),
    and ``synthav_meta`` (analysis only, in the original geometry: variant, SNR, main
    object class/box, distractor classes/boxes).

    Args:
        split (str): ``'train'``, ``'val'`` (model selection), ``'test'`` or
            ``'test_extended'``.
        num_samples (int): Number of samples.
        seed (int): Benchmark seed; each split derives its own scenes from it.
        img_size (int): Square frame side in pixels.
        audio_seconds (float): Clip length in seconds.
        audio_sample_rate (int): Audio rate in Hz.
        extended_ratio (float): Fraction of non-sounding pairs in ``test_extended``
            (half off-screen sound, half silence).
        cache_dir (str, optional): Render the split once into this folder and read it back
            memory-mapped (one sub-folder per split and parameters, named by a hash of
            them and of the generator's code; safe to share between runs and processes;
            delete it to reclaim the space). ``None`` synthesises every read.
        cache_workers (int): Processes that render the cache; 0 picks ``min(8, cpus)``.
        shuffle_audio (int, optional): The audio-swap control (``tools/test.py
            --shuffle-audio``): ``None`` (default) keeps each scene's own sound; an int
            ``>= 0`` seeds a derangement (:func:`~icl_av.datasets.audio_swap.swap_donors`)
            that gives every sounding scene the sound of another sounding scene of the
            split. The frame and its ground truth stay; ``audio_id`` names the donor.
        pipeline (Sequence): Transforms (configs or callables).
        test_mode (bool): MMEngine's test mode flag.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments
            (``lazy_init``, ``serialize_data``, ``indices``, ``max_refetch``...).
    """

    METAINFO = dict(dataset_name='SynthAV', classes=CLASS_NAMES)

    def __init__(self, split: str = 'train', num_samples: int = 2000, seed: int = 0, img_size: int = 128,
                 audio_seconds: float = 1.0, audio_sample_rate: int = 16000, extended_ratio: float = 0.5,
                 cache_dir: Optional[str] = None, cache_workers: int = 0, shuffle_audio: Optional[int] = None,
                 pipeline: Sequence[Union[dict, callable]] = (), test_mode: bool = False, **kwargs):
        if split not in SPLITS:
            raise ValueError(f'SynthAVDataset: unknown split {split!r}; expected one of {SPLITS}')
        if num_samples <= 0:
            raise ValueError(f'SynthAVDataset: num_samples must be > 0, got {num_samples}')
        if img_size < 16:
            raise ValueError(f'SynthAVDataset: img_size must be >= 16, got {img_size}')
        if audio_seconds <= 0 or audio_sample_rate <= 0:
            raise ValueError(f'SynthAVDataset: audio_seconds and audio_sample_rate must be positive, '
                             f'got {audio_seconds} and {audio_sample_rate}')
        if not 0.0 <= extended_ratio <= 1.0:
            raise ValueError(f'SynthAVDataset: extended_ratio must be in [0, 1], got {extended_ratio}')
        self.split = split
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.img_size = int(img_size)
        self.audio_seconds = float(audio_seconds)
        self.audio_sample_rate = int(audio_sample_rate)
        self.extended_ratio = float(extended_ratio)
        self.cache_dir = cache_dir
        self.cache_workers = int(cache_workers)
        self._cache: Optional[SynthAVRenderCache] = None
        check_swap_seed(shuffle_audio)
        self.shuffle_audio = shuffle_audio
        self._audio_donors: Optional[Dict[int, int]] = None
        # Built in icl_av's scope: unprefixed transforms are icl_av's whatever the caller's default scope.
        super().__init__(ann_file='', pipeline=build_transforms(pipeline), test_mode=test_mode, **kwargs)

    def load_data_list(self) -> List[dict]:
        """One small recipe dict per sample (no pixels, no audio)."""
        entries = build_split(self.split, self.num_samples, self.seed, self.extended_ratio)
        return [dict(video_id=e.video_id, scene_split=e.scene_split, scene_index=e.scene_index,
                     variant=e.variant) for e in entries]

    def full_init(self) -> None:
        """Build the recipe list, then render the cache (first use) and map it, if one is set."""
        if self._fully_initialized:
            return
        super().full_init()
        if self.shuffle_audio is not None:
            self._audio_donors = self._swap_audio()
        if self.cache_dir is None:
            return
        recipes = []
        for idx in range(len(self)):
            info = super().get_data_info(idx)
            recipes.append((info['scene_split'], info['scene_index'], info['variant']))
        cache = SynthAVRenderCache(self.cache_dir, self.split, recipes, self.seed, self.img_size,
                                   self.audio_seconds, self.audio_sample_rate)
        try:
            cache.ensure(self.cache_workers, log=lambda line: print_log(line, logger='current'))
            cache.open()
        except SynthAVCacheError as error:  # a dataset error, like every other unusable-data case
            raise AVDatasetError(str(error)) from error
        self._cache = cache

    def _swap_audio(self) -> Dict[int, int]:
        """``{sample idx: donor idx}`` over the sounding scenes (see ``shuffle_audio``)."""
        sounding = [idx for idx in range(len(self)) if self._recipe(idx)['variant'] == 'sounding']
        if len(sounding) < 2:
            raise ValueError(f'SynthAVDataset({self.split}): shuffle_audio={self.shuffle_audio} needs at least 2 '
                             f'sounding scenes to pair each frame with another scene\'s sound; the split has '
                             f'{len(sounding)}')
        donors = swap_donors(len(sounding), self.shuffle_audio)
        print_log(f'SynthAVDataset({self.split}): audio swapped (shuffle_audio={self.shuffle_audio}): each of '
                  f'{len(sounding)} sounding scenes is paired with another scene\'s sound', logger='current')
        return {sounding[k]: sounding[int(donor)] for k, donor in enumerate(donors)}

    def _recipe(self, idx: int) -> dict:
        """The data-list entry of sample ``idx`` (its recipe, no pixels or audio)."""
        return BaseDataset.get_data_info(self, idx)

    def _read(self, idx: int) -> SynthAVSample:
        """Sample ``idx`` from the render cache, or synthesised when there is none."""
        return self.synthesize(self._recipe(idx)) if self._cache is None else self._cache.read(idx)

    def synthesize(self, info: Dict) -> SynthAVSample:
        """Generate the sample described by a data-list entry (its picture, sound and GT)."""
        return generate_sample(self.seed, info['scene_split'], info['scene_index'], self.img_size,
                               self.audio_seconds, self.audio_sample_rate, info['variant'])

    def _audio_source(self, idx: int) -> str:
        info = self._recipe(idx)
        return f'synthav://{self.seed}/{info["scene_split"]}/{info["scene_index"]}'

    def get_sample(self, idx: int) -> SynthAVSample:
        """The full generated sample (with its bool mask) for analysis and visualisation."""
        return self.synthesize(super().get_data_info(idx))

    def get_data_info(self, idx: int) -> dict:
        """The pipeline's input for sample ``idx`` (see the class docstring for the keys)."""
        info = super().get_data_info(idx)
        sample = self._read(idx)
        donor = (self._audio_donors or {}).get(idx)
        sound = sample if donor is None else self._read(donor)
        if donor is not None:
            info['audio_id'] = self._recipe(donor)['video_id']
        height, width = sample.img.shape[:2]
        info.update(
            img=sample.img,
            img_shape=(height, width),
            ori_shape=(height, width),
            audio=sound.audio,
            audio_sample_rate=sound.sample_rate,
            audio_is_feature=False,
            audio_meta=dict(rate=sound.sample_rate, offset=0.0, duration=len(sound.audio) / sound.sample_rate,
                            source=self._audio_source(idx if donor is None else donor)),
            gt_bboxes=(sample.gt_bbox[None, :].copy() if sample.is_sounding
                       else np.zeros((0, 4), dtype=np.float32)),
            gt_masks=[encode_rle(sample.gt_mask)] if sample.is_sounding else [],
            is_sounding=sample.is_sounding,
            class_id=sample.class_id,
            class_name=sample.class_name,
            synthav_meta=dict(variant=sample.variant, snr_db=sample.snr_db,
                              main_class_id=sample.main_class_id, main_bbox=sample.main_bbox,
                              distractor_class_ids=sample.distractor_class_ids,
                              distractor_bboxes=sample.distractor_bboxes))
        return info
