"""Pretrain a config's visual tower with object labels: a stand-in for ImageNet weights on StampsAV.

No ImageNet, DINOv2 or CLIP weights can be downloaded here, so this makes the nearest honest thing: the
visual tower of an AV config, trained to name the object in pictures made from **clip art that is not the
benchmark's**: Debian's ``openclipart-png`` (public domain), labelled by folder (``animals/mammals``,
``recreation/music``, ``tools``, ...), each picture pasted at a random size, place and flip, with clip-art
clutter, on smooth random textures or blurred clip-art scenery, and colour-jittered. Tux Paint's stamps were
partly drawn from the same Open Clip Art Library, so every clip-art picture that copies a Tux Paint stamp
picture (any stamp under ``--dedup-stamps-root``, PNG or SVG, mirrored or not) is left out first; the tool
prints how many and writes the list next to ``--out``. Hashes are cached (``--cache-dir``), so only the first
run decodes the 8,000 pictures. It never sees a benchmark scene, stamp, photo, audio clip or box::

    apt-get download openclipart-png tuxpaint-stamps-default   # in data/tux, then dpkg -x each .deb into data/tux/x
    python tools/misc/pretrain_standin_encoder.py configs/icl/icl_r18_1xb32-16e_stampsav-dev.py \\
        --img-size 64 --out checkpoints/standin_r18_openclipart.safetensors

The tower is built from ``--config`` exactly as the AV run builds it, trained with a linear classifier on
its average-pooled map, and saved in that tower's own (timm) key names, so the AV config loads it through
``visual_backbone.pretrained='<file>'``, the local-file path real weights take. It prints the accuracy on
held-out pictures (another random stream of the same pictures) every ``--val-interval`` steps, and the time
it took.

The benchmark's own source material (its stamp pictures on its background photos: ``--meta``,
``--stamps-root``, ``--templates-root``) is pretraining on the test objects; the tool refuses it unless told
``--allow-benchmark-pictures``, which is kept only to reproduce that leaky upper bound.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from mmengine.config import Config, DictAction  # noqa: E402

from icl_av.datasets.clipart_pictures import (CUTOUT_SIDE, MATCH_MAX_BITS, MIN_CLASS_SIZE,  # noqa: E402
                                              build_clipart_source)
from icl_av.datasets.pasted_objects import PastedObjects, load_benchmark_sources  # noqa: E402
from icl_av.models.backbones.checkpoint_loading import write_state_dict  # noqa: E402
from icl_av.utils import UserInputError, check_config_path, register_all_modules, run_cli  # noqa: E402

DEBIAN_SHARE = 'data/tux/x/usr/share'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Pretrain an AV config\'s visual tower on labelled clip-art '
                                     'pictures pasted on backgrounds (the StampsAV pretrained stand-in)')
    parser.add_argument('config', help='the AV config whose model.visual_backbone is pretrained')
    parser.add_argument('--out', required=True, help='where to write the tower weights (.safetensors or .pth)')
    clipart = parser.add_argument_group('the clip-art source (the default)')
    clipart.add_argument('--clipart-root', default=f'{DEBIAN_SHARE}/openclipart/png',
                         help='openclipart-png\'s png folder (category folders of PNG pictures)')
    clipart.add_argument('--dedup-stamps-root', default=f'{DEBIAN_SHARE}/tuxpaint/stamps',
                         help='the Tux Paint stamps folder: every clip-art picture that copies one of its pictures '
                              'is left out')
    clipart.add_argument('--png-stamps-only', action='store_true',
                         help='compare with the PNG stamps only (no cairosvg needed; the benchmark draws only '
                              'PNG stamps, but copies of the SVG-only stamps then stay in)')
    clipart.add_argument('--label-depth', type=int, choices=[1, 2], default=2,
                         help='folder levels that name a class: 2 (animals/mammals, ~70 classes) or 1 (animals)')
    clipart.add_argument('--min-class-size', type=int, default=MIN_CLASS_SIZE,
                         help='smaller folders are no class (their pictures still serve as clutter)')
    clipart.add_argument('--max-clutter', type=int, default=2, help='clip-art clutter under the object: 0 to this')
    clipart.add_argument('--match-max-bits', type=int, default=MATCH_MAX_BITS,
                         help='a copy differs from a stamp in at most this many of 256 hash bits')
    clipart.add_argument('--cache-dir', help='where picture hashes are kept (default: picture_cache/ beside --out)')
    bench = parser.add_argument_group('the benchmark\'s own pictures (refused unless --allow-benchmark-pictures)')
    bench.add_argument('--allow-benchmark-pictures', action='store_true',
                       help='train on the benchmark\'s stamps and photos: only to reproduce the leaky upper bound')
    bench.add_argument('--meta', help="the benchmark's meta.json (classes, background photos)")
    bench.add_argument('--stamps-root', help='tuxpaint stamps folder (<root>/<stamp>.png)')
    bench.add_argument('--templates-root', help='folder searched for the background photos')
    bench.add_argument('--classes', choices=['all', 'heard'], default='all',
                       help="label set: every class of meta.json, or only the classes heard in training")
    parser.add_argument('--img-size', type=int, help='picture side (default: the config\'s img_size)')
    parser.add_argument('--iters', type=int, default=1500, help='training steps')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--lr', type=float, default=1e-3, help='AdamW peak lr (linear warm-up, cosine decay)')
    parser.add_argument('--weight-decay', type=float, default=0.05)
    parser.add_argument('--clip-grad', type=float, default=1.0, help='gradient norm clip')
    parser.add_argument('--workers', type=int, default=2, help='picture-making (and first-run decoding) processes')
    parser.add_argument('--val-size', type=int, default=512, help='held-out pictures for the accuracy')
    parser.add_argument('--val-interval', type=int, default=250)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- sources

def check_benchmark_request(args) -> bool:
    """Whether the benchmark's own pictures are asked for (and allowed); refuses them without the flag."""
    given = {name: value for name, value in (('--meta', args.meta), ('--stamps-root', args.stamps_root),
                                             ('--templates-root', args.templates_root)) if value}
    if not args.allow_benchmark_pictures:
        if given:
            named = ', '.join(f'{name} {value}' for name, value in given.items())
            raise UserInputError(f'{named}: refusing to pretrain on the benchmark\'s own stamps and photos (they '
                                 f'are its test objects); leave these out to use the clip art (--clipart-root), or '
                                 f'pass --allow-benchmark-pictures only to reproduce the leaky upper bound')
        return False
    missing = [name for name in ('--meta', '--stamps-root', '--templates-root') if name not in given]
    if missing:
        raise UserInputError(f'--allow-benchmark-pictures trains on the benchmark\'s pictures and needs '
                             f'{", ".join(missing)} too')
    return True


