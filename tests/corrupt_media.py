"""A frames+audio dataset folder holding corrupt frames, audio and videos next to good samples (for the
corrupt-sample policy and the verifier)."""
import os

import numpy as np
import soundfile as sf
from av_test_media import write_image, write_video_only_mp4, write_wav

GOOD_IDS = tuple(f'good{i}' for i in range(8))


def _truncate(path, keep=0.5):
    data = open(path, 'rb').read()
    with open(path, 'wb') as handle:
        handle.write(data[:int(len(data) * keep)])


def make_corrupt_frames_root(root, seconds=0.6, rate=16000):
    """Write the dataset; return ``(root, {path: expected words of the reason})`` of every corrupt file.

    Always corrupt when loaded: a truncated JPEG frame, a wav of garbage bytes, an mp4 audio file
    without its moov atom, a float wav with samples near 1e19. Corrupt only when the random
    training frame lands on it: the second frame of a two-frame folder.
    """
    root = str(root)
    frames, audio = os.path.join(root, 'frames'), os.path.join(root, 'audio')
    ids = list(GOOD_IDS) + ['bad_jpg', 'bad_wav', 'bad_mp4', 'bad_huge', 'bad_dir']
    for i, video_id in enumerate(ids):
        if video_id != 'bad_dir':
            write_image(os.path.join(frames, f'{video_id}.jpg'), 32, 32, seed=i)
        if video_id != 'bad_mp4':
            write_wav(os.path.join(audio, f'{video_id}.wav'), seconds=seconds, rate=rate, freq=200 + 50 * i)
    corrupt = {}
    path = os.path.join(frames, 'bad_jpg.jpg')
    _truncate(path)
    corrupt[path] = 'truncated JPEG'
    path = os.path.join(audio, 'bad_wav.wav')
    with open(path, 'wb') as handle:
        handle.write(b'RIFF' + os.urandom(300))
    corrupt[path] = 'not a decodable audio file'
    path = os.path.join(audio, 'bad_mp4.mp4')
    write_video_only_mp4(path, frames=10)
    _truncate(path)
    corrupt[path] = 'moov'  # 'moov atom not found' or 'the moov box runs ... past the end'
    path = os.path.join(audio, 'bad_huge.wav')
    wave = np.sin(np.linspace(0, 300, int(seconds * rate))).astype(np.float32) * np.float32(1e19)
    sf.write(path, wave, rate, subtype='FLOAT')
    corrupt[path] = 'far beyond full scale'
    folder = os.path.join(frames, 'bad_dir')
    write_image(os.path.join(folder, '000000.jpg'), 32, 32, seed=99)
    write_image(os.path.join(folder, '000001.jpg'), 32, 32, seed=98)
    _truncate(os.path.join(folder, '000001.jpg'))
    corrupt[os.path.join(folder, '000001.jpg')] = 'truncated JPEG'
    with open(os.path.join(root, 'train.txt'), 'w') as handle:
        handle.write('\n'.join(ids) + '\n')
    return root, corrupt
