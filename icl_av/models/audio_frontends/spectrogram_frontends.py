"""Audio front ends: waveform batch -> log spectrogram image for the audio encoder.

They are plain ``nn.Module`` s so the same code runs per sample in a transform (CPU,
in loader workers) or on the whole batch in the data preprocessor (on the device).
"""
import torch
import torch.nn as nn
import torchaudio

from icl_av.registry import MODELS


@MODELS.register_module()
class LogMelFrontend(nn.Module):
    """Log-mel spectrogram, the default front end.

    Args:
        sample_rate (int): Waveform rate in Hz.
        n_fft (int): FFT size. win_length (int): window; hop_length (int): hop.
        n_mels (int): Mel bins. f_min/f_max (float): mel range (``f_max=None`` = Nyquist).
        eps (float): floor inside the log.

    Input ``(..., N)`` waveform; output ``(..., n_mels, frames)``.
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, win_length: int = 400,
                 hop_length: int = 160, n_mels: int = 64, f_min: float = 0.0, f_max=None,
                 eps: float = 1e-6):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length,
            n_mels=n_mels, f_min=f_min, f_max=f_max, power=2.0, center=True)
        self.eps = eps

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return torch.log(self.mel(wave.float()) + self.eps)


@MODELS.register_module()
class LinearSTFTFrontend(nn.Module):
    """The public anchors' linear-STFT front end: ``log(|STFT| + 1e-7) / 12``.

    Defaults reproduce their setting: 512-sample window, 274-sample overlap
    (hop 238), 512-point FFT -> 257 frequency bins.

    Input ``(..., N)`` waveform; output ``(..., 257, frames)``.
    """

    def __init__(self, n_fft: int = 512, win_length: int = 512, overlap: int = 274,
                 eps: float = 1e-7, scale: float = 12.0):
        super().__init__()
        self.n_fft, self.win_length, self.hop_length = n_fft, win_length, win_length - overlap
        self.eps, self.scale = eps, scale
        self.register_buffer('window', torch.hann_window(win_length), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        shape = wave.shape
        flat = wave.float().reshape(-1, shape[-1])
        spec = torch.stft(flat, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
                          window=self.window.to(flat.device), center=True, return_complex=True)
        out = torch.log(spec.abs() + self.eps) / self.scale
        return out.reshape(*shape[:-1], *out.shape[-2:])