def side_file(out: str, suffix: str) -> str:
    """``out`` with its extension replaced by ``suffix`` (``w.safetensors`` -> ``w.removed.tsv``)."""
    return osp.splitext(out)[0] + suffix


def load_clipart(args, log=print):
    """The de-duplicated clip-art source; prints its account, writes the removed list and class sizes by ``--out``."""
    cache_dir = args.cache_dir or osp.join(osp.dirname(osp.abspath(args.out)), 'picture_cache')
    if not osp.isdir(args.dedup_stamps_root):
        raise UserInputError(f'{args.dedup_stamps_root}: not a folder; the Tux Paint stamps are needed to leave their '
                             f'copies out of the clip art (apt-get download tuxpaint-stamps-default, then dpkg -x '
                             f'it), or point --dedup-stamps-root at them')
    source = build_clipart_source(
        args.clipart_root, args.dedup_stamps_root, reference_suffixes=('.png',) if args.png_stamps_only else
        ('.png', '.svg'), label_depth=args.label_depth, min_class_size=args.min_class_size, cutout_side=CUTOUT_SIDE,
        cache_dir=cache_dir, workers=args.workers, max_bits=args.match_max_bits, log=log)
    removed_file, classes_file = side_file(args.out, '.removed.tsv'), side_file(args.out, '.classes.json')
    with open(removed_file, 'w') as f:
        f.write('clipart_picture\tstamp_picture\thamming_bits_of_256\n')
        f.writelines(f'{picture}\t{stamp}\t{bits}\n' for picture, stamp, bits in source.removed)
    sizes = source.class_sizes
    with open(classes_file, 'w') as f:
        json.dump(dict(clipart_root=args.clipart_root, dedup_stamps_root=args.dedup_stamps_root,
                       label_depth=args.label_depth, min_class_size=args.min_class_size,
                       match_max_bits=args.match_max_bits, pictures=source.total, removed=len(source.removed),
                       unreadable=len(source.unreadable), unlabelled=source.unlabelled, classes=sizes), f, indent=1)
    counts = sorted(sizes.values())
    near = ' '.join(f'{bits}:{count}' for bits, count in source.near_misses.items() if count)
    log(f'clip art: {source.total} pictures under {args.clipart_root}; {len(source.unreadable)} unreadable or empty; '
        f'removed {len(source.removed)} copies of the {source.references} Tux Paint stamp pictures '
        f'(<= {args.match_max_bits} of 256 hash bits; list: {removed_file}); kept pictures whose nearest stamp is '
        f'just farther (bits:count): {near or "none"}')
    log(f'{len(sizes)} classes (folders {args.label_depth} level(s) down, >= {args.min_class_size} pictures; '
        f'{counts[0]}-{counts[-1]} pictures, median {counts[len(counts) // 2]}; {classes_file}); '
        f'{source.unlabelled} pictures in no class serve as clutter only')
    log(f'hashing + de-duplication took {source.seconds:.1f} s (cache: {cache_dir})')
    return source


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
    benchmark = check_benchmark_request(args)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    began = time.time()
    if benchmark:
        try:
            with open(args.meta) as f:
                meta = json.load(f)
        except json.JSONDecodeError as error:
            raise UserInputError(f'{args.meta}: not a JSON file ({error})') from None
        names, cutouts, photos = load_benchmark_sources(meta, args.stamps_root, args.templates_root, args.classes)
        print(f'the BENCHMARK\'S OWN pictures (leaky upper bound): {len(names)} classes, '
              f'{sum(map(len, cutouts))} cut-out pictures, {len(photos)} background photos, {size} px')
        extra = {}
    else:
        source = load_clipart(args)
        names, cutouts, photos = source.names, source.cutouts, []
        extra = dict(scenery=source.clutter, clutter=source.clutter, max_clutter=args.max_clutter)
        print(f'{len(names)} classes, {sum(map(len, cutouts))} cut-out pictures, no photo, {size} px')
    prepared = time.time() - began

    torch.manual_seed(args.seed)
    model = TowerClassifier(build_tower(cfg), len(names))
    preprocess = cfg.model.data_preprocessor
    make = dict(cutouts=cutouts, photos=photos, size=size, mean=preprocess.mean, std=preprocess.std, **extra)
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
            elapsed = time.time() - start
            print(f'step {step}/{args.iters}  loss {loss.item():.3f}  lr {schedule.get_last_lr()[0]:.2e}  '
                  f'{elapsed:.0f} s ({step / elapsed:.2f} it/s)', flush=True)
        if step % args.val_interval == 0 or step == args.iters:
            print(f'step {step}: held-out accuracy {accuracy(model, val_loader):.3f} '
                  f'({args.val_size} pictures, chance {1 / len(names):.3f})', flush=True)
    save_tower(model.tower, args.out)
    trained = time.time() - start
    print(f'wrote {args.out} ({len(model.tower.model.state_dict())} tensors); load it with '
          f"model.visual_backbone.pretrained='{args.out}'")
    print(f'built the stand-in in {time.time() - began:.1f} s (pictures {prepared:.1f} s, {args.iters} training '
          f'steps {trained:.1f} s, {args.iters / max(trained, 1e-9):.2f} it/s)')


if __name__ == '__main__':
    run_cli(main)
