"""Libraries of the data side, not transforms: media decoding and annotation geometry.

``media_io`` decodes images, audio and videos (used by the loading transforms, the video
extraction tool, ``apis`` and the demo); ``annotation_geometry`` moves boxes, consensus
maps and RLE masks with the image (used by the loading and geometry transforms). Import
the modules themselves (``from icl_av.datasets.utils.media_io import load_audio``).
Until issue 11 they lived in ``icl_av.datasets.transforms``.
"""
