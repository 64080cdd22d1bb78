"""Invalid boxes: the warnings name the IDs, and test entries left without any valid box are dropped at build."""
import json

from icl_av.registry import DATASETS


def _capture(monkeypatch, module):
    lines = []
    monkeypatch.setattr(module + '.print_log', lambda message, *args, **kwargs: lines.append(message))
    return lines


def test_vggss_box_warning_names_the_ids(tmp_path, av_media, monkeypatch):
    from icl_av.datasets.annotations import load_vggss_boxes
    lines = _capture(monkeypatch, 'icl_av.datasets.annotations')
    path = tmp_path / 'boxes.json'
    path.write_text(json.dumps([dict(file='good', bbox=[[0.1, 0.1, 0.5, 0.5]]),
                                dict(file='inverted', bbox=[[0.6, 0.6, 0.2, 0.2], [0.1, 0.1, 0.3, 0.3]]),
                                dict(file='hopeless', bbox=[[0.5, 0.1, 0.5, 0.9]])]))
    boxes = load_vggss_boxes(str(path))
    assert len(boxes['inverted']['bboxes']) == 1 and len(boxes['hopeless']['bboxes']) == 0
    [line] = lines
    assert 'inverted' in line and 'hopeless' in line and 'good' not in line
    assert 'no valid box left: hopeless' in line


def test_test_entries_without_a_valid_box_are_dropped_naming_them(tmp_path, av_media, monkeypatch):
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b', 'c'))
    (tmp_path / 'boxes.json').write_text(json.dumps([dict(file='a', bbox=[[0.1, 0.1, 0.5, 0.5]]),
                                                     dict(file='b', bbox=[[0.9, 0.9, 0.1, 0.1]]),
                                                     dict(file='c', bbox=[[0.2, 0.2, 0.6, 0.6]])]))
    lines = _capture(monkeypatch, 'icl_av.datasets.base_av_dataset')
    dataset = DATASETS.build(dict(type='AVFramesDataset', data_root=root, ann_file='test.txt', test_mode=True,
                                  box_file='boxes.json', pipeline=av_media.base_pipeline()))
    assert [dataset.get_data_info(i)['video_id'] for i in range(len(dataset))] == ['a', 'c']
    assert any('1 test entries whose annotation has no valid box' in line and ': b' in line for line in lines)


def test_flickr_xml_warning_names_the_ids(tmp_path, av_media, monkeypatch):
    root = av_media.make_frames_root(tmp_path, ids=('a', 'b'))
    (tmp_path / 'xml').mkdir()
    box = '<bbox><n>x</n><v>{}</v><v>{}</v><v>{}</v><v>{}</v></bbox>'
    for video_id, coords in (('a', (10, 10, 100, 100)), ('b', (100, 100, 10, 10))):
        extra = box.format(20, 20, 60, 60) if video_id == 'b' else ''
        (tmp_path / 'xml' / f'{video_id}.xml').write_text(f'<annotation><object>{box.format(*coords)}{extra}'
                                                          '</object></annotation>')
    lines = _capture(monkeypatch, 'icl_av.datasets.base_av_dataset')
    dataset = DATASETS.build(dict(type='AVFramesDataset', data_root=root, ann_file='test.txt', test_mode=True,
                                  xml_dir='xml', pipeline=av_media.base_pipeline()))
    assert len(dataset) == 2
    assert any('1 invalid boxes from the XML annotations of 1 IDs: b' in line for line in lines)
