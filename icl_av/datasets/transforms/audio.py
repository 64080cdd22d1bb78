"""Audio transforms: cut a fixed-length clip, compute a spectrogram feature, SpecAugment.

The waveform arrives as ``results['audio']`` ``(N,)`` float32 at ``results['audio_sample_rate']``
(from :class:`LoadAudio` / :class:`LoadVideoFrameAndAudio`); :class:`ComputeAudioFeature`
turns it into ``(F, T)`` and sets ``results['audio_is_feature'] = True``.
"""
import random
from typing import Dict, Optional, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from icl_av.registry import MODELS, TRANSFORMS, build_in_scope

from ..errors import AVLoadError
from ..utils.media_io import AudioSource

CLIP_OFFSETS = ('center', 'random')
PAD_MODES = ('tile', 'zeros')


@TRANSFORMS.register_module()
class AudioClip(BaseTransform):
    """Cut a clip of exactly ``duration`` seconds from the waveform.

    The clip is centred on ``results['audio_center']`` (seconds; the frame's timestamp for
    raw videos) or, when absent, on the middle of the audio (frames+audio layout, where
    the frame is the clip's centre frame). With ``offset='random'`` the start is drawn
    uniformly (within ``±jitter`` s of the centred start when ``jitter`` is set, anywhere
    otherwise). The window is shifted to stay inside the audio. Audio shorter than the
    clip is repeated (``pad_mode='tile'``, default) or zero-padded (``'zeros'``).

    When ``audio`` is an :class:`~icl_av.datasets.utils.media_io.AudioSource`
    (``LoadAudio(lazy=True)``), the window is chosen from the file's length exactly as for
    a decoded waveform (the same random draws) and only its samples are read from the
    file, so the clip is the same as cutting the whole decoded file.

    Required Keys:

        - audio (``(N,)`` float32 waveform, or an ``AudioSource``)
        - audio_sample_rate
        - audio_center (optional; seconds)
        - audio_meta (optional; the loader's, kept and updated)
        - audio_is_feature (optional; must not be True)
        - audio_path (optional; named in the error for an empty waveform)

    Modified Keys:

        - audio (the clip, ``(round(duration * rate),)`` float32)
        - audio_meta (added when absent; ``rate``, ``offset`` of the clip's start in the file and
          ``duration`` in seconds, ``padded``; an ``AudioSource`` read whole replaces it with the
          file's meta first)

    Args:
        duration (float): Clip length in seconds. Default 3.0 (the anchors' setting).
        offset (str): ``'center'`` (default, testing) or ``'random'`` (training).
        jitter (float, optional): Max shift in seconds for ``offset='random'``.
        pad_mode (str): ``'tile'`` or ``'zeros'`` for short audio.
    """

    def __init__(self, duration: float = 3.0, offset: str = 'center', jitter: Optional[float] = None,
                 pad_mode: str = 'tile'):
        if duration <= 0:
            raise ValueError(f'AudioClip duration must be positive, got {duration}')
        if offset not in CLIP_OFFSETS:
            raise ValueError(f'AudioClip offset must be one of {CLIP_OFFSETS}, got {offset!r}')
        if pad_mode not in PAD_MODES:
            raise ValueError(f'AudioClip pad_mode must be one of {PAD_MODES}, got {pad_mode!r}')
        if jitter is not None and jitter < 0:
            raise ValueError(f'AudioClip jitter must be >= 0, got {jitter}')
        self.duration = float(duration)
        self.offset = offset
        self.jitter = jitter
        self.pad_mode = pad_mode

    def clip_start(self, total: int, length: int, rate: int, center_s: Optional[float]) -> int:
        """First sample of the clip for ``total`` samples and a clip of ``length`` samples."""
        latest = total - length
        if latest <= 0:
            return 0
        centre_sample = total / 2 if center_s is None else center_s * rate
        start = int(round(centre_sample - length / 2))
        if self.offset == 'random':
            if self.jitter is None:
                start = random.randint(0, latest)
            else:
                shift = int(round(self.jitter * rate))
                start = random.randint(start - shift, start + shift)
        return min(max(start, 0), latest)

    def transform(self, results: Dict) -> Dict:
        """Cut (or pad) the waveform to the clip; read only the clip from an ``AudioSource``."""
        if results.get('audio_is_feature'):
            raise ValueError('AudioClip must run before ComputeAudioFeature (the audio is already a feature)')
        rate = int(results['audio_sample_rate'])
        length = int(round(self.duration * rate))
        audio = results['audio']
        if isinstance(audio, AudioSource) and audio.windowed:
            total = audio.num_samples
            start = self.clip_start(total, length, rate, results.get('audio_center'))
            clip = audio.read_window(start, length)
        else:
            if isinstance(audio, AudioSource):
                audio, loaded_meta = audio.load()
                results['audio_meta'] = loaded_meta
            wave = np.asarray(audio, dtype=np.float32).reshape(-1)
            total = wave.size
            if total == 0:
                raise ValueError(f'AudioClip got an empty waveform for {results.get("audio_path", "?")}')
            start = self.clip_start(total, length, rate, results.get('audio_center'))
            clip = wave[start:start + length]
        padded = clip.size < length
        if padded:
            if self.pad_mode == 'tile':
                clip = np.tile(clip, int(np.ceil(length / clip.size)))[:length]
            else:
                clip = np.pad(clip, (0, length - clip.size))
        results['audio'] = np.ascontiguousarray(clip, dtype=np.float32)
        meta = dict(results.get('audio_meta') or {})
        meta.update(rate=rate, offset=meta.get('offset', 0.0) + start / rate, duration=self.duration,
                    padded=bool(padded))
        results['audio_meta'] = meta
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(duration={self.duration}, offset={self.offset!r}, '
                f'jitter={self.jitter}, pad_mode={self.pad_mode!r})')


