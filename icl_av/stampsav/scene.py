"""One StampsAV scene from ``(seed, split, index)``: frame, clip and the record of every random choice.

A scene is one sounding stamp of the planned class plus 1-2 silent distractor stamps of
other classes of the split's pool, laid out by :mod:`~icl_av.stampsav.composition` over
a photo or procedural background (:mod:`~icl_av.stampsav.backgrounds`), with the sounding
stamp's recording as the audio (:mod:`~icl_av.stampsav.audio`). Each scene has its own
generator, seeded with ``[seed, SCENE_STREAM, split code, index]``, so a scene does not
depend on the others or on how many processes render them. The draws happen in a fixed
order (stamps, layout, background, pixel noise, audio), which keeps the output of a seed
fixed.
"""
from dataclasses import dataclass
from typing import Dict, List, Sequence

import numpy as np

from .audio import make_clip
from .backgrounds import photo_background, procedural_background
from .composition import Layout, LayoutError, composite, lay_out_stamps
from .presets import SCENE_STREAM, StampsAVConfig
from .splits import SPLIT_CODES, ScenePlan
from .stamps import StampSet


@dataclass
class Scene:
    """A generated scene.

    Attributes:
        image (np.ndarray): uint8 ``size×size×3`` RGB frame.
        clip (np.ndarray): float32 mono clip at the benchmark's rate.
        record (dict): Every random choice (classes, stamps, normalised boxes, flips,
            visible fractions, z-order, background, audio), as ``scenes_*.jsonl`` stores it.
        layout (Layout): The laid-out stamps (index 0 is the sounding one).
    """

    image: np.ndarray
    clip: np.ndarray
    record: Dict
    layout: Layout


def scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of scene ``index`` of ``split``."""
    return np.random.default_rng([seed, SCENE_STREAM, SPLIT_CODES[split], index])


def _normalised(box: Sequence[int], size: int) -> List[float]:
    return [round(v / size, 6) for v in box]


def generate_scene(plan: ScenePlan, cfg: StampsAVConfig, stamps: StampSet, photos: Sequence[np.ndarray],
                   photo_names: Sequence[str]) -> Scene:
    """Generate the scene ``plan`` describes (deterministic for ``cfg.seed``).

    Args:
        plan (ScenePlan): Split, index, ID, sounding class and distractor pool.
        cfg (StampsAVConfig): The build's parameters.
        stamps (StampSet): The usable stamps.
        photos (list[np.ndarray]): Background photos (may be empty: procedural only).
        photo_names (list[str]): Their names.

    Returns:
        Scene: Frame, clip, record and layout.
    """
    size = cfg.size
    rng = scene_rng(cfg.seed, plan.split, plan.index)
    items = stamps.stamps
    sounding = int(rng.choice(stamps.classes[plan.sounding_class]))
    num_distractors = int(rng.integers(cfg.min_distractors, cfg.max_distractors + 1))
    others = [g for g in plan.distractor_pool if g != plan.sounding_class]
    distractor_classes = [others[i] for i in rng.permutation(len(others))[:num_distractors]]
    distractors = [int(rng.choice(stamps.classes[g])) for g in distractor_classes]

    try:
        layout = lay_out_stamps(rng, [items[i].img for i in [sounding] + distractors], size, cfg.scale_min,
                                cfg.scale_max, cfg.max_trunc, cfg.max_iou, cfg.min_visible)
    except LayoutError as error:
        raise LayoutError(f'StampsAV scene {plan.scene_id}: {error}') from error

    if photos and rng.random() < cfg.p_photo:
        img, photo_index = photo_background(rng, size, photos)
        background = dict(type='photo', src=photo_names[photo_index])
    else:
        img = procedural_background(rng, size)
        background = dict(type='procedural')
    img = composite(img, layout)
    img = img + rng.normal(0, cfg.pixel_noise, img.shape).astype(np.float32)
    image = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)

    clip, audio = make_clip(rng, items[sounding].wav, cfg.gain_db, cfg.base_rms, cfg.snr_min, cfg.snr_max)

    record = dict(
        id=plan.scene_id, split=plan.split, cls=plan.sounding_class, stamp=items[sounding].name,
        bbox=_normalised(layout.boxes[0], size), flip=layout.flips[0], visible_frac=round(layout.visible[0], 3),
        in_canvas_frac=round(layout.in_canvas[0], 3), z=layout.z_order.index(0),
        distractors=[dict(cls=g, stamp=items[i].name, bbox=_normalised(layout.boxes[k + 1], size),
                          flip=layout.flips[k + 1], in_canvas_frac=round(layout.in_canvas[k + 1], 3),
                          visible_frac=round(layout.visible[k + 1], 3))
                     for k, (g, i) in enumerate(zip(distractor_classes, distractors))],
        z_order=layout.z_order, bg=background, audio=audio)
    return Scene(image=image, clip=clip, record=record, layout=layout)
