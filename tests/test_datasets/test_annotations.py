"""Parsers for split lists, VGG-SS json, Flickr XML, extended csv and RLE masks (real files where we can)."""
import json
import os

import numpy as np
import pytest

from icl_av.datasets.annotations import (load_flickr_xml, load_rle_masks, load_vggss_boxes, read_pair_list,
                                         read_split_list)
from icl_av.datasets.errors import AVAnnotationError, AVDatasetError


# ------------------------------------------------------------- the real public metadata
def test_real_vggss_json_parses_and_drops_its_invalid_boxes(av_metadata_dir):
    boxes = load_vggss_boxes(os.path.join(av_metadata_dir, 'vggss.json'))
    assert len(boxes) == 5158
    first = boxes['zpWuikVorYg_000032']
    assert first['class'] == 'elk bugling'
    np.testing.assert_allclose(first['bboxes'], [[0.403125, 0.253125, 0.6, 0.75]], rtol=1e-6)
    all_boxes = np.concatenate([v['bboxes'] for v in boxes.values()])
    assert all_boxes.shape == (5941 - 18, 4)  # the file holds 18 garbage boxes (e.g. -2.9e16)
    assert (all_boxes >= 0).all() and (all_boxes <= 1).all()
    assert (all_boxes[:, 2] > all_boxes[:, 0]).all() and (all_boxes[:, 3] > all_boxes[:, 1]).all()


def test_real_split_lists_parse(av_metadata_dir):
    vggss = read_split_list(os.path.join(av_metadata_dir, 'vggss_test.csv'))  # CRLF line ends
    assert len(vggss) == 5158 and vggss[0].video_id == 'zpWuikVorYg_000032' and vggss[0].frame_index is None
    assert all('\r' not in e.video_id for e in vggss)
    flickr = read_split_list(os.path.join(av_metadata_dir, 'flickr_test.csv'))
    assert len(flickr) == 250 and (flickr[0].video_id, flickr[0].frame_index) == ('10000130166', 202)
    heard = read_split_list(os.path.join(av_metadata_dir, 'vggss_heard_test.csv'))
    unheard = read_split_list(os.path.join(av_metadata_dir, 'vggss_unheard_test.csv'))
    assert len(heard) > 2500 and len(unheard) > 2500
    assert not {e.video_id for e in heard} & {e.video_id for e in unheard}


def test_real_plus_silent_lists_parse(av_metadata_dir):
    pairs = read_pair_list(os.path.join(av_metadata_dir, 'vggss_test_plus_silent.csv'))
    assert len(pairs) == 5158 and not any(p.is_sounding for p in pairs)
    flickr = read_pair_list(os.path.join(av_metadata_dir, 'flickr_test_plus_silent.csv'))
    assert len(flickr) == 250 and flickr[0].video_id == '10000130166' and flickr[0].audio_id == '10437048305'


# ------------------------------------------------------------- Flickr XML (fixtures in the documented structure)
def write_flickr_xml(path, annotators):
    """One child of the root per annotator; each <bbox> = a leading element then xmin ymin xmax ymax."""
    parts = ['<annotation>', '<filename>x.jpg</filename>']
    for boxes in annotators:
        parts.append('<object>')
        for x1, y1, x2, y2 in boxes:
            parts.append(f'<bbox><name>sound</name><xmin>{x1}</xmin><ymin>{y1}</ymin>'
                         f'<xmax>{x2}</xmax><ymax>{y2}</ymax></bbox>')
        parts.append('</object>')
    parts.append('</annotation>')
    path.write_text(''.join(parts))


def test_flickr_xml_reads_boxes_by_position(tmp_path):
    write_flickr_xml(tmp_path / 'a.xml', [[(10, 20, 100, 200)], [(0, 0, 50, 60), (5, 5, 300, 256)]])
    boxes, dropped = load_flickr_xml(str(tmp_path / 'a.xml'))
    np.testing.assert_array_equal(boxes, [[10, 20, 100, 200], [0, 0, 50, 60], [5, 5, 256, 256]])
    assert dropped == 0


def test_flickr_xml_tag_names_do_not_matter_only_positions(tmp_path):
    (tmp_path / 'b.xml').write_text('<r><o><bbox><l>x</l><a>1</a><b>2</b><c>30</c><d>40</d></bbox></o></r>')
    np.testing.assert_array_equal(load_flickr_xml(str(tmp_path / 'b.xml'))[0], [[1, 2, 30, 40]])


@pytest.mark.parametrize('text, reason', [
    ('<annotation><object><bbox>', 'XML syntax'),
    ('<a><o><bbox><n>x</n><x>1</x><y>2</y></bbox></o></a>', 'sub-elements'),
    ('<a><o><bbox><n>x</n><x>1</x><y>two</y><x>3</x><y>4</y></bbox></o></a>', 'integers'),
])
def test_malformed_flickr_xml_raises(tmp_path, text, reason):
    (tmp_path / 'bad.xml').write_text(text)
    with pytest.raises(AVAnnotationError, match=reason) as info:
        load_flickr_xml(str(tmp_path / 'bad.xml'))
    assert 'bad.xml' in str(info.value)