@TRANSFORMS.register_module()
class ComputeAudioFeature(BaseTransform):
    """Turn the waveform into a spectrogram feature per sample (runs in loader workers).

    Wraps a front end from :mod:`icl_av.models.audio_frontends` (``LogMelFrontend``,
    ``LinearSTFTFrontend``) built from the MODELS registry. Use this *or* the data
    preprocessor's ``audio_frontend``, not both.

    A feature that is not finite (which the loaders' amplitude bound should already prevent)
    raises :class:`AVLoadError` naming the audio file, so no ``inf`` ever reaches the model.

    Required Keys:

        - audio (``(N,)`` float32 waveform)
        - audio_sample_rate (optional; checked against the front end's ``sample_rate``)
        - audio_is_feature (optional; must not be True)
        - audio_path or video_path (optional; named in the error)

    Modified Keys:

        - audio (``(F, T)`` float32 feature)
        - audio_is_feature (True; added when absent)

    Args:
        frontend (dict): MODELS config of the front end. If it has ``sample_rate``, it must
            match ``results['audio_sample_rate']``.
    """

    def __init__(self, frontend: Union[dict, torch.nn.Module] = dict(type='LogMelFrontend')):
        self.frontend_cfg = frontend
        if isinstance(frontend, dict):
            self.expected_rate = frontend.get('sample_rate')
            import icl_av.models.audio_frontends  # noqa: F401  (registers the front ends)
            self.frontend = build_in_scope(MODELS, frontend)
        else:
            self.expected_rate = None
            self.frontend = frontend
        self.frontend.eval()

    def transform(self, results: Dict) -> Dict:
        """Compute the feature on the CPU."""
        if results.get('audio_is_feature'):
            raise ValueError('ComputeAudioFeature got audio that is already a feature')
        rate = results.get('audio_sample_rate')
        if self.expected_rate is not None and rate is not None and int(rate) != int(self.expected_rate):
            raise ValueError(f'ComputeAudioFeature front end expects {self.expected_rate} Hz audio but the '
                             f'waveform is at {rate} Hz; set LoadAudio(sample_rate={self.expected_rate})')
        wave = torch.from_numpy(np.ascontiguousarray(results['audio'], dtype=np.float32).reshape(-1))
        with torch.no_grad():
            feature = self.frontend(wave)
        feature = feature.numpy().astype(np.float32, copy=False)
        if not np.isfinite(feature).all():
            source = results.get('audio_path') or results.get('video_path') or '<in-memory audio>'
            peak = float(np.abs(results['audio']).max())
            raise AVLoadError(source, f'the audio feature has {int((~np.isfinite(feature)).sum())} non-finite values '
                                      f'(waveform peak {peak:.3g})')
        results['audio'] = feature
        results['audio_is_feature'] = True
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(frontend={self.frontend_cfg})'


