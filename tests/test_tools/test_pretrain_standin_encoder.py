"""tools/misc/pretrain_standin_encoder.py trains a config's visual tower on pasted pictures and saves weights that
the config's local-file path loads exactly.

The source material is made here. The default source: a clip-art folder of tiny drawings in category folders, one
of them an altered copy of a stamp, and a stamps folder to de-duplicate against. The benchmark's own source (refused
without ``--allow-benchmark-pictures``): a stamps folder with three classes of RGBA pictures, a templates folder with
two background photos and a ``meta.json`` in the benchmark's format.
"""
import json
import os

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from clipart_test_pictures import altered_copy, drawing
from clipart_test_pictures import write as write_rgba
from mmengine.config import Config

from icl_av.utils import UserInputError, run_cli
from script_modules import load_script

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCRIPT = os.path.join(REPO_ROOT, 'tools', 'misc', 'pretrain_standin_encoder.py')
R18_CONFIG = os.path.join(REPO_ROOT, 'configs', 'icl', 'icl_r18_1xb32-16e_stampsav-dev.py')
VIT_CONFIG = os.path.join(REPO_ROOT, 'configs', 'icl', 'icl_vit-t8_1xb32-16e_stampsav-dev.py')


def load_tool():
    return load_script(SCRIPT, 'pretrain_standin_encoder')


def write_picture(path, colour, shape='disc'):
    """A 40x60 RGBA picture: an opaque coloured shape on a transparent canvas with a margin."""
    rgba = np.zeros((60, 40, 4), np.uint8)
    if shape == 'disc':
        cv2.circle(rgba, (20, 30), 14, (*colour, 255), -1)
    else:
        rgba[10:50, 8:32] = (*colour, 255)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cv2.imwrite(path, rgba)


@pytest.fixture
def sources(tmp_path):
    stamps, templates = tmp_path / 'stamps', tmp_path / 'templates'
    write_picture(str(stamps / 'animals' / 'cow.png'), (0, 0, 255))
    write_picture(str(stamps / 'animals' / 'calf.png'), (0, 0, 200), 'box')
    write_picture(str(stamps / 'music' / 'drum.png'), (255, 0, 0))
    write_picture(str(stamps / 'tools' / 'saw.png'), (0, 255, 0), 'box')
    os.makedirs(templates / 'photos')
    rng = np.random.default_rng(0)
    for name in ('sky.jpg', 'rocks.jpg'):
        cv2.imwrite(str(templates / 'photos' / name), rng.integers(0, 255, (80, 120, 3), dtype=np.uint8))
    meta = dict(alpha_cut=32, classes={'cow': ['animals/cow', 'animals/calf'], 'drum': ['music/drum'],
                                       'saw': ['tools/saw']},
                heard=['cow', 'drum'], unheard=['saw'], background_photos=['sky.jpg', 'rocks.jpg'])
    (tmp_path / 'meta.json').write_text(json.dumps(meta))
    return ['--meta', str(tmp_path / 'meta.json'), '--stamps-root', str(stamps), '--templates-root', str(templates),
            '--allow-benchmark-pictures']


def run_tool(config, sources, out, *extra):
    load_tool().main([config, *sources, '--out', str(out), '--img-size', '32', '--iters', '3', '--batch-size', '4',
                      '--workers', '0', '--val-size', '8', '--val-interval', '2', *extra])


def test_the_saved_resnet_tower_loads_through_the_configs_local_file_path(sources, tmp_path, capsys):
    from icl_av.models.backbones import TimmVisualBackbone
    out = tmp_path / 'r18.safetensors'
    run_tool(R18_CONFIG, sources, out)
    printed = capsys.readouterr().out
    assert '3 classes, 4 cut-out pictures, 2 background photos, 32 px' in printed
    assert 'held-out accuracy' in printed

    saved = load_file(str(out))
    tower = TimmVisualBackbone('resnet18', out_index=2, pretrained=str(out))
    assert tower.load_report.loaded == sorted(saved)
    for name, value in tower.model.state_dict().items():
        assert torch.equal(value, saved[name]), name
    assert not torch.equal(saved['conv1.weight'], TimmVisualBackbone('resnet18', out_index=2).model.conv1.weight)


