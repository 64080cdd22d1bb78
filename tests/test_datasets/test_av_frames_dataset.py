"""AVFramesDataset: layout, annotations, failure policy (report all, error/skip), no silent substitution."""
import json
import os

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from icl_av.datasets import AVFramesDataset
from icl_av.datasets.errors import AVDatasetError, AVLoadError
from icl_av.registry import DATASETS


def _build(root, pipeline, **kwargs):
    cfg = dict(type='AVFramesDataset', data_root=str(root), ann_file='test.txt', pipeline=pipeline,
               test_mode=True)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_frames_layout_end_to_end_with_vggss_boxes_and_masks(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b'), img_hw=(40, 80))
    (tmp_path / 'test_boxes.json').write_text(json.dumps([
        dict(file='a', bbox=[[0.25, 0.5, 0.75, 1.0]]), dict(file='b', bbox=[[0.0, 0.0, 0.5, 0.5]])]))
    (tmp_path / 'test_masks.json').write_text(json.dumps({'a': {'size': [40, 80], 'counts': 'PQ1'}}))
    dataset = _build(root, av_media.base_pipeline(size=32), box_file='test_boxes.json', mask_file='test_masks.json')
    assert len(dataset) == 2
    sample = dataset[0]
    assert sample['inputs']['img'].shape == (3, 32, 32) and sample['inputs']['img'].dtype == torch.uint8
    assert sample['inputs']['audio'].shape == (1, 4000)  # 0.5 s at 8 kHz
    ds = sample['data_samples']
    assert ds.metainfo['video_id'] == 'a' and ds.metainfo['sample_idx'] == 0
    assert ds.metainfo['ori_shape'] == (40, 80) and ds.metainfo['img_shape'] == (32, 32)
    # 0.25..0.75 of width 80 -> 20..60 px -> resized to 32 wide -> 8..24; 0.5..1.0 of 40 -> 16..32
    torch.testing.assert_close(ds.gt_bboxes, torch.tensor([[8., 16., 24., 32.]]))
    assert ds.gt_masks[0]['size'] == [32, 32]
    assert 'gt_masks' not in dataset[1]['data_samples']
    batch = pseudo_collate([dataset[0], dataset[1]])
    assert len(batch['data_samples']) == 2


def test_test_samples_without_boxes_get_empty_float_boxes(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path)
    ds = _build(root, av_media.base_pipeline())[0]['data_samples']
    assert ds.gt_bboxes.shape == (0, 4) and ds.gt_bboxes.dtype == torch.float32


def test_flickr_xml_boxes_and_consensus_map(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('10000130166',), img_hw=(64, 64))
    (tmp_path / 'test.txt').write_text('10000130166,202\n')
    os.makedirs(tmp_path / 'annotations')
    (tmp_path / 'annotations' / '10000130166.xml').write_text(
        '<annotation><object><bbox><n>a</n><x>0</x><y>0</y><x>128</x><y>128</y></bbox></object>'
        '<object><bbox><n>b</n><x>0</x><y>0</y><x>64</x><y>64</y></bbox></object></annotation>')
    pipeline = [dict(type='LoadAVFrame'), dict(type='LoadAudio', sample_rate=8000), dict(type='PackAVInputs')]
    ds = _build(root, pipeline, xml_dir='annotations')[0]['data_samples']
    torch.testing.assert_close(ds.gt_bboxes, torch.tensor([[0., 0., 32., 32.], [0., 0., 16., 16.]]))
    assert ds.gt_map.shape == (64, 64)
    assert ds.gt_map[5, 5] == 1.0 and ds.gt_map[20, 20] == 0.5 and ds.gt_map[40, 40] == 0.0
    assert ds.metainfo['frame_index'] == 202


def test_missing_files_are_all_reported_at_once(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b', 'c', 'd'))
    os.remove(tmp_path / 'frames' / 'a.jpg')
    os.remove(tmp_path / 'audio' / 'b.wav')
    open(tmp_path / 'audio' / 'c.wav', 'wb').close()  # zero bytes
    (tmp_path / 'test.txt').write_text('a\nb\nc\nd\nghost\n')  # 'ghost' has no files at all
    with pytest.raises(AVDatasetError) as info:
        _build(root, av_media.base_pipeline())
    message = str(info.value)
    assert '4 of 5 entries are unusable' in message
    assert 'missing image file' in message and 'frames/a.jpg' in message and 'frames/ghost.jpg' in message
    assert 'missing audio file' in message and 'audio/b.wav' in message
    assert 'empty audio file' in message and 'audio/c.wav' in message


def test_skip_policy_drops_and_logs(tmp_path, av_media, caplog):
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b', 'c'))
    os.remove(tmp_path / 'audio' / 'b.wav')
    dataset = DATASETS.build(dict(type='AVFramesDataset', data_root=root, ann_file='train.txt',
                                  pipeline=av_media.base_pipeline(test=False)))  # training: skip by default
    assert dataset.on_missing == 'skip'
    assert [dataset.get_data_info(i)['video_id'] for i in range(len(dataset))] == ['a', 'c']
    with pytest.raises(AVDatasetError, match='missing audio'):
        DATASETS.build(dict(type='AVFramesDataset', data_root=root, ann_file='train.txt', on_missing='error',
                            pipeline=av_media.base_pipeline(test=False)))


def test_empty_split_and_all_missing_raise(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('a',))
    (tmp_path / 'empty.txt').write_text('')
    with pytest.raises(AVDatasetError, match='empty'):
        _build(root, av_media.base_pipeline(), ann_file='empty.txt')
    (tmp_path / 'ghosts.txt').write_text('x\ny\n')
    with pytest.raises(AVDatasetError, match='no usable samples'):
        _build(root, av_media.base_pipeline(), ann_file='ghosts.txt', on_missing='skip')


def test_test_ids_missing_from_box_file_are_reported(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b'))
    (tmp_path / 'boxes.json').write_text(json.dumps([dict(file='a', bbox=[[0, 0, 1, 1]])]))
    with pytest.raises(AVDatasetError, match='not in box file'):
        _build(root, av_media.base_pipeline(), box_file='boxes.json')


def test_malformed_box_file_raises_at_build(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('a',))
    (tmp_path / 'boxes.json').write_text('[{"file": "a", "bbox": ')
    with pytest.raises(AVDatasetError, match='boxes.json'):
        _build(root, av_media.base_pipeline(), box_file='boxes.json')


def test_corrupt_file_at_load_time_raises_naming_the_sample_and_never_substitutes(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b'))
    (tmp_path / 'frames' / 'b.jpg').write_bytes(b'\xff\xd8garbage')  # passes the build check, fails decoding
    for test_mode, on_corrupt in ((True, None), (False, 'error')):
        dataset = DATASETS.build(dict(type='AVFramesDataset', data_root=root, ann_file='test.txt',
                                      test_mode=test_mode, on_corrupt=on_corrupt,
                                      pipeline=av_media.base_pipeline(test=test_mode)))
        assert dataset[0]['data_samples'].metainfo['video_id'] == 'a'
        with pytest.raises(AVLoadError) as info:
            dataset[1]
        assert 'b.jpg' in str(info.value)
        assert any("video_id='b'" in note for note in getattr(info.value, '__notes__', []))


def test_training_returns_a_marker_for_a_corrupt_file_never_another_sample(tmp_path, av_media):
    from icl_av.datasets import CorruptSample
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b'))
    (tmp_path / 'frames' / 'b.jpg').write_bytes(b'\xff\xd8garbage')
    dataset = DATASETS.build(dict(type='AVFramesDataset', data_root=root, ann_file='train.txt',
                                  pipeline=av_media.base_pipeline(test=False)))
    assert dataset.on_corrupt == 'skip'
    marker = dataset[1]
    assert isinstance(marker, CorruptSample)
    assert (marker.sample_idx, marker.video_id) == (1, 'b')
    assert marker.path.endswith('b.jpg') and 'truncated JPEG' in marker.reason


def test_empty_frame_folder_is_a_corrupt_sample_in_training(tmp_path, av_media):
    from icl_av.datasets import CorruptSample
    root = av_media.make_frames_root(tmp_path, ids=('a',))
    os.remove(tmp_path / 'frames' / 'a.jpg')
    os.makedirs(tmp_path / 'frames' / 'a')
    dataset = DATASETS.build(dict(type='AVFramesDataset', data_root=root, ann_file='train.txt',
                                  pipeline=av_media.base_pipeline(test=False)))
    marker = dataset[0]
    assert isinstance(marker, CorruptSample) and 'holds no images' in marker.reason


def test_unknown_on_corrupt_policy_is_rejected(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('a',))
    with pytest.raises(ValueError, match='on_corrupt'):
        DATASETS.build(dict(type='AVFramesDataset', data_root=root, ann_file='train.txt', on_corrupt='retry'))


def test_pipeline_returning_none_is_an_error(tmp_path, av_media):
    from mmcv.transforms import BaseTransform

    from icl_av.registry import TRANSFORMS

    @TRANSFORMS.register_module(force=True)
    class _DropEverything(BaseTransform):
        def transform(self, results):
            return None

    root = av_media.make_frames_root(tmp_path, ids=('a', 'b'))
    dataset = DATASETS.build(dict(type='AVFramesDataset', data_root=root, ann_file='train.txt',
                                  pipeline=[dict(type='_DropEverything')]))
    with pytest.raises(AVLoadError, match='never replaced'):
        dataset[0]


def test_frame_folders_pick_annotated_centre_or_random(tmp_path, av_media):
    for i in range(5):
        av_media.write_image(tmp_path / 'frames' / 'v' / f'{i:04d}.jpg', 16, 16, value=40 * i)
    av_media.write_wav(tmp_path / 'audio' / 'v.wav')
    (tmp_path / 'test.txt').write_text('v\n')
    (tmp_path / 'flickr.csv').write_text('v,1\n')
    pipeline = [dict(type='LoadAVFrame')]
    centre = _build(tmp_path, pipeline)[0]
    assert centre['frame_index'] == 2 and centre['img_path'].endswith('0002.jpg')
    annotated = _build(tmp_path, pipeline, ann_file='flickr.csv')[0]
    assert annotated['img_path'].endswith('0001.jpg') and abs(int(annotated['img'].mean()) - 40) < 3
    train = DATASETS.build(dict(type='AVFramesDataset', data_root=str(tmp_path), ann_file='test.txt',
                                pipeline=pipeline))
    assert len({train[0]['frame_index'] for _ in range(12)}) > 1


def test_extended_pairs_add_non_sounding_samples(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b'))
    (tmp_path / 'plus_silent.csv').write_text('video,audio,label\na,b,non-sounding\n')
    dataset = _build(root, av_media.base_pipeline(), pair_file='plus_silent.csv')
    assert len(dataset) == 3
    infos = [dataset.get_data_info(i) for i in range(3)]
    assert [i['is_sounding'] for i in infos] == [True, True, False]
    assert infos[2]['img_path'].endswith('a.jpg') and infos[2]['audio_path'].endswith('b.wav')
    ds = dataset[2]['data_samples']
    assert ds.is_sounding is False and ds.metainfo['audio_id'] == 'b'


def test_real_vggss_metadata_with_a_subset_of_media(tmp_path, av_media, av_metadata_dir):
    """The real vggss.json + vggss_test.csv drive a dataset whose media exist for two IDs only."""
    ids = ['zpWuikVorYg_000032', 'gEvCUcZ6w88_000030']
    root = av_media.make_frames_root(tmp_path, ids=ids, img_hw=(32, 32))
    with pytest.raises(AVDatasetError, match='5156 of 5158 entries are unusable'):
        _build(root, av_media.base_pipeline(), ann_file=os.path.join(av_metadata_dir, 'vggss_test.csv'),
               box_file=os.path.join(av_metadata_dir, 'vggss.json'))
    dataset = _build(root, av_media.base_pipeline(), ann_file=os.path.join(av_metadata_dir, 'vggss_test.csv'),
                     box_file=os.path.join(av_metadata_dir, 'vggss.json'), on_missing='skip')
    assert len(dataset) == 2
    boxes = dataset[0]['data_samples'].gt_bboxes
    np.testing.assert_allclose(boxes.numpy(), [[0.403125 * 32, 0.253125 * 32, 0.6 * 32, 0.75 * 32]], rtol=1e-5)


def test_lazy_init_and_class_is_exported(tmp_path, av_media):
    root = av_media.make_frames_root(tmp_path)
    dataset = AVFramesDataset(data_root=root, ann_file='test.txt', pipeline=av_media.base_pipeline(),
                              test_mode=True, lazy_init=True)
    assert not dataset._fully_initialized
    assert dataset[1]['data_samples'].metainfo['video_id'] == 'b'