@TRANSFORMS.register_module()
class SpecAugment(BaseTransform):
    """SpecAugment-style masking of a ``(F, T)`` feature (training only).

    Required Keys:

        - audio (``(F, T)`` float32 feature)
        - audio_is_feature (must be True: put it after ``ComputeAudioFeature``)

    Modified Keys:

        - audio (a masked copy; unchanged when the ``prob`` draw skips the masks)

    Args:
        freq_mask (int): Max width of each frequency mask (bins). 0 disables.
        time_mask (int): Max width of each time mask (frames). 0 disables.
        num_freq_masks (int): Number of frequency masks. Default 1.
        num_time_masks (int): Number of time masks. Default 1.
        mask_value (str | float): ``'mean'`` (default: the feature's mean, neutral for log
            spectrograms) or a constant.
        prob (float): Probability of applying the masks at all. Default 1.0.
    """

    def __init__(self, freq_mask: int = 8, time_mask: int = 20, num_freq_masks: int = 1,
                 num_time_masks: int = 1, mask_value: Union[str, float] = 'mean', prob: float = 1.0):
        if min(freq_mask, time_mask, num_freq_masks, num_time_masks) < 0:
            raise ValueError('SpecAugment widths and counts must be >= 0')
        if not (mask_value == 'mean' or isinstance(mask_value, (int, float))):
            raise ValueError(f"SpecAugment mask_value must be 'mean' or a number, got {mask_value!r}")
        self.freq_mask, self.time_mask = freq_mask, time_mask
        self.num_freq_masks, self.num_time_masks = num_freq_masks, num_time_masks
        self.mask_value = mask_value
        self.prob = prob

    @staticmethod
    def _mask_axis(feature: np.ndarray, axis: int, max_width: int, count: int, value: float) -> None:
        size = feature.shape[axis]
        for _ in range(count):
            width = random.randint(0, min(max_width, size))
            if width == 0:
                continue
            start = random.randint(0, size - width)
            index = [slice(None)] * feature.ndim
            index[axis] = slice(start, start + width)
            feature[tuple(index)] = value

    def transform(self, results: Dict) -> Dict:
        """Mask random frequency bands and time spans."""
        if not results.get('audio_is_feature'):
            raise ValueError('SpecAugment needs a feature: put it after ComputeAudioFeature')
        if random.random() >= self.prob:
            return results
        feature = np.array(results['audio'], dtype=np.float32, copy=True)
        value = float(feature.mean()) if self.mask_value == 'mean' else float(self.mask_value)
        self._mask_axis(feature, feature.ndim - 2, self.freq_mask, self.num_freq_masks, value)
        self._mask_axis(feature, feature.ndim - 1, self.time_mask, self.num_time_masks, value)
        results['audio'] = feature
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(freq_mask={self.freq_mask}, time_mask={self.time_mask}, '
                f'num_freq_masks={self.num_freq_masks}, num_time_masks={self.num_time_masks})')