def test_flickr_xml_invalid_boxes_dropped(tmp_path):
    write_flickr_xml(tmp_path / 'c.xml', [[(100, 10, 50, 60), (10, 10, 20, 20)]])  # x2 < x1 in the first
    boxes, dropped = load_flickr_xml(str(tmp_path / 'c.xml'))
    assert dropped == 1 and boxes.tolist() == [[10, 10, 20, 20]]


# ------------------------------------------------------------- malformed / edge inputs
@pytest.mark.parametrize('content, reason', [
    ('{not json', 'invalid JSON'),
    ('{"file": "a"}', 'JSON list'),
    ('[{"file": "a"}]', '"bbox"'),
    ('[{"file": "a", "bbox": [[0.1, 0.2, 0.3]]}]', 'x1, y1, x2, y2'),
])
def test_malformed_vggss_json_raises(tmp_path, content, reason):
    (tmp_path / 'b.json').write_text(content)
    with pytest.raises(AVAnnotationError, match=reason) as info:
        load_vggss_boxes(str(tmp_path / 'b.json'))
    assert 'b.json' in str(info.value) and isinstance(info.value, AVDatasetError)


def test_vggss_boxes_outside_unit_range_or_inverted(tmp_path):
    records = [dict(file='a', bbox=[[-0.2, 0.1, 1.5, 0.9]]),       # clipped, kept
               dict(file='b', bbox=[[0.8, 0.1, 0.2, 0.9], [0.1, 0.1, 0.5, 0.5]]),  # x2 < x1 dropped
               dict(file='c', bbox=[[0.5, 0.5, 0.5, 0.9]]),         # zero width dropped -> empty
               dict(file='d', bbox=[])]
    (tmp_path / 'b.json').write_text(json.dumps(records))
    boxes = load_vggss_boxes(str(tmp_path / 'b.json'))
    np.testing.assert_allclose(boxes['a']['bboxes'], [[0, 0.1, 1, 0.9]], rtol=1e-6)
    np.testing.assert_allclose(boxes['b']['bboxes'], [[0.1, 0.1, 0.5, 0.5]])
    assert boxes['c']['bboxes'].shape == (0, 4) and boxes['d']['bboxes'].shape == (0, 4)


def test_split_list_variants(tmp_path):
    (tmp_path / 'l.csv').write_text('\ufeffid,frame\r\nA,3\r\n\r\n# comment\r\nB\r\nA,3\r\n')
    entries = read_split_list(str(tmp_path / 'l.csv'))
    assert [(e.video_id, e.frame_index) for e in entries] == [('A', 3), ('B', None)]
    (tmp_path / 'bad.csv').write_text('A,three\n')
    with pytest.raises(AVAnnotationError, match='frame index'):
        read_split_list(str(tmp_path / 'bad.csv'))
    (tmp_path / 'empty.txt').write_text('\n\n')
    assert read_split_list(str(tmp_path / 'empty.txt')) == []
    with pytest.raises(AVAnnotationError, match='does not exist'):
        read_split_list(str(tmp_path / 'nope.txt'))


def test_pair_list_errors(tmp_path):
    (tmp_path / 'p.csv').write_text('a,b\n1,2\n')
    with pytest.raises(AVAnnotationError, match='video,audio,label'):
        read_pair_list(str(tmp_path / 'p.csv'))
    (tmp_path / 'q.csv').write_text('video,audio,label\n1,2,maybe\n')
    with pytest.raises(AVAnnotationError, match='maybe'):
        read_pair_list(str(tmp_path / 'q.csv'))
    (tmp_path / 'r.csv').write_text('video,audio,label\n1,2,sounding\n3,4,non-sounding\n')
    assert [p.is_sounding for p in read_pair_list(str(tmp_path / 'r.csv'))] == [True, False]


def test_rle_mask_file(tmp_path):
    (tmp_path / 'm.json').write_text(json.dumps({'a': {'size': [2, 3], 'counts': '0`0'},
                                                 'b': [{'size': [2, 2], 'counts': [1, 2, 1]}]}))
    masks = load_rle_masks(str(tmp_path / 'm.json'))
    assert masks['a'] == [{'size': [2, 3], 'counts': '0`0'}]
    assert isinstance(masks['b'][0]['counts'], str)
    (tmp_path / 'bad.json').write_text(json.dumps({'a': {'counts': 'x'}}))
    with pytest.raises(AVAnnotationError, match='RLE'):
        load_rle_masks(str(tmp_path / 'bad.json'))
