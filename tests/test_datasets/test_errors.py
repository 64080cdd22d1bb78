"""Data errors cross process boundaries intact: pickling and PyTorch's loader-worker re-raise."""
import pickle

import pytest
from torch.utils.data import DataLoader, Dataset

from icl_av.datasets.errors import AVAnnotationError, AVDatasetError, AVLoadError
from icl_av.utils.cli import one_line
from icl_av.utils.errors import message_from_worker


class RaisingDataset(Dataset):
    """Every item raises ``error`` (a load error with a note, as BaseAVDataset.prepare_data adds).

    A multi-line AVDatasetError cannot be told from its notes after the re-raise, so it gets none here.
    """

    def __init__(self, error):
        self.error = error

    def __len__(self):
        return 2

    def __getitem__(self, idx):
        if isinstance(self.error, AVLoadError):
            self.error.add_note(f'while loading sample {idx}')
        raise self.error


def test_load_error_pickles_with_path_and_reason():
    error = AVLoadError('/data/frames/a b.jpg', 'truncated JPEG (no end-of-image marker)')
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is AVLoadError
    assert (again.path, again.reason, str(again)) == (error.path, error.reason, str(error))


def test_annotation_error_pickles():
    again = pickle.loads(pickle.dumps(AVAnnotationError('/m/vggss.json', 'invalid JSON')))
    assert (again.path, again.reason) == ('/m/vggss.json', 'invalid JSON')


@pytest.mark.parametrize('error', [
    AVLoadError('/data/frames/ID 1.jpg', 'not a decodable image (code: 3)'),
    AVAnnotationError('/data/boxes.json', 'record 3 must be an object'),
    AVDatasetError('AVFramesDataset(train.txt): no usable samples left out of 4'),
])
def test_worker_reraise_gives_the_same_error_and_line(error):
    expected = one_line(error)
    with pytest.raises(type(error)) as caught:
        next(iter(DataLoader(RaisingDataset(error), num_workers=1)))
    assert 'Traceback' not in str(caught.value)
    assert one_line(caught.value) == expected
    if isinstance(error, (AVLoadError, AVAnnotationError)):
        assert (caught.value.path, caught.value.reason) == (error.path, error.reason)


def test_message_from_worker_ignores_ordinary_messages():
    assert message_from_worker('Cannot load x.jpg: broken', 'AVLoadError') is None
