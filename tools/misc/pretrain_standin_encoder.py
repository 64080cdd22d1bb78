"""Pretrain a config's visual tower with object labels: a stand-in for ImageNet weights on StampsAV.

No ImageNet, DINOv2 or CLIP weights can be downloaded here, so this makes the nearest thing: the
visual tower of an AV config, trained to name the object in pictures made from the StampsAV
**source material** (each class's cut-out stamp pictures from ``tuxpaint-stamps-default`` pasted
at a random size, place and flip on random crops of the benchmark's background photos or on
plain textured backgrounds). It never sees a benchmark scene, an audio clip or a box. The
tower is built from ``--config`` exactly as the AV run builds it, trained with a linear classifier
on its average-pooled map, and saved in that tower's own (timm) key names, so the AV config
loads it through ``visual_backbone.pretrained='<file>'``, the local-file path real weights take::

    python tools/misc/pretrain_standin_encoder.py configs/icl/icl_r18_1xb32-16e_stampsav-dev.py \\
        --meta data/stamps_av_dev/meta.json --stamps-root data/tux/x/usr/share/tuxpaint/stamps \\
        --templates-root data/tux/x/usr/share/tuxpaint --out checkpoints/standin_r18_stampsav.safetensors

The label set is all of the benchmark's classes (``meta.json``'s ``classes``), the unheard ones
included, as ImageNet would name most of them too; ``--classes heard`` leaves those out. It
prints the accuracy on held-out pictures (another random stream) every ``--val-interval`` steps.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from mmengine.config import Config, DictAction  # noqa: E402

from icl_av.models.backbones.checkpoint_loading import write_state_dict  # noqa: E402
from icl_av.utils import UserInputError, check_config_path, register_all_modules, run_cli  # noqa: E402

MAX_PICTURE_SIDE = 256  # stamps are stored at most this large (they are drawn at <= the frame size)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Pretrain an AV config\'s visual tower on labelled object '
                                     'pictures pasted on backgrounds (the StampsAV pretrained stand-in)')
    parser.add_argument('config', help='the AV config whose model.visual_backbone is pretrained')
    parser.add_argument('--meta', required=True, help="the benchmark's meta.json (classes, background photos)")
    parser.add_argument('--stamps-root', required=True, help='tuxpaint stamps folder (<root>/<stamp>.png)')
    parser.add_argument('--templates-root', required=True, help='folder searched for the background photos')
    parser.add_argument('--out', required=True, help='where to write the tower weights (.safetensors or .pth)')
    parser.add_argument('--classes', choices=['all', 'heard'], default='all',
                        help="label set: every class of meta.json, or only the classes heard in training")
    parser.add_argument('--img-size', type=int, help='picture side (default: the config\'s img_size)')
    parser.add_argument('--iters', type=int, default=1500, help='training steps')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--lr', type=float, default=1e-3, help='AdamW peak lr (linear warm-up, cosine decay)')
    parser.add_argument('--weight-decay', type=float, default=0.05)
    parser.add_argument('--clip-grad', type=float, default=1.0, help='gradient norm clip')
    parser.add_argument('--workers', type=int, default=2, help='picture-making processes')
    parser.add_argument('--val-size', type=int, default=512, help='held-out pictures for the accuracy')
    parser.add_argument('--val-interval', type=int, default=250)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- source pictures

def read_cutout(path: str, alpha_cut: int) -> np.ndarray:
    """A stamp as a tightly cropped premultiplied RGBA float array in [0, 1].

    Alpha below ``alpha_cut`` (0-255) counts as transparent, as the benchmark's scenes cut it.
    """
    rgba = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise UserInputError(f'{path}: not a picture with an alpha channel')
    rgba = cv2.cvtColor(rgba, cv2.COLOR_BGRA2RGBA).astype(np.float32) / 255.0
    alpha = np.where(rgba[..., 3] * 255.0 < alpha_cut, 0.0, rgba[..., 3])
    rows, cols = np.nonzero(alpha)
    if rows.size == 0:
        raise UserInputError(f'{path}: fully transparent')
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    alpha = alpha[top:bottom, left:right]
    picture = np.dstack([rgba[top:bottom, left:right, :3] * alpha[..., None], alpha])
    scale = MAX_PICTURE_SIDE / max(picture.shape[:2])
    if scale < 1:
        size = (max(1, round(picture.shape[1] * scale)), max(1, round(picture.shape[0] * scale)))
        picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    return picture.astype(np.float32)


def find_files(root: str, names) -> dict:
    """``{name: path}`` for every name found anywhere under ``root``."""
    wanted, found = set(names), {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            if name in wanted and name not in found:
                found[name] = osp.join(dirpath, name)
    return found


def load_sources(meta: dict, stamps_root: str, templates_root: str, classes: str):
    """The class names, each class's cut-outs and the background photos (RGB float arrays)."""
    names = sorted(meta['classes']) if classes == 'all' else sorted(meta['heard'])
    cutouts = []
    for name in names:
        pictures = []
        for stamp in meta['classes'][name]:
            path = osp.join(stamps_root, stamp + '.png')
            if not osp.isfile(path):
                raise UserInputError(f'{path}: missing (stamp {stamp!r} of class {name!r}); is --stamps-root the '
                                     f'folder the benchmark was made from?')
            pictures.append(read_cutout(path, int(meta.get('alpha_cut', 32))))
        cutouts.append(pictures)
    found = find_files(templates_root, meta['background_photos'])
    missing = sorted(set(meta['background_photos']) - set(found))
    if missing:
        raise UserInputError(f'{templates_root}: background photos not found: {missing}')
    photos = []
    for name in meta['background_photos']:
        image = cv2.imread(found[name], cv2.IMREAD_COLOR)
        if image is None:
            raise UserInputError(f'{found[name]}: not a decodable image')
        photos.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0)
    return names, cutouts, photos


