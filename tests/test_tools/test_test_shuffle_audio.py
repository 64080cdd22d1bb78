"""tools/test.py --shuffle-audio: sets the test dataset's audio-swap option and names it in the table title."""
import os.path as osp

import pytest
import torch
from av_test_media import write_image, write_wav
from mmengine.config import Config
from script_modules import load_script

from icl_av.utils import UserInputError

FRAMES_CONFIG = """
default_scope = 'icl_av'
test_dataloader = dict(batch_size=1, dataset=dict(type='AVFramesDataset', data_root='data/x', ann_file='test.txt',
                                                  test_mode=True, pipeline=[]))
"""
WRAPPED_CONFIG = """
default_scope = 'icl_av'
test_dataloader = dict(batch_size=1, dataset=dict(type='RepeatDataset', times=2, dataset=dict(
    type='AVVideoDataset', data_root='data/x', ann_file='test.txt', test_mode=True, pipeline=[])))
"""
SYNTHAV_CONFIG = """
default_scope = 'icl_av'
test_dataloader = dict(batch_size=1, dataset=dict(type='SynthAVDataset', split='test', num_samples=4))
"""


@pytest.fixture(scope='module')
def test_tool(repo_root):
    return load_script(osp.join(repo_root, 'tools', 'test.py'), 'icl_av_test_tool')


def _merge(tool, tmp_path, config_text, *flags):
    config = tmp_path / 'cfg.py'
    config.write_text(config_text)
    checkpoint = tmp_path / 'model.pth'
    torch.save({'state_dict': {}}, checkpoint)
    args = tool.parse_args([str(config), str(checkpoint), *flags])
    return tool.merge_args(Config.fromfile(str(config)), args), args


@pytest.mark.parametrize('flags, seed', [(('--shuffle-audio',), 0), (('--shuffle-audio', '3'), 3),
                                         (('--shuffle-audio=7', '--work-dir', 'wd'), 7)])
def test_flag_sets_the_dataset_option(test_tool, tmp_path, flags, seed):
    cfg, args = _merge(test_tool, tmp_path, FRAMES_CONFIG, *flags)
    assert args.shuffle_audio == seed
    assert cfg.test_dataloader.dataset.shuffle_audio == seed
    title = test_tool.split_title(cfg, args)
    assert title == f"AVFramesDataset (audio swapped: each frame with another sample's audio, seed {seed})"


def test_without_the_flag_nothing_changes(test_tool, tmp_path):
    cfg, args = _merge(test_tool, tmp_path, FRAMES_CONFIG)
    assert args.shuffle_audio is None
    assert 'shuffle_audio' not in cfg.test_dataloader.dataset
    assert test_tool.split_title(cfg, args) == 'AVFramesDataset'


def test_title_uses_the_configured_split_name(test_tool, tmp_path):
    cfg, args = _merge(test_tool, tmp_path, FRAMES_CONFIG + "test_split_name = 'VGG-SS test'\n", '--shuffle-audio', '2')
    assert test_tool.split_title(cfg, args).startswith('VGG-SS test (audio swapped:')
    assert test_tool.split_title(cfg, args).endswith('seed 2)')


def test_dataset_wrapper_gets_the_option_on_the_inner_dataset(test_tool, tmp_path):
    cfg, _ = _merge(test_tool, tmp_path, WRAPPED_CONFIG, '--shuffle-audio', '4')
    assert cfg.test_dataloader.dataset.dataset.shuffle_audio == 4
    assert 'shuffle_audio' not in cfg.test_dataloader.dataset


def test_dataset_of_another_kind_is_a_clear_error(test_tool, tmp_path):
    config = "default_scope = 'icl_av'\ntest_dataloader = dict(batch_size=1, dataset=dict(type='ConcatDataset'))\n"
    with pytest.raises(UserInputError, match='ConcatDataset does not support the audio-swap control'):
        _merge(test_tool, tmp_path, config, '--shuffle-audio')


def test_synthav_swaps_sounds_between_its_sounding_scenes(test_tool, tmp_path):
    from icl_av.registry import DATASETS
    cfg, _ = _merge(test_tool, tmp_path, SYNTHAV_CONFIG, '--shuffle-audio', '1')
    assert cfg.test_dataloader.dataset.shuffle_audio == 1
    options = dict(split='test', num_samples=4, img_size=32, audio_seconds=0.25)
    plain = DATASETS.build(dict(type='SynthAVDataset', **options))
    swapped = DATASETS.build(dict(type='SynthAVDataset', shuffle_audio=1, **options))
    ids = [plain.get_data_info(i)['video_id'] for i in range(4)]
    donors = [swapped.get_data_info(i)['audio_id'] for i in range(4)]
    assert sorted(donors) == sorted(ids) and all(d != v for d, v in zip(donors, ids))
    for i in range(4):
        mine, theirs = swapped.get_data_info(i), plain.get_data_info(ids.index(donors[i]))
        assert (mine['img'] == plain.get_data_info(i)['img']).all()  # the frame and its ground truth stay
        assert (mine['gt_bboxes'] == plain.get_data_info(i)['gt_bboxes']).all()
        assert (mine['audio'] == theirs['audio']).all()  # the sound is the donor's
    again = DATASETS.build(dict(type='SynthAVDataset', shuffle_audio=1, **options))
    assert [again.get_data_info(i)['audio_id'] for i in range(4)] == donors


