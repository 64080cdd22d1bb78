"""Libraries of the data side, not transforms: media decoding, annotation geometry, picture hashing.

``media_io`` decodes images, audio and videos (used by the loading transforms, the video
extraction tool, ``apis`` and the demo); ``annotation_geometry`` moves boxes, consensus
maps and RLE masks with the image (used by the loading and geometry transforms);
``picture_hash`` reads cut-out pictures alike whatever their file and hashes them
perceptually, to find copies of one picture among many. Import the modules themselves
(``from icl_av.datasets.utils.media_io import load_audio``).
"""