# --------------------------------------------------------------------------- pictures

def background(rng: np.random.Generator, size: int, photos) -> np.ndarray:
    """A random square crop of a photo (p=0.6) or a smooth random texture, jittered in colour."""
    if rng.random() < 0.6:
        photo = photos[int(rng.integers(len(photos)))]
        side = int(rng.uniform(0.4, 1.0) * min(photo.shape[:2]))
        top = int(rng.integers(0, photo.shape[0] - side + 1))
        left = int(rng.integers(0, photo.shape[1] - side + 1))
        image = cv2.resize(photo[top:top + side, left:left + side], (size, size), interpolation=cv2.INTER_AREA)
    else:
        coarse = rng.uniform(0, 1, (int(rng.integers(2, 9)),) * 2 + (3,)).astype(np.float32)
        image = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
        image += rng.normal(0, rng.uniform(0.0, 0.08), (size, size, 3)).astype(np.float32)
    if rng.random() < 0.5:
        image = image[:, ::-1]
    return np.clip(image, 0, 1)


def paste(image: np.ndarray, cutout: np.ndarray, rng: np.random.Generator) -> None:
    """Draw ``cutout`` into ``image`` (in place): long side 35-100 % of the frame, at most ~35 % cut off."""
    size = image.shape[0]
    long_side = rng.uniform(0.35, 1.0) * size
    scale = long_side / max(cutout.shape[:2])
    width, height = max(2, round(cutout.shape[1] * scale)), max(2, round(cutout.shape[0] * scale))
    picture = cv2.resize(cutout, (width, height), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        picture = picture[:, ::-1]
    left = int(rng.integers(-int(0.35 * width), size - int(0.65 * width) + 1))
    top = int(rng.integers(-int(0.35 * height), size - int(0.65 * height) + 1))
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + width, size), min(top + height, size)
    piece = picture[y0 - top:y1 - top, x0 - left:x1 - left]
    region = image[y0:y1, x0:x1]
    image[y0:y1, x0:x1] = piece[..., :3] + region * (1.0 - piece[..., 3:4])


