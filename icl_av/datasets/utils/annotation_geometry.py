"""Move the ground truth with the image: boxes, consensus maps and RLE masks.

Every geometric transform is a composition of three elementary operations (resize,
crop, horizontal flip). Keeping them here means each transform changes the image and
then calls *one* function that moves ``gt_bboxes``, ``gt_map`` and ``gt_masks`` the
same way, so the three annotation kinds can never drift apart.

Keys handled (all optional): ``gt_bboxes`` (``N×4`` float32, x1y1x2y2 pixels),
``gt_map`` (``H×W`` float32), ``gt_masks`` (list of COCO RLE dicts ``{'size': [H, W],
'counts': str}``).
"""
from typing import Dict, List, Tuple

import cv2
import numpy as np

from icl_av.structures.masks import decode_rle, encode_rle


def _map_masks(masks: List[Dict], fn) -> List[Dict]:
    return [encode_rle(fn(decode_rle(rle))) for rle in masks]


def resize_annotations(results: Dict, new_w: int, new_h: int) -> None:
    """Rescale the annotations in ``results`` from ``results['img_shape']`` to ``(new_h, new_w)``.

    Boxes are scaled; maps and masks use nearest neighbour so the consensus levels
    (0, 0.5, 1) and binary masks stay exact.

    Args:
        results (dict): The pipeline dict; its ``img_shape`` is the geometry before the resize.
        new_w (int): New width in pixels.
        new_h (int): New height in pixels.
    """
    old_h, old_w = results['img_shape'][:2]
    w_scale, h_scale = new_w / old_w, new_h / old_h
    if results.get('gt_bboxes') is not None:
        boxes = np.asarray(results['gt_bboxes'], dtype=np.float32).reshape(-1, 4).copy()
        boxes[:, 0::2] *= w_scale
        boxes[:, 1::2] *= h_scale
        results['gt_bboxes'] = clip_boxes(boxes, new_w, new_h)
    if results.get('gt_map') is not None:
        results['gt_map'] = cv2.resize(np.asarray(results['gt_map'], dtype=np.float32), (new_w, new_h),
                                       interpolation=cv2.INTER_NEAREST)
    if results.get('gt_masks') is not None:
        results['gt_masks'] = _map_masks(
            results['gt_masks'], lambda m: cv2.resize(m, (new_w, new_h), interpolation=cv2.INTER_NEAREST))


def crop_annotations(results: Dict, x1: int, y1: int, x2: int, y2: int) -> None:
    """Crop the annotations to the pixel window ``[x1, x2) × [y1, y2)``.

    Boxes are shifted and clipped; boxes left with zero area (entirely outside the
    window) are dropped, since they mark no pixel of the crop.

    Args:
        results (dict): The pipeline dict.
        x1, y1, x2, y2 (int): The crop window in the current geometry.
    """
    width, height = x2 - x1, y2 - y1
    if results.get('gt_bboxes') is not None:
        boxes = np.asarray(results['gt_bboxes'], dtype=np.float32).reshape(-1, 4).copy()
        boxes[:, 0::2] -= x1
        boxes[:, 1::2] -= y1
        boxes = clip_boxes(boxes, width, height)
        keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        results['gt_bboxes'] = boxes[keep]
    if results.get('gt_map') is not None:
        results['gt_map'] = np.ascontiguousarray(results['gt_map'][y1:y2, x1:x2])
    if results.get('gt_masks') is not None:
        results['gt_masks'] = _map_masks(results['gt_masks'], lambda m: m[y1:y2, x1:x2])


def hflip_annotations(results: Dict) -> None:
    """Mirror the annotations horizontally in the current geometry (``results['img_shape']``)."""
    width = results['img_shape'][1]
    if results.get('gt_bboxes') is not None:
        boxes = np.asarray(results['gt_bboxes'], dtype=np.float32).reshape(-1, 4).copy()
        boxes[:, [0, 2]] = width - boxes[:, [2, 0]]
        results['gt_bboxes'] = boxes
    if results.get('gt_map') is not None:
        results['gt_map'] = np.ascontiguousarray(results['gt_map'][:, ::-1])
    if results.get('gt_masks') is not None:
        results['gt_masks'] = _map_masks(results['gt_masks'], lambda m: m[:, ::-1])


