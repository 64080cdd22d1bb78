"""icl_av.datasets.clipart_pictures labels clip art by folder, leaves out every copy of a reference picture and
keeps its hashes in a cache that spares the second run all decoding."""
import os

import numpy as np
import pytest
from clipart_test_pictures import altered_copy, drawing, flattened_copy, write

from icl_av.datasets import clipart_pictures
from icl_av.datasets.clipart_pictures import (build_clipart_source, find_copies, folder_label, list_pictures,
                                              scan_pictures)
from icl_av.utils import UserInputError


@pytest.fixture
def folders(tmp_path):
    """A clip-art folder (three classes, a stray picture, three altered copies of stamps) and a stamps folder."""
    clipart, stamps = tmp_path / 'clipart', tmp_path / 'stamps'
    write(stamps / 'animals' / 'cow.png', drawing(100))
    write(stamps / 'music' / 'drum.png', drawing(101))
    write(stamps / 'vehicles' / 'car.png', drawing(102))
    for i in range(3):
        write(clipart / 'animals' / 'mammals' / f'm{i}.png', drawing(i))
        write(clipart / 'tools' / f't{i}.png', drawing(10 + i))
        write(clipart / 'food' / 'fruit' / f'f{i}.png', drawing(20 + i))
    write(clipart / 'food' / 'fruit' / 'deeper' / 'f3.png', drawing(23))
    write(clipart / 'stray.png', drawing(30))
    write(clipart / 'animals' / 'mammals' / 'cow_copy.png', altered_copy(drawing(100)))
    write(clipart / 'food' / 'drum_flat.png', flattened_copy(drawing(101)))
    write(clipart / 'tools' / 'car_small.png', altered_copy(drawing(102), scale=0.7, pad=(0, 0, 0, 0)))
    write(clipart / 'food' / 'empty.png', np.zeros((9, 9, 4), np.uint8))
    return str(clipart), str(stamps)


def test_labels_are_the_first_folders_of_the_path():
    assert folder_label('animals/mammals/cat.png', 2) == 'animals/mammals'
    assert folder_label('animals/mammals/cat.png', 1) == 'animals'
    assert folder_label('recreation/games/cards/ace.png', 2) == 'recreation/games'
    assert folder_label('tools/hammer.png', 2) == 'tools'
    assert folder_label('stray.png', 2) is None


def test_copies_of_stamps_are_removed_and_unrelated_pictures_kept(folders, tmp_path):
    clipart, stamps = folders
    source = build_clipart_source(clipart, stamps, min_class_size=3, cache_dir=str(tmp_path / 'cache'))
    assert {(picture, stamp) for picture, stamp, _ in source.removed} == {
        ('animals/mammals/cow_copy.png', 'animals/cow.png'),  # rescaled, mirrored, another margin
        ('food/drum_flat.png', 'music/drum.png'),  # flattened on white
        ('tools/car_small.png', 'vehicles/car.png')}  # shrunk, mirrored, no margin
    assert all(bits <= 40 for _, _, bits in source.removed)
    assert source.unreadable == [
        ('food/empty.png', f'{clipart}/food/empty.png: fully transparent (no alpha at or above 32)')]
    assert source.class_sizes == {'animals/mammals': 3, 'food/fruit': 4, 'tools': 3}
    assert source.unlabelled == 1 and source.total == 15 and source.references == 3
    assert len(source.clutter) == 11
    assert all(c.dtype == np.uint8 and c.shape[2] == 4 and max(c.shape[:2]) <= 128 for c in source.clutter)


def test_top_folders_make_coarser_classes_and_small_folders_no_class(folders):
    clipart, stamps = folders
    source = build_clipart_source(clipart, stamps, label_depth=1, min_class_size=4)
    assert source.class_sizes == {'food': 4}
    assert source.unlabelled == 7


def test_the_second_run_decodes_only_unusable_pictures_and_a_changed_file_is_read_again(folders, tmp_path, monkeypatch):
    clipart, stamps = folders
    cache = str(tmp_path / 'cache')
    first = build_clipart_source(clipart, stamps, min_class_size=3, cache_dir=cache)
    assert len(os.listdir(cache)) == 2

    decoded = []

    def count_decoding(job):
        decoded.append(os.path.relpath(job[0], clipart))
        return f'{job[0]}: still unusable'

    monkeypatch.setattr(clipart_pictures, '_examine', count_decoding)
    second = build_clipart_source(clipart, stamps, min_class_size=3, cache_dir=cache)
    assert decoded == [os.path.join('food', 'empty.png')]  # only the picture that could not be used is tried again
    assert second.removed == first.removed and second.class_sizes == first.class_sizes
    for a, b in zip(first.clutter, second.clutter):
        assert np.array_equal(a, b)

    monkeypatch.undo()
    write(os.path.join(clipart, 'tools', 't0.png'), drawing(40, height=50))
    paths = list_pictures(clipart)
    from icl_av.datasets.clipart_pictures import cache_file_for
    table = scan_pictures(clipart, paths, cutout_side=128, cache_file=cache_file_for(cache, clipart, 'clipart'))
    assert table.decoded == 2  # the changed picture and the unusable one
    assert not table.errors[paths.index('tools/t0.png')]


def test_find_copies_needs_a_similar_shape(tmp_path):
    wide, tall = np.zeros((20, 80, 4), np.uint8), np.zeros((80, 20, 4), np.uint8)
    wide[..., 3] = tall[..., 3] = 255  # featureless opaque bars hash alike whatever their shape
    root = tmp_path / 'p'
    write(root / 'wide.png', wide)
    write(root / 'tall.png', tall)
    refs = scan_pictures(str(root), ['tall.png'], flips=True)
    cands = scan_pictures(str(root), ['wide.png', 'tall.png'])
    matches = find_copies(cands, refs)
    assert matches.is_copy.tolist() == [False, True]
    assert matches.nearest.tolist() == [-1, 0]


def test_missing_folders_and_unreadable_references_are_named(folders, tmp_path):
    clipart, stamps = folders
    with pytest.raises(UserInputError, match=r'nowhere: not a folder'):
        build_clipart_source(str(tmp_path / 'nowhere'), stamps)
    with pytest.raises(UserInputError, match=r'no \.png pictures found under it'):
        os.makedirs(tmp_path / 'bare')
        build_clipart_source(str(tmp_path / 'bare'), stamps)
    (tmp_path / 'stamps' / 'music' / 'broken.png').write_bytes(b'no picture')
    with pytest.raises(UserInputError, match=r'1 of the 4 pictures under .*stamps cannot be read, so their copies '
                                             r'cannot be found; the first: .*broken\.png: missing or not a decodable'):
        build_clipart_source(clipart, stamps)
    with pytest.raises(UserInputError, match=r'no folder holds 50 or more usable pictures'):
        os.remove(tmp_path / 'stamps' / 'music' / 'broken.png')
        build_clipart_source(clipart, stamps, min_class_size=50)
