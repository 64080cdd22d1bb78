"""AVLocalizer: visual backbone + audio backbone -> head -> similarity maps -> loss or prediction.

The localizer also owns the :class:`~icl_av.models.utils.PseudoLabelBank`; a pseudo-label
refresh (``icl_av.engine.pseudo_labels.refresh_pseudo_labels``) writes into it through
:meth:`AVLocalizer.update_pseudo_labels` and :meth:`AVLocalizer.loss` reads it by the data
samples' ``sample_idx``. The audio prototypes its ``'posterior'`` maps compare each sound
with live in its :class:`PosteriorMaps` (``set_audio_prototypes``).
"""
from contextlib import contextmanager
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel

from icl_av.registry import MODELS, build_in_scope
from icl_av.structures import AVDataSample
from icl_av.utils.dist_env import all_gather_rows
from icl_av.utils.machine import choose_amp_dtype
from ..backbones.backbone_adapter import adapt_audio_backbone, adapt_visual_backbone
from ..utils.pseudo_label_bank import PseudoLabelBank
from .map_ops import align_to_views
from .posterior_maps import PosteriorMaps

ForwardResults = Union[Dict[str, torch.Tensor], List[AVDataSample]]


def _build(cfg: Union[dict, nn.Module], what: str, **defaults) -> nn.Module:
    """Build a MODELS component from a config (filling ``defaults``) or pass a module through.

    Built with :func:`~icl_av.registry.build_in_scope`: unprefixed types are icl_av's whatever
    default scope the caller set.
    """
    if isinstance(cfg, nn.Module):
        return cfg
    if not isinstance(cfg, dict):
        raise TypeError(f'AVLocalizer: {what} must be a config dict or an nn.Module, got {type(cfg)}')
    cfg = dict(cfg)
    for key, value in defaults.items():
        if cfg.get(key) is None:
            cfg[key] = value
    return build_in_scope(MODELS, cfg)


