"""AudioPrototypeHook: give a checkpoint of any method the audio prototypes its posterior maps need.

``map_mode='posterior'`` compares each frame's response to its own sound with its responses
to the kinds of sound in the training data, the localizer's audio prototypes (held by its
``PosteriorMaps``). ICL's refreshes store them; a checkpoint of a method without refreshes
(the correspondence baseline, EZ-VSL, LVS) has none and would silently fall back to cosine
maps. Before testing (or validating) this hook reads the *training* clips with the test
pipeline and runs the prototypes step of a refresh once
(:func:`~icl_av.engine.pseudo_labels.refresh_audio_prototypes`), so every method is scored
with the same maps. ``tools/test.py --maps posterior`` adds it.
"""
from typing import Dict, Optional

from mmengine.hooks import Hook

from icl_av.registry import HOOKS
from ..pseudo_labels import (build_refresh_dataloader_from_cfg, built_training_dataset, has_audio_prototypes,
                             reads_training_list, refresh_audio_prototypes, runner_loader_configs,
                             runner_refresh_dataloader_cfg, unwrap_model)


@HOOKS.register_module()
class AudioPrototypeHook(Hook):
    """Fit the audio prototypes on the training clips before testing (and validating).

    Args:
        num_prototypes (int): Number of k-means clusters (kinds of sound). Defaults to 32,
            the ICL configs' ``num_clusters``.
        refit (bool): Fit even when the checkpoint already holds prototypes (an ICL
            checkpoint holds those of its last refresh, made by an earlier model).
            Defaults to False.
        seed (int): Seed of the k-means initialisation. Defaults to 0.
        dataloader (dict, optional): Overrides of the loader over the training clips
            (e.g. ``dict(batch_size=64, num_workers=0)``); by default the training set with
            the test pipeline, as the pseudo-label refresh reads it.
        before_val (bool): Also fit before each validation. Defaults to False.
    """

    priority = 'ABOVE_NORMAL'  # before the metric sees any prediction

    def __init__(self, num_prototypes: int = 32, refit: bool = False, seed: int = 0,
                 dataloader: Optional[Dict] = None, before_val: bool = False) -> None:
        if isinstance(num_prototypes, bool) or not isinstance(num_prototypes, int) or num_prototypes < 1:
            raise ValueError(f'AudioPrototypeHook: num_prototypes must be a positive int, got {num_prototypes!r}')
        self.num_prototypes = num_prototypes
        self.refit = bool(refit)
        self.seed = int(seed)
        self.dataloader_cfg = dict(dataloader or {})
        self.fit_before_val = bool(before_val)

    def before_test(self, runner) -> None:
        self.fit(runner)

    def before_val(self, runner) -> None:
        if self.fit_before_val:
            self.fit(runner)

    def fit(self, runner) -> bool:
        """Fit and store the prototypes unless the model has them (and ``refit`` is off).

        Returns:
            bool: Whether it fitted new prototypes.
        """
        localizer = unwrap_model(runner.model)
        if not callable(getattr(localizer, 'set_audio_prototypes', None)):
            raise TypeError(f'AudioPrototypeHook: the model {type(localizer).__name__} cannot store audio '
                            'prototypes (it needs set_audio_prototypes, as AVLocalizer has)')
        if has_audio_prototypes(localizer) and not self.refit:
            runner.logger.info('AudioPrototypeHook: the checkpoint holds audio prototypes '
                               f'({tuple(localizer.audio_prototypes.shape)}); using them')
            return False
        # Validating during training: read the training list already built; testing: build it from its config.
        train_dataset = built_training_dataset(runner) if reads_training_list(self.dataloader_cfg) else None
        if runner_loader_configs(runner)[0] is None and train_dataset is None:
            raise ValueError('AudioPrototypeHook: the config has no train_dataloader; the prototypes are fitted on '
                             'the training clips')
        loader = build_refresh_dataloader_from_cfg(
            runner_refresh_dataloader_cfg(runner, self.dataloader_cfg, train_dataset), seed=runner.seed)
        refresh_audio_prototypes(runner.model, loader, self.num_prototypes, seed=self.seed)
        runner.logger.info(f'AudioPrototypeHook: fitted {self.num_prototypes} audio prototypes on '
                           f'{len(loader.dataset)} training clips')
        return True
