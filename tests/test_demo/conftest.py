"""Reuse the API tests' tiny config/checkpoint/video fixtures."""
import importlib.util
import os.path as osp

_spec = importlib.util.spec_from_file_location(
    'icl_av_test_apis_conftest', osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'test_apis', 'conftest.py'))
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)

tiny_config = _shared.tiny_config
tiny_checkpoint = _shared.tiny_checkpoint
av_video = _shared.av_video