def test_the_saved_vit_tower_loads_exactly_and_keeps_its_grid(sources, tmp_path):
    from icl_av.models.backbones import TimmViTVisualBackbone
    out = tmp_path / 'vit.pth'
    run_tool(VIT_CONFIG, sources, out, '--cfg-options', 'model.visual_backbone.depth=1')
    saved = torch.load(str(out))
    tower = TimmViTVisualBackbone('vit_tiny_patch16_224', patch_size=8, depth=1, img_size=96, pretrained=str(out))
    for name, value in tower.model.state_dict().items():
        assert torch.equal(value, saved[name]), name
    assert tower(torch.zeros(1, 3, 96, 96)).shape == (1, 192, 12, 12)


def test_heard_classes_only_leave_the_unheard_out(sources, tmp_path, capsys):
    run_tool(R18_CONFIG, sources, tmp_path / 'w.pth', '--classes', 'heard')
    assert '2 classes, 3 cut-out pictures' in capsys.readouterr().out


def test_pictures_are_reproducible_and_normalised_like_the_data_preprocessor(sources, tmp_path):
    meta = json.loads(open(sources[1]).read())
    from icl_av.datasets.pasted_objects import PastedObjects, load_benchmark_sources
    names, cutouts, photos = load_benchmark_sources(meta, sources[3], sources[5], 'all')
    assert names == ['cow', 'drum', 'saw']
    make = dict(cutouts=cutouts, photos=photos, size=32, length=6, mean=[0, 0, 0], std=[255, 255, 255])
    first, second = PastedObjects(seed=3, **make), PastedObjects(seed=3, **make)
    image, label = first[5]
    assert torch.equal(image, second[5][0]) and label == second[5][1]
    assert image.shape == (3, 32, 32) and 0 <= image.min() and image.max() <= 1
    assert not torch.equal(image, PastedObjects(seed=4, **make)[5][0])


def test_a_missing_stamp_is_named(sources, tmp_path):
    os.remove(os.path.join(sources[3], 'music', 'drum.png'))
    with pytest.raises(UserInputError, match=r"drum\.png: missing \(stamp 'music/drum' of class 'drum'\)"):
        run_tool(R18_CONFIG, sources, tmp_path / 'w.pth')


def test_a_missing_background_photo_is_named(sources, tmp_path):
    os.remove(os.path.join(sources[5], 'photos', 'rocks.jpg'))
    with pytest.raises(UserInputError, match=r"background photos not found: \['rocks\.jpg'\]"):
        run_tool(R18_CONFIG, sources, tmp_path / 'w.pth')


# --------------------------------------------------------------------------- the benchmark's pictures are refused

def test_the_benchmark_pictures_are_refused_with_one_error_line_without_the_flag(sources, tmp_path, capsys):
    out = tmp_path / 'w.pth'
    refused = [a for a in sources if a != '--allow-benchmark-pictures']
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: run_tool(R18_CONFIG, refused, out))
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    errors = [line for line in lines if line.startswith('error:')]
    assert len(errors) == 1
    assert errors[0].startswith(f'error: --meta {sources[1]}, --stamps-root {sources[3]}, --templates-root '
                                f'{sources[5]}: refusing to pretrain on the benchmark\'s own stamps and photos')
    assert '--allow-benchmark-pictures' in errors[0] and not out.exists()

    for flag, value in (('--meta', sources[1]), ('--templates-root', sources[5])):
        with pytest.raises(UserInputError, match=f'{flag} .*: refusing to pretrain on the benchmark'):
            run_tool(R18_CONFIG, [flag, value], out)


def test_with_the_flag_the_benchmark_pictures_are_used_and_said_to_be_leaky(sources, tmp_path, capsys):
    run_cli(lambda: run_tool(R18_CONFIG, sources, tmp_path / 'w.pth'))
    captured = capsys.readouterr()
    assert 'error:' not in captured.err
    assert "the BENCHMARK'S OWN pictures (leaky upper bound): 3 classes" in captured.out
    with pytest.raises(UserInputError, match=r'--allow-benchmark-pictures .* needs --stamps-root, --templates-root'):
        run_tool(R18_CONFIG, ['--allow-benchmark-pictures', '--meta', sources[1]], tmp_path / 'w.pth')


# --------------------------------------------------------------------------- the clip-art source (the default)