def test_negative_seed_is_rejected(test_tool, tmp_path):
    with pytest.raises(UserInputError, match='--shuffle-audio -1'):
        _merge(test_tool, tmp_path, FRAMES_CONFIG, '--shuffle-audio=-1')


def test_built_dataset_uses_the_option(test_tool, tmp_path):
    """The merged config builds a dataset whose samples carry another sample's audio."""
    from icl_av.registry import DATASETS
    root = str(tmp_path / 'data')
    for i, video_id in enumerate('abc'):
        write_image(osp.join(root, 'frames', f'{video_id}.jpg'), seed=i)
        write_wav(osp.join(root, 'audio', f'{video_id}.wav'), seconds=0.2, freq=200 + 100 * i)
    (tmp_path / 'data' / 'test.txt').write_text('a\nb\nc\n')
    cfg, _ = _merge(test_tool, tmp_path, FRAMES_CONFIG.replace('data/x', root), '--shuffle-audio', '3')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    infos = [dataset.get_data_info(i) for i in range(3)]
    assert all(i['audio_id'] != i['video_id'] for i in infos)
    assert sorted(i['audio_id'] for i in infos) == ['a', 'b', 'c']


def test_end_to_end_table_title_and_per_sample_audio(test_tool, tmp_path, tiny_config, tiny_checkpoint, capsys):
    """A real test run: the table says the audio was swapped; the model saw each frame with another audio."""
    import json
    root = tmp_path / 'data'
    for i, video_id in enumerate('abc'):
        write_image(osp.join(root, 'frames', f'{video_id}.jpg'), seed=i)
        write_wav(osp.join(root, 'audio', f'{video_id}.wav'), seconds=0.6, freq=200 + 100 * i)
    (root / 'test.txt').write_text('a\nb\nc\n')
    (root / 'boxes.json').write_text(json.dumps([dict(file=v, bbox=[[0.1, 0.1, 0.6, 0.7]]) for v in 'abc']))
    config = tmp_path / 'frames_cfg.py'
    config.write_text(
        f"_base_ = [{tiny_config!r}]\n"
        "test_dataloader = dict(batch_size=3, dataset=dict(_delete_=True, type='AVFramesDataset', "
        f"data_root={str(root)!r}, ann_file='test.txt', box_file='boxes.json', test_mode=True, pipeline=["
        "dict(type='LoadAVFrame'), dict(type='LoadAudio', sample_rate=16000), "
        "dict(type='AudioClip', duration=0.5, offset='center'), dict(type='Resize', scale=(32, 32)), "
        "dict(type='PackAVInputs')]))\n"
        "test_evaluator = dict(type='LocalizationMetric', preset='lvs', gt_source='auto')\n")

    def run(*flags):
        out = tmp_path / 'per_sample.json'
        test_tool.main([str(config), tiny_checkpoint, '--work-dir', str(tmp_path / 'wd'), '--out', str(out),
                        *flags])
        samples = json.loads(out.read_text())['samples']
        return capsys.readouterr().out, {r['video_id']: r for r in samples}

    printed, swapped = run('--shuffle-audio', '3')
    assert "Localization on AVFramesDataset (audio swapped: each frame with another sample's audio, seed 3)" \
        in printed
    printed, own = run()
    assert 'Localization on AVFramesDataset\n' in printed and 'audio swapped' not in printed
    assert sorted(swapped) == sorted(own) == ['a', 'b', 'c']
    for video_id in 'abc':  # same frame and boxes (same baselines), other audio (other prediction)
        assert swapped[video_id]['perfect_ciou'] == own[video_id]['perfect_ciou']
        assert swapped[video_id]['center_ciou'] == own[video_id]['center_ciou']
        assert swapped[video_id]['confidence'] != pytest.approx(own[video_id]['confidence'], rel=1e-6)


def test_maps_posterior_sets_the_map_mode_and_adds_the_prototype_hook(test_tool, tmp_path):
    config = FRAMES_CONFIG + "model = dict(type='AVLocalizer', map_mode='cosine')\n" \
        "custom_hooks = [dict(type='EpochSeedHook')]\n"
    cfg, _ = _merge(test_tool, tmp_path, config, '--maps', 'posterior', '--num-prototypes', '16',
                    '--refit-prototypes')
    assert cfg.model.map_mode == 'posterior'
    assert cfg.custom_hooks[0] == dict(type='EpochSeedHook')
    assert cfg.custom_hooks[-1] == dict(type='AudioPrototypeHook', num_prototypes=16, refit=True)


def test_maps_cosine_only_sets_the_map_mode(test_tool, tmp_path):
    config = FRAMES_CONFIG + "model = dict(type='AVLocalizer', map_mode='posterior')\n"
    cfg, _ = _merge(test_tool, tmp_path, config, '--maps', 'cosine')
    assert cfg.model.map_mode == 'cosine'
    assert not cfg.get('custom_hooks')


def test_refit_without_posterior_maps_is_an_error(test_tool, tmp_path):
    config = FRAMES_CONFIG + "model = dict(type='AVLocalizer')\n"
    with pytest.raises(UserInputError, match='--refit-prototypes needs --maps posterior'):
        _merge(test_tool, tmp_path, config, '--refit-prototypes')
