"""Batch, move to the device and normalise the image and audio inputs.

The batch is best stacked in the loader workers (``corrupt_aware_collate`` does it), so the
loader's pin-memory thread pins one tensor per input and the copy to the GPU runs
asynchronously (``non_blocking=True``) while the host prepares the next step; per-sample
lists (``pseudo_collate``) are stacked here, on the host.
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor

from icl_av.registry import MODELS, build_in_scope

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
AUDIO_NORM_MODES = (None, 'batch', 'sample')
CHANNELS_LAST_MODES = (False, True, 'auto')


def _stack_padded(items: Union[torch.Tensor, Sequence[torch.Tensor]], what: str, pad_last_dim: bool) -> torch.Tensor:
    """Stack a list of tensors; optionally right-pad the last dimension with zeros to the longest.

    Args:
        items: A batch tensor (returned as is) or a list of per-sample tensors.
        what (str): Name used in error messages.
        pad_last_dim (bool): Pad mismatched last dimensions instead of failing.
    """
    if isinstance(items, torch.Tensor):
        return items
    if len(items) == 0:
        raise ValueError(f'AVDataPreprocessor: empty batch of {what}')
    shapes = {tuple(t.shape) for t in items}
    if len(shapes) > 1:
        leading = {s[:-1] for s in shapes}
        if not pad_last_dim or len(leading) > 1:
            raise ValueError(f'AVDataPreprocessor: {what} of a batch must share a shape, got {sorted(shapes)}; '
                             f'resize/crop in the pipeline')
        longest = max(s[-1] for s in shapes)
        items = [F.pad(t, (0, longest - t.shape[-1])) for t in items]
    return torch.stack(list(items))


@MODELS.register_module()
class AVDataPreprocessor(BaseDataPreprocessor):
    """Turn the packed per-sample inputs into normalised batch tensors on the device.

    Args:
        mean (sequence[float]): Per-channel image mean on the 0-255 scale (RGB order
            when ``bgr_to_rgb``). Defaults to ImageNet's.
        std (sequence[float]): Per-channel image std on the 0-255 scale.
        bgr_to_rgb (bool): Reverse the channel order (pipelines carry BGR).
        channels_last (bool | str): Return images in ``torch.channels_last`` memory
            format, which cuDNN's tensor-core convolutions (bf16/fp16) run without
            transposes; the visual tower then computes in that layout. ``'auto'``
            (default): on CUDA devices only, since on CPUs the gain depends on the
            kernels (``docs/speed.md``) and the CPU configs' figures were measured
            without it; ``True``: everywhere; ``False``: never. Values are unchanged.
        audio_frontend (dict, optional): MODELS config of a waveform -> feature
            module (e.g. ``dict(type='LogMelFrontend', sample_rate=16000,
            n_mels=64)``), run on the batch on the device when the audio arrives
            as a ``1×N`` waveform. Inputs that are already ``1×F×T`` features
            bypass it.
        audio_norm (str, optional): ``'batch'`` standardises the audio feature
            with the batch's mean/std, ``'sample'`` each clip with its own;
            ``None`` leaves it.
        audio_norm_eps (float): Floor of the std in ``audio_norm``.
        pad_audio (bool): Right-pad clips of different lengths with zeros
            (waveforms: samples; features: frames) instead of failing.
        non_blocking (bool): Non-blocking host-to-device copies (default True). From
            pinned memory (the loader's ``pin_memory=True``) the copy overlaps with the
            host; from pageable memory it is a plain copy. Later kernels on the same stream
            wait for it, so the values are always the copied ones.

    Input: ``{'inputs': {'img': uint8 B×3×H×W or a list of 3×H×W, 'audio':
    B×1×N / B×1×F×T or a list of 1×N / 1×F×T}, 'data_samples': [...]}``.
    Output: ``{'inputs': {'img': B×3×H×W float,
    'audio': B×1×F×T float}, 'data_samples': unchanged}``.
    """

    def __init__(self,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 bgr_to_rgb: bool = True,
                 channels_last: Union[bool, str] = 'auto',
                 audio_frontend: Optional[dict] = None,
                 audio_norm: Optional[str] = None,
                 audio_norm_eps: float = 1e-5,
                 pad_audio: bool = True,
                 non_blocking: bool = True):
        super().__init__(non_blocking=non_blocking)
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f'AVDataPreprocessor: mean and std need 3 values, got {mean}, {std}')
        if audio_norm not in AUDIO_NORM_MODES:
            raise ValueError(f'AVDataPreprocessor: audio_norm must be one of {AUDIO_NORM_MODES}, got {audio_norm!r}')
        if channels_last not in CHANNELS_LAST_MODES:
            raise ValueError(f"AVDataPreprocessor: channels_last must be True, False or 'auto', got {channels_last!r}")
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), persistent=False)
        self.bgr_to_rgb = bgr_to_rgb
        self.channels_last = channels_last
        self.audio_frontend = (build_in_scope(MODELS, audio_frontend) if isinstance(audio_frontend, dict)
                               else audio_frontend)
        self.audio_norm = audio_norm
        self.audio_norm_eps = audio_norm_eps
        self.pad_audio = pad_audio

    def preprocess_img(self, img: torch.Tensor) -> torch.Tensor:
        """``B×3×H×W`` uint8 BGR (on the device) -> normalised float."""
        if img.dim() != 4 or img.shape[1] != 3:
            raise ValueError(f'AVDataPreprocessor: expected images B×3×H×W, got {tuple(img.shape)}')
        if self.bgr_to_rgb:
            img = img.flip(1)
        img = (img.float() - self.mean) / self.std
        if self.use_channels_last(img.device):
            img = img.contiguous(memory_format=torch.channels_last)
        return img

    def use_channels_last(self, device: torch.device) -> bool:
        """Whether images on ``device`` are returned channels-last (see ``channels_last``)."""
        if self.channels_last == 'auto':
            return device.type == 'cuda'
        return bool(self.channels_last)

    def preprocess_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """``B×1×N`` waveform or ``B×1×F×T`` feature -> ``B×1×F×T`` float feature."""
        audio = audio.float()
        if audio.dim() == 2:  # B×N waveform without the channel axis
            audio = audio[:, None]
        if audio.dim() == 3:
            if self.audio_frontend is None:
                raise ValueError(f'AVDataPreprocessor: audio arrived as a waveform {tuple(audio.shape)} but no '
                                 f'audio_frontend is configured (set data_preprocessor.audio_frontend or compute '
                                 f'features in the pipeline)')
            audio = self.audio_frontend(audio)
        if audio.dim() != 4:
            raise ValueError(f'AVDataPreprocessor: expected audio B×1×F×T after the front end, got '
                             f'{tuple(audio.shape)}')
        if self.audio_norm == 'batch':
            audio = (audio - audio.mean()) / audio.std().clamp_min(self.audio_norm_eps)
        elif self.audio_norm == 'sample':
            dims = tuple(range(1, audio.dim()))
            mean = audio.mean(dim=dims, keepdim=True)
            std = audio.std(dim=dims, keepdim=True).clamp_min(self.audio_norm_eps)
            audio = (audio - mean) / std
        return audio

    def forward(self, data: dict, training: bool = False) -> dict:
        """Stack, move to the device and normalise; ``data_samples`` pass through.

        Markers of samples that failed to load (``data['corrupt']``, from
        ``corrupt_aware_collate``) are ignored: they are not part of the batch.
        """
        if not isinstance(data, dict):
            raise TypeError(f'AVDataPreprocessor: expected a collated batch dict, got {type(data).__name__}; '
                            "corrupt-sample markers are dropped before collating by CorruptSampleHook (training) "
                            "or collate_fn=dict(type='corrupt_aware_collate')")
        inputs = data['inputs']
        if data.get('corrupt') and not data.get('data_samples'):
            raise ValueError(f'AVDataPreprocessor: every sample of this batch failed to load ({len(data["corrupt"])} '
                             'corrupt samples, e.g. ' + str(data['corrupt'][0].describe()) + '); add '
                             "dict(type='CorruptSampleHook') to custom_hooks to skip such batches in training")
        if not isinstance(inputs, dict) or 'img' not in inputs or 'audio' not in inputs:
            raise KeyError(f"AVDataPreprocessor: data['inputs'] must be a dict with 'img' and 'audio', got "
                           f"{list(inputs) if isinstance(inputs, dict) else type(inputs)}")
        img = self.cast_data(_stack_padded(inputs['img'], 'images', pad_last_dim=False))
        audio = self.cast_data(_stack_padded(inputs['audio'], 'audio clips', pad_last_dim=self.pad_audio))
        batch = dict(img=self.preprocess_img(img), audio=self.preprocess_audio(audio))
        extra = {k: self.cast_data(v) for k, v in inputs.items() if k not in batch}
        batch.update(extra)
        return {'inputs': batch, 'data_samples': self.cast_data(data.get('data_samples'))}