class PastedObjects(torch.utils.data.Dataset):
    """``length`` labelled pictures, each fully determined by (seed, index)."""

    def __init__(self, cutouts, photos, size: int, length: int, seed: int, mean, std):
        self.cutouts, self.photos, self.size, self.length, self.seed = cutouts, photos, size, length, seed
        self.mean = np.asarray(mean, np.float32) / 255.0
        self.std = np.asarray(std, np.float32) / 255.0

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, index])
        label = int(rng.integers(len(self.cutouts)))
        pictures = self.cutouts[label]
        image = np.ascontiguousarray(background(rng, self.size, self.photos))
        paste(image, pictures[int(rng.integers(len(pictures)))], rng)
        gray = image.mean(2, keepdims=True)
        image = gray + (image - gray) * rng.uniform(0.7, 1.3)  # saturation
        image = (image - 0.5) * rng.uniform(0.8, 1.2) + 0.5 + rng.uniform(-0.1, 0.1)  # contrast, brightness
        image = (np.clip(image, 0, 1) - self.mean) / self.std  # the AV data preprocessor's normalisation (RGB)
        return torch.from_numpy(image.transpose(2, 0, 1).copy()), label


# --------------------------------------------------------------------------- training

class TowerClassifier(nn.Module):
    """The visual tower and a linear classifier on its average-pooled map."""

    def __init__(self, tower: nn.Module, num_classes: int):
        super().__init__()
        self.tower = tower
        self.classifier = nn.Linear(tower.out_channels, num_classes)

    def forward(self, images):
        return self.classifier(self.tower(images).mean(dim=(2, 3)))


def build_tower(cfg: Config) -> nn.Module:
    """The config's visual backbone, from scratch (``pretrained`` forced off)."""
    from icl_av.registry import MODELS
    tower_cfg = cfg.model.visual_backbone.copy()
    tower_cfg['pretrained'] = False
    return MODELS.build(tower_cfg)


@torch.no_grad()
def accuracy(model: nn.Module, loader) -> float:
    model.eval()
    correct = total = 0
    for images, labels in loader:
        correct += (model(images).argmax(1) == labels).sum().item()
        total += labels.numel()
    model.train()
    return correct / max(total, 1)


def save_tower(tower: nn.Module, path: str) -> None:
    """The tower's timm model weights, in the key names its ``pretrained`` path reads."""
    write_state_dict(tower.model.state_dict(), path)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(check_config_path(args.config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    size = args.img_size or cfg.get('img_size')
    if not size:
        raise UserInputError(f'{args.config}: no img_size; pass --img-size')
    with open(args.meta) as f:
        meta = json.load(f)
    names, cutouts, photos = load_sources(meta, args.stamps_root, args.templates_root, args.classes)
    print(f'{len(names)} classes, {sum(map(len, cutouts))} cut-out pictures, {len(photos)} background photos, '
          f'{size} px')

    torch.manual_seed(args.seed)
    model = TowerClassifier(build_tower(cfg), len(names))
    preprocess = cfg.model.data_preprocessor
    make = dict(cutouts=cutouts, photos=photos, size=size, mean=preprocess.mean, std=preprocess.std)
    train_set = PastedObjects(length=args.iters * args.batch_size, seed=args.seed, **make)
    val_set = PastedObjects(length=args.val_size, seed=args.seed + 10_000_019, **make)
    loader_args = dict(num_workers=args.workers, persistent_workers=args.workers > 0)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=False, **loader_args)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=128, **loader_args)

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    warmup = max(1, args.iters // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(step, args.iters)
                                                                                     / args.iters)))
    start = time.time()
    model.train()
    for step, (images, labels) in enumerate(train_loader, 1):
        loss = F.cross_entropy(model(images), labels, label_smoothing=0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad)
        optimizer.step()
        schedule.step()
        if step % 50 == 0 or step == args.iters:
            print(f'step {step}/{args.iters}  loss {loss.item():.3f}  lr {schedule.get_last_lr()[0]:.2e}  '
                  f'{time.time() - start:.0f} s', flush=True)
        if step % args.val_interval == 0 or step == args.iters:
            print(f'step {step}: held-out accuracy {accuracy(model, val_loader):.3f} '
                  f'({args.val_size} pictures, chance {1 / len(names):.3f})', flush=True)
    save_tower(model.tower, args.out)
    print(f'wrote {args.out} ({len(model.tower.model.state_dict())} tensors); load it with '
          f"model.visual_backbone.pretrained='{args.out}'")


if __name__ == '__main__':
    run_cli(main)
