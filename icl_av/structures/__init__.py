"""Data structures that travel with a sample: the data sample and its masks (COCO RLE)."""
from .av_data_sample import AVDataSample
from .masks import compress_rle, decode_rle, encode_rle

__all__ = ['AVDataSample', 'encode_rle', 'decode_rle', 'compress_rle']