def vflip_annotations(results: Dict) -> None:
    """Mirror the annotations vertically in the current geometry (``results['img_shape']``)."""
    height = results['img_shape'][0]
    if results.get('gt_bboxes') is not None:
        boxes = np.asarray(results['gt_bboxes'], dtype=np.float32).reshape(-1, 4).copy()
        boxes[:, [1, 3]] = height - boxes[:, [3, 1]]
        results['gt_bboxes'] = boxes
    if results.get('gt_map') is not None:
        results['gt_map'] = np.ascontiguousarray(results['gt_map'][::-1, :])
    if results.get('gt_masks') is not None:
        results['gt_masks'] = _map_masks(results['gt_masks'], lambda m: m[::-1, :])


def clip_boxes(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """Clip ``N×4`` x1y1x2y2 boxes to ``[0, width] × [0, height]`` (returns float32)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).copy()
    boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, width)
    boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, height)
    return boxes


def image_hw(img: np.ndarray) -> Tuple[int, int]:
    """Return ``(H, W)`` of an image array."""
    return int(img.shape[0]), int(img.shape[1])


def boxes_to_mask(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Rasterise ``N×4`` pixel boxes into an ``H×W`` uint8 mask (1 inside any box)."""
    mask = np.zeros((height, width), dtype=np.uint8)
    for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float32).reshape(-1, 4):
        c1, r1 = int(round(max(x1, 0))), int(round(max(y1, 0)))
        c2, r2 = int(round(min(x2, width))), int(round(min(y2, height)))
        if c2 > c1 and r2 > r1:
            mask[r1:r2, c1:c2] = 1
    return mask


def consensus_map(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Flickr-SoundNet consensus map: sum of the box masks, divided by 2, clipped at 1.

    Each annotated box adds its own mask (as the public Flickr-SoundNet evaluation code
    does), so a pixel inside one box weighs 0.5 and inside two or more boxes 1.0.

    Args:
        boxes (np.ndarray): ``N×4`` pixel boxes (all annotators together).
        height, width (int): Map size.

    Returns:
        np.ndarray: ``H×W`` float32 map with values in {0, 0.5, 1}.
    """
    total = np.zeros((height, width), dtype=np.float32)
    for box in np.asarray(boxes, dtype=np.float32).reshape(-1, 4):
        total += boxes_to_mask(box[None], height, width)
    return np.clip(total / 2.0, 0.0, 1.0)


def annotations_to_image(results: Dict, height: int, width: int) -> None:
    """Bring the dataset's annotations into the pixel frame of the freshly decoded image.

    The dataset cannot know the image size before decoding, so it stores boxes in their
    annotation frame: ``results['bbox_frame_size'] = (W, H)`` of that frame ((1, 1) for
    normalised VGG-SS boxes, (256, 256) for Flickr-SoundNet XML; absent = already image
    pixels). This converts them to pixels of the ``height×width`` image and clips them;
    builds the Flickr consensus ``gt_map`` from the boxes when
    ``results['gt_map_from_boxes']`` is true; and
    resizes RLE masks annotated at another size. Sets ``ori_shape`` and ``img_shape``.

    Args:
        results (dict): The pipeline dict (modified in place).
        height, width (int): Size of the decoded image.
    """
    frame = results.pop('bbox_frame_size', None)
    if results.get('gt_bboxes') is not None:
        boxes = np.asarray(results['gt_bboxes'], dtype=np.float32).reshape(-1, 4).copy()
        if frame is not None:
            boxes[:, 0::2] *= width / float(frame[0])
            boxes[:, 1::2] *= height / float(frame[1])
        results['gt_bboxes'] = clip_boxes(boxes, width, height)
        if results.pop('gt_map_from_boxes', False) and results.get('gt_map') is None:
            results['gt_map'] = consensus_map(results['gt_bboxes'], height, width)
    if results.get('gt_masks'):
        resized = []
        for rle in results['gt_masks']:
            if [int(s) for s in rle['size']] != [height, width]:
                mask = cv2.resize(decode_rle(rle), (width, height), interpolation=cv2.INTER_NEAREST)
                rle = encode_rle(mask)
            resized.append(rle)
        results['gt_masks'] = resized
    results['ori_shape'] = (height, width)
    results['img_shape'] = (height, width)