@pytest.fixture
def clipart(tmp_path):
    """A clip-art folder (three classes of tiny drawings, one an altered copy of a stamp) and a stamps folder."""
    root, stamps = tmp_path / 'clipart', tmp_path / 'tuxpaint_stamps'
    write_rgba(stamps / 'animals' / 'cow.png', drawing(100))
    write_rgba(stamps / 'music' / 'drum.png', drawing(101))
    for i in range(3):
        write_rgba(root / 'animals' / 'mammals' / f'm{i}.png', drawing(i))
        write_rgba(root / 'recreation' / 'music' / f'r{i}.png', drawing(10 + i))
        write_rgba(root / 'tools' / f't{i}.png', drawing(20 + i))
    write_rgba(root / 'animals' / 'mammals' / 'cow_copy.png', altered_copy(drawing(100)))
    return ['--clipart-root', str(root), '--dedup-stamps-root', str(stamps), '--min-class-size', '3',
            '--cache-dir', str(tmp_path / 'cache')]


def test_the_clipart_source_removes_stamp_copies_and_writes_the_list_beside_the_weights(clipart, tmp_path, capsys):
    out = tmp_path / 'r18.safetensors'
    run_tool(R18_CONFIG, clipart, out)
    printed = capsys.readouterr().out
    assert 'clip art: 10 pictures under' in printed
    assert 'removed 1 copies of the 2 Tux Paint stamp pictures (<= 72 of 256 hash bits' in printed
    assert '3 classes (folders 2 level(s) down, >= 3 pictures; 3-3 pictures' in printed
    assert 'hashing + de-duplication took' in printed and 'built the stand-in in' in printed
    assert "BENCHMARK" not in printed
    rows = (tmp_path / 'r18.removed.tsv').read_text().splitlines()
    assert rows[0] == 'clipart_picture\tstamp_picture\thamming_bits_of_256'
    assert [row.split('\t')[:2] for row in rows[1:]] == [['animals/mammals/cow_copy.png', 'animals/cow.png']]
    classes = json.loads((tmp_path / 'r18.classes.json').read_text())
    assert classes['classes'] == {'animals/mammals': 3, 'recreation/music': 3, 'tools': 3}
    assert classes['removed'] == 1 and classes['pictures'] == 10


def test_clipart_training_steps_save_weights_the_configs_pretrained_path_loads(clipart, tmp_path):
    from icl_av.registry import MODELS
    from icl_av.utils import register_all_modules
    out = tmp_path / 'r18.safetensors'
    run_tool(R18_CONFIG, clipart, out, '--label-depth', '1')
    saved = load_file(str(out))
    register_all_modules()
    cfg = Config.fromfile(R18_CONFIG)
    cfg.model.visual_backbone.pretrained = str(out)
    tower = MODELS.build(cfg.model.visual_backbone)
    assert tower.load_report.loaded == sorted(saved)
    for name, value in tower.model.state_dict().items():
        assert torch.equal(value, saved[name]), name
    scratch = cfg.model.visual_backbone.copy()
    scratch['pretrained'] = False
    assert not torch.equal(saved['conv1.weight'], MODELS.build(scratch).model.conv1.weight)


def test_clipart_pictures_are_reproducible_per_seed_and_index_and_normalised(clipart, tmp_path):
    from icl_av.datasets.clipart_pictures import build_clipart_source
    from icl_av.datasets.pasted_objects import PastedObjects
    source = build_clipart_source(clipart[1], clipart[3], min_class_size=3)
    assert source.names == ['animals/mammals', 'recreation/music', 'tools']
    make = dict(cutouts=source.cutouts, photos=[], size=32, length=40, mean=[0, 0, 0], std=[255, 255, 255],
                scenery=source.clutter, clutter=source.clutter, max_clutter=2)
    first, second = PastedObjects(seed=3, **make), PastedObjects(seed=3, **make)
    labels = set()
    for index in range(40):
        image, label = first[index]
        again, label_again = second[index]
        assert torch.equal(image, again) and label == label_again
        assert image.shape == (3, 32, 32) and image.dtype == torch.float32
        assert 0 <= image.min() and image.max() <= 1
        labels.add(label)
    assert labels == {0, 1, 2}
    assert not torch.equal(first[5][0], PastedObjects(seed=4, **make)[5][0])
    assert not torch.equal(first[5][0], first[6][0])


def test_a_missing_stamps_folder_for_deduplication_is_named(clipart, tmp_path):
    args = list(clipart)
    args[3] = str(tmp_path / 'no_stamps')
    with pytest.raises(UserInputError, match=r'no_stamps: not a folder; the Tux Paint stamps are needed'):
        run_tool(R18_CONFIG, args, tmp_path / 'w.pth')