@MODELS.register_module()
class AVLocalizer(BaseModel):
    """Unsupervised sound-source localizer (the ICL model and its peers' skeleton).

    Args:
        visual_backbone (dict): Visual tower config, returns ``B×C×h×w``
            (e.g. :class:`TimmVisualBackbone`). Any other backbone (a tuple of stage
            maps, no ``out_channels``, e.g. ``mmpretrain.ResNet``) is wrapped by
            :func:`~icl_av.models.backbones.adapt_visual_backbone`.
        audio_backbone (dict): Audio tower config, returns ``B×Ca``
            (e.g. :class:`TimmAudioEncoder`); others are wrapped (and pooled) by
            :func:`~icl_av.models.backbones.adapt_audio_backbone`.
        head (dict): Projection head config (:class:`AVSimilarityHead`); its
            ``visual_channels``/``audio_channels`` default to the backbones'
            ``out_channels``.
        loss (dict): Loss config, called as ``loss(sim, pseudo_labels=...)``
            (plus ``visual_feats``/``audio_feats``/``backbone_map`` keywords when
            the loss sets ``needs_visual_feats = True``); returns a dict of terms.
            A loss with ``gather_across_ranks = True`` (ICLLoss and AVCorrespondenceLoss by
            default) contrasts the samples of all ranks (see :meth:`loss`).
        data_preprocessor (dict, optional): Defaults to
            ``dict(type='AVDataPreprocessor')``.
        pseudo_label_bank (dict, optional): Config of the bank
            (``dict(type='PseudoLabelBank', num_samples=...)``).
        init_cfg (dict, optional): MMEngine initialisation config.
        amp_dtype (str, optional): Run the two towers under ``torch.autocast``
            with this dtype (``'bfloat16'`` or ``'float16'``) on whatever device
            the inputs are on. The towers' outputs are cast back to fp32 so the
            head, the similarity maps, the losses and the predictions stay fp32
            (bf16 needs no loss scaling). Unlike MMEngine's ``AmpOptimWrapper``
            (CUDA only) it also covers inference and the pseudo-label refresh.
            ``'auto'`` picks by where the model runs (see
            :func:`icl_av.utils.machine.choose_amp_dtype`): bf16 on CUDA devices
            with bf16 and on CPUs with AMX, where it is native and faster; fp32
            elsewhere (on CPUs with only AVX512-BF16 or AVX2, bf16 is slower than
            fp32). The choice is logged once per device type. ``None`` (default)
            runs everything in fp32.
        map_mode (str): How a frame's map for a sound is computed. ``'cosine'``
            (default): the cosine similarity of each location with the sound.
            ``'posterior'``: at each location, the softmax (temperature
            ``posterior_tau``) of its similarity to this sound against its similarities
            to the kinds of sound in the training data (the audio prototypes: the audio
            cluster centroids the last pseudo-label refresh stored with
            :meth:`set_audio_prototypes`), i.e. how much more this location answers
            *this* sound than any other kind. A silent object answers its own kind of
            sound more than this one and drops out. Falls back to ``'cosine'`` until
            prototypes are stored.
        posterior_tau (float): Temperature of the ``'posterior'`` maps. Defaults to 0.03.
        unfamiliar_fallback (bool): With ``'posterior'`` maps, a sound less familiar than the
            prototypes' threshold (its cosine with the nearest prototype below what 95 % of the
            training clips reach) gets the location prior (the mean of the training clips'
            maps) instead of a posterior that would follow the objects of its nearest known
            kind (see :meth:`PosteriorMaps.fall_back_for_unfamiliar_sounds`). Test-time
            maps only; the refresh labels with the posterior. Defaults to False.
        channels_last (bool): Store the towers' weights in
            ``torch.channels_last`` and feed them channels-last inputs (the image
            and the spectrogram), which oneDNN (CPU) and cuDNN run faster.
    """

    MAP_MODES = ('cosine', 'posterior')
    AMP_DTYPES = {'bfloat16': torch.bfloat16, 'bf16': torch.bfloat16, 'float16': torch.float16, 'fp16': torch.float16}

    def __init__(self,
                 visual_backbone: dict,
                 audio_backbone: dict,
                 head: dict,
                 loss: dict,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 pseudo_label_bank: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 amp_dtype: Optional[str] = None,
                 channels_last: bool = False,
                 map_mode: str = 'cosine',
                 posterior_tau: float = 0.03,
                 unfamiliar_fallback: bool = False):
        # Built here in icl_av's scope, so it works under any default scope (or none).
        preprocessor = _build(data_preprocessor or dict(type='AVDataPreprocessor'), 'data_preprocessor')
        super().__init__(data_preprocessor=preprocessor, init_cfg=init_cfg)
        # Backbones outside the tower contract (stage tuples, no out_channels) are wrapped (backbone_adapter).
        self.visual_backbone = adapt_visual_backbone(_build(visual_backbone, 'visual_backbone'))
        self.audio_backbone = adapt_audio_backbone(_build(audio_backbone, 'audio_backbone'))
        self.head = _build(head, 'head',
                           visual_channels=getattr(self.visual_backbone, 'out_channels', None),
                           audio_channels=getattr(self.audio_backbone, 'out_channels', None))
        self.criterion = _build(loss, 'loss')
        self.pseudo_label_bank = _build(pseudo_label_bank or dict(type='PseudoLabelBank'), 'pseudo_label_bank')
        if not isinstance(self.pseudo_label_bank, PseudoLabelBank):
            raise TypeError(f'AVLocalizer: pseudo_label_bank must be a PseudoLabelBank, got '
                            f'{type(self.pseudo_label_bank).__name__}')
        if amp_dtype is not None and amp_dtype != 'auto' and amp_dtype not in self.AMP_DTYPES:
            raise ValueError(f"AVLocalizer: amp_dtype must be None, 'auto' or one of {sorted(self.AMP_DTYPES)}, "
                             f'got {amp_dtype!r}')
        self.amp_dtype = amp_dtype
        self._auto_amp: Dict[str, Optional[str]] = {}  # device type -> the dtype 'auto' chose there
        self.channels_last = channels_last
        if map_mode not in self.MAP_MODES:
            raise ValueError(f'AVLocalizer: map_mode must be one of {self.MAP_MODES}, got {map_mode!r}')
        if posterior_tau <= 0:
            raise ValueError(f'AVLocalizer: posterior_tau must be > 0, got {posterior_tau}')
        self.map_mode = map_mode
        self.posterior_maps = PosteriorMaps(tau=posterior_tau)
        self._labelling = False
        self.unfamiliar_fallback = bool(unfamiliar_fallback)
        if channels_last:
            self.visual_backbone.to(memory_format=torch.channels_last)
            self.audio_backbone.to(memory_format=torch.channels_last)

    # ------------------------------------------------------------------ features
    def extract_feat(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Run both towers and the head.

        Args:
            inputs (dict): ``img`` ``B×3×H×W`` and ``audio`` ``B×1×F×T`` from the
                data preprocessor.

        Returns:
            dict: ``backbone_map`` (``B×C×h×w`` raw visual features), ``visual``
            (``B×D×h×w``) and ``audio`` (``B×D``), both L2-normalised.
        """
        img, spec = inputs['img'], inputs['audio']
        if self.channels_last:
            img = img.contiguous(memory_format=torch.channels_last)
            spec = spec.contiguous(memory_format=torch.channels_last)
        amp_dtype = self.autocast_dtype(img.device.type)
        if amp_dtype is None:
            backbone_map, audio_feat = self.visual_backbone(img), self.audio_backbone(spec)
        else:
            with torch.autocast(device_type=img.device.type, dtype=self.AMP_DTYPES[amp_dtype]):
                backbone_map, audio_feat = self.visual_backbone(img), self.audio_backbone(spec)
            backbone_map, audio_feat = backbone_map.float(), audio_feat.float()
        visual, audio = self.head(backbone_map, audio_feat)
        return dict(backbone_map=backbone_map, visual=visual, audio=audio)

    def autocast_dtype(self, device_type: str) -> Optional[str]:
        """The autocast dtype the towers run in on ``device_type`` (None: fp32).

        Resolves ``amp_dtype='auto'`` once per device type and logs the choice.
        """
        if self.amp_dtype != 'auto':
            return self.amp_dtype
        if device_type not in self._auto_amp:
            dtype, reason = choose_amp_dtype('auto', device_type)
            self._auto_amp[device_type] = dtype
            print_log(f'AVLocalizer: precision {reason}; set model.amp_dtype to override', logger='current')
        return self._auto_amp[device_type]

    def forward(self, inputs: Dict[str, torch.Tensor], data_samples: Optional[List[AVDataSample]] = None,
                mode: str = 'tensor') -> ForwardResults:
        """``'loss'`` -> dict of losses, ``'predict'`` -> data samples, ``'tensor'`` -> raw tensors."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise ValueError(f"AVLocalizer.forward: mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    # --------------------------------------------------------------------- loss
    def loss(self, inputs: Dict[str, torch.Tensor], data_samples: List[AVDataSample]) -> Dict[str, torch.Tensor]:
        """All-pairs similarity maps -> the configured loss (with pseudo-labels once the bank is ready).

        A loss with ``gather_across_ranks = True`` contrasts every rank's samples: its maps pair
        this rank's frames with the audio embeddings of all ranks (gathered with gradients, in
        rank order), ``B_r×B×h×w``; in one process that is the usual ``B×B×h×w``.
        """
        feats = self.extract_feat(inputs)
        audio = feats['audio']
        if getattr(self.criterion, 'gather_across_ranks', False):
            audio = all_gather_rows(audio)  # unchanged without a process group of several ranks
        sim = self.head.similarity(feats['visual'], audio)
        pseudo_labels = self.read_pseudo_labels(data_samples, sim.shape[-2:])
        extra = {}
        if getattr(self.criterion, 'needs_visual_feats', False):
            extra = dict(visual_feats=feats['visual'], audio_feats=feats['audio'],
                         backbone_map=feats['backbone_map'])
        losses = self.criterion(sim, pseudo_labels=pseudo_labels, **extra)
        if isinstance(losses, torch.Tensor):
            losses = {'loss': losses}
        return losses

    def read_pseudo_labels(self, data_samples: Optional[List[AVDataSample]], map_size) -> Optional[dict]:
        """Gather the batch's pseudo-labels from the bank, aligned with the current frames.

        The bank's maps were computed on whole, un-augmented frames. Each map is cut
        to the sample's ``crop_window`` metainfo (set by ``RandomResizedCrop``: the
        part of the frame the model sees) and resampled to ``map_size`` (bilinear
        ROI-align), then mirrored when the metainfo says ``flip=True``.

        Returns:
            dict | None: ``maps`` ``B×h×w``, ``clusters`` ``B``, ``valid`` ``B``; or
            ``None`` before the first pseudo-label round.
        """
        if not self.pseudo_label_bank.ready:
            return None
        if not data_samples or any(ds.metainfo.get('sample_idx') is None for ds in data_samples):
            raise ValueError('AVLocalizer: the pseudo-label bank is filled but the batch\'s data samples lack '
                             '`sample_idx` metainfo (needed to look up their pseudo-labels)')
        idx = torch.tensor([int(ds.metainfo['sample_idx']) for ds in data_samples], dtype=torch.long)
        labels = self.pseudo_label_bank.gather(idx)
        labels['maps'] = align_to_views(labels['maps'], [ds.metainfo.get('crop_window') for ds in data_samples],
                                        [ds.metainfo.get('flip', False) for ds in data_samples], map_size)
        return labels

    # ------------------------------------------------------------------ predict
    def localization_maps(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Each frame's map with its own audio, ``B×h×w``: the cosine map, or its posterior against the
        audio prototypes (``map_mode='posterior'``, once prototypes are stored). Subclasses may add priors."""
        maps = self.head.paired_similarity(feats['visual'], feats['audio'])
        if self.map_mode == 'posterior':
            maps = self.posterior_maps(maps, feats['visual'], feats['audio'],
                                       fall_back=self.unfamiliar_fallback and not self._labelling)
        return maps

    @contextmanager
    def labelling(self):
        """Within this context the maps are those a pseudo-label refresh stores: the posterior of
        every sound, without the test-time fall-back for unfamiliar sounds."""
        previous, self._labelling = self._labelling, True
        try:
            yield self
        finally:
            self._labelling = previous

    @property
    def maps_use_prototypes(self) -> bool:
        """Whether :meth:`localization_maps` depend on the audio prototypes."""
        return self.map_mode == 'posterior'

    @property
    def audio_prototypes(self) -> torch.Tensor:
        """The stored ``K×D`` audio prototypes (empty before any are set)."""
        return self.posterior_maps.prototypes

    def set_audio_prototypes(self, prototypes: torch.Tensor, familiarity_threshold: Optional[float] = None,
                             location_prior: Optional[torch.Tensor] = None) -> None:
        """Store the ``K×D`` audio cluster centroids of a refresh, with the familiarity threshold and
        location prior of the clips they came from (see ``unfamiliar_fallback``), in :attr:`posterior_maps`."""
        self.posterior_maps.set_prototypes(prototypes, familiarity_threshold, location_prior)

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[AVDataSample]] = None) -> List[AVDataSample]:
        """Write each sample's prediction and what the pseudo-label refresh reads.

        Fields: ``pred_map`` (h×w, not upsampled), ``confidence`` (its max) and
        ``audio_embedding`` (D).
        """
        feats = self.extract_feat(inputs)
        maps = self.localization_maps(feats).detach()
        audio = feats['audio'].detach()
        if data_samples is None:
            data_samples = [AVDataSample() for _ in range(maps.shape[0])]
        for sample, pred_map, embedding in zip(data_samples, maps, audio):
            sample.pred_map = pred_map
            sample.confidence = pred_map.amax()
            sample.audio_embedding = embedding
        return data_samples

    def _forward(self, inputs: Dict[str, torch.Tensor],
                 data_samples: Optional[List[AVDataSample]] = None) -> Dict[str, torch.Tensor]:
        """``{'sim': B×B×h×w, 'visual': B×D×h×w, 'audio': B×D}``."""
        feats = self.extract_feat(inputs)
        return dict(sim=self.head.similarity(feats['visual'], feats['audio']),
                    visual=feats['visual'], audio=feats['audio'])

    # ------------------------------------------------------------ pseudo-labels
    @torch.no_grad()
    def update_pseudo_labels(self, sample_idx: torch.Tensor, maps: torch.Tensor, clusters: torch.Tensor,
                             valid: Optional[torch.Tensor] = None,
                             sample_list: Optional[str] = None) -> Optional[float]:
        """Store a round of pseudo-labels (maps ``N×h×w`` in [0, 1], clusters ``N``) for ``sample_idx``.

        ``valid`` (``N`` bool, optional) marks the samples whose labels may be trained on;
        the others fall back to the loss's correspondence objective. ``sample_list`` (64 hex
        digits, optional) names the sample list ``sample_idx`` indexes; the bank records it
        with the round (``None``: unknown).

        Returns:
            float | None: How much the maps changed since the previous round
            (see :meth:`PseudoLabelBank.update`).
        """
        change = self.pseudo_label_bank.update(sample_idx, maps, clusters, valid=valid)
        self.pseudo_label_bank.record_sample_list(sample_list)
        return change
