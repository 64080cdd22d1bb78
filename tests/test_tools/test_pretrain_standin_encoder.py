"""tools/misc/pretrain_standin_encoder.py trains a config's visual tower on pasted pictures and saves weights that
the config's local-file path loads exactly.

The source material is made here: a stamps folder with three classes of RGBA pictures, a templates folder with two
background photos and a ``meta.json`` in the benchmark's format.
"""
import json
import os

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from icl_av.utils import UserInputError
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
    return ['--meta', str(tmp_path / 'meta.json'), '--stamps-root', str(stamps), '--templates-root', str(templates)]


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
    tool = load_tool()
    meta = json.loads(open(sources[1]).read())
    names, cutouts, photos = tool.load_sources(meta, sources[3], sources[5], 'all')
    assert names == ['cow', 'drum', 'saw']
    make = dict(cutouts=cutouts, photos=photos, size=32, length=6, mean=[0, 0, 0], std=[255, 255, 255])
    first, second = tool.PastedObjects(seed=3, **make), tool.PastedObjects(seed=3, **make)
    image, label = first[5]
    assert torch.equal(image, second[5][0]) and label == second[5][1]
    assert image.shape == (3, 32, 32) and 0 <= image.min() and image.max() <= 1
    assert not torch.equal(image, tool.PastedObjects(seed=4, **make)[5][0])


def test_a_missing_stamp_is_named(sources, tmp_path):
    os.remove(os.path.join(sources[3], 'music', 'drum.png'))
    with pytest.raises(UserInputError, match=r"drum\.png: missing \(stamp 'music/drum' of class 'drum'\)"):
        run_tool(R18_CONFIG, sources, tmp_path / 'w.pth')


def test_a_missing_background_photo_is_named(sources, tmp_path):
    os.remove(os.path.join(sources[5], 'photos', 'rocks.jpg'))
    with pytest.raises(UserInputError, match=r"background photos not found: \['rocks\.jpg'\]"):
        run_tool(R18_CONFIG, sources, tmp_path / 'w.pth')
