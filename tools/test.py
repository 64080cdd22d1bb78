"""Test a localizer: ``python tools/test.py CONFIG CHECKPOINT [--out results.json] [--show-dir DIR]``.

Prints one table: the model's cIoU@0.5 / AUC / mean cIoU next to what the trivial
baselines (centre prior, whole image) and a perfect localiser score on the same
split under the same protocol, so every number is read against its floor and ceiling.

``--shuffle-audio [SEED]`` runs the audio-swap control: every frame is tested with the
audio of another sample of the split (a seeded derangement; the ground truth stays the
frame's), so comparing with the normal run shows how much of the score comes from the sound.

Several processes or nodes (``tools/dist_test.sh``, ``tools/slurm_test.sh``): each rank scores
its share and ``LocalizationMetric`` gathers the per-sample records through the process group
(NCCL or gloo), so the nodes need no shared working directory; ranks holding different
numbers of records (``on_corrupt='skip'``) are merged without losing or repeating a sample.

``--maps cosine|posterior`` scores any checkpoint with the given maps. ``posterior`` needs
the kinds of sound in the training data: a checkpoint without them (every method but ICL)
gets them fitted once on the training clips (``AudioPrototypeHook``; ``--refit-prototypes``
also refits an ICL checkpoint's), so methods are compared with the same maps.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from icl_av.utils import (UserInputError, check_checkpoint_path, check_config_path,  # noqa: E402
                          close_distributed, init_cpu_distributed, register_checkpoint_safe_globals, run_cli)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) an icl_av localizer')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save the evaluation metrics')
    parser.add_argument('--out', help='write per-sample results (ID, cIoU, confidence) to this .json or .pkl file')
    parser.add_argument('--show-dir', help='save heatmap pictures here (relative paths are under work_dir/<timestamp>)')
    parser.add_argument('--show', action='store_true', help='show pictures in a window')
    parser.add_argument('--interval', type=int, default=1, help='visualize every N-th sample')
    parser.add_argument('--wait-time', type=float, default=2, help='display time of each window (s)')
    parser.add_argument('--no-pin-memory', action='store_true', help='disable pin_memory in the dataloader')
    parser.add_argument(
        '--shuffle-audio', nargs='?', const=0, type=int, default=None, metavar='SEED',
        help='audio-swap control: pair every test frame with the audio of another sample (a derangement drawn '
             'from SEED, default 0; ground truth stays the frame\'s) to show how much of the score comes from '
             'the sound')
    parser.add_argument(
        '--maps', choices=['cosine', 'posterior'], default=None,
        help="score with these maps instead of the config's model.map_mode; 'posterior' fits the audio "
             'prototypes on the training clips when the checkpoint has none')
    parser.add_argument('--num-prototypes', type=int, default=32,
                        help='kinds of sound (k-means clusters) fitted for --maps posterior (default 32)')
    parser.add_argument('--refit-prototypes', action='store_true',
                        help="with --maps posterior, fit the prototypes even if the checkpoint holds some")
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value pairs, e.g. test_evaluator.threshold=0.5')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args) -> Config:
    """Apply the command-line arguments to the config."""
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = check_checkpoint_path(args.checkpoint)
    cfg.resume = False

    if args.show or args.show_dir:
        hooks = cfg.setdefault('default_hooks', {})
        vis = hooks.get('visualization') or dict(type='AVVisualizationHook')
        vis.update(enable=True, interval=args.interval, show=args.show, wait_time=args.wait_time)
        if args.show_dir:
            vis['test_out_dir'] = args.show_dir
        hooks['visualization'] = vis

    if args.out is not None:
        if not args.out.endswith(('.json', '.pkl', '.pickle')):
            raise UserInputError(f'--out {args.out!r}: expected a .json or .pkl file name')
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
        for evaluator in evaluators:
            if evaluator.get('type', '').endswith('LocalizationMetric'):
                evaluator['out_file'] = args.out
                break
        else:
            # Gathered through the process group (NCCL or gloo): no directory shared by the nodes is needed.
            cfg.test_evaluator = [*evaluators, dict(type='DumpResults', out_file_path=args.out, collect_device='gpu')]

    if getattr(args, 'maps', None) is not None:
        cfg.model['map_mode'] = args.maps
        if args.maps == 'posterior':
            if args.num_prototypes < 1:
                raise UserInputError(f'--num-prototypes {args.num_prototypes}: must be >= 1')
            hooks = [hook for hook in cfg.get('custom_hooks', []) if hook.get('type') != 'AudioPrototypeHook']
            cfg.custom_hooks = hooks + [dict(type='AudioPrototypeHook', num_prototypes=args.num_prototypes,
                                             refit=args.refit_prototypes)]
    elif getattr(args, 'refit_prototypes', False):
        raise UserInputError('--refit-prototypes needs --maps posterior')

    if args.no_pin_memory:
        cfg.test_dataloader['pin_memory'] = False
    if getattr(args, 'shuffle_audio', None) is not None:
        if args.shuffle_audio < 0:
            raise UserInputError(f'--shuffle-audio {args.shuffle_audio}: the seed must be >= 0')
        for dataset_cfg in leaf_dataset_cfgs(cfg.test_dataloader['dataset']):
            check_supports_audio_swap(dataset_cfg)
            dataset_cfg['shuffle_audio'] = args.shuffle_audio
    return cfg


def leaf_dataset_cfgs(dataset_cfg):
    """The dataset configs inside ``dataset_cfg``, looking through wrappers (``dataset=`` / ``datasets=``)."""
    if 'dataset' in dataset_cfg:
        return leaf_dataset_cfgs(dataset_cfg['dataset'])
    if 'datasets' in dataset_cfg:
        return [leaf for inner in dataset_cfg['datasets'] for leaf in leaf_dataset_cfgs(inner)]
    return [dataset_cfg]


def check_supports_audio_swap(dataset_cfg) -> None:
    """Raise :class:`UserInputError` when the dataset type is known not to take ``shuffle_audio``."""
    from icl_av.datasets import BaseAVDataset, SynthAVDataset
    from icl_av.registry import DATASETS
    dataset_type = dataset_cfg.get('type')
    try:
        cls = dataset_type if isinstance(dataset_type, type) else DATASETS.get(dataset_type)
    except Exception:  # unknown names are reported by the runner when it builds the dataset
        cls = None
    if isinstance(cls, type) and not issubclass(cls, (BaseAVDataset, SynthAVDataset)):
        raise UserInputError(f'--shuffle-audio: the test dataset {cls.__name__} does not support the audio-swap '
                             'control (it needs a dataset with audio files, e.g. AVFramesDataset, '
                             'AVVideoDataset or SynthAVDataset)')


def split_title(cfg: Config, args) -> str:
    """The split name shown in the table's title; says when the audio was swapped."""
    split = cfg.get('test_split_name') or cfg.test_dataloader.dataset.get('type', 'test')
    seed = getattr(args, 'shuffle_audio', None)
    if seed is not None:
        split = f"{split} (audio swapped: each frame with another sample's audio, seed {seed})"
    return split


def show_dir_of(runner: Runner):
    """Where the visualization hook saved pictures, if it did."""
    for hook in runner.hooks:
        out_dir = getattr(hook, 'test_out_dir', None)
        if out_dir and getattr(hook, 'enable', True):
            return out_dir if osp.isabs(out_dir) else osp.join(runner.work_dir, runner.timestamp, out_dir)
    return None


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(check_config_path(args.config)), args)
    init_cpu_distributed(cfg)
    register_checkpoint_safe_globals()  # the Runner loads `load_from` / resumes with torch's safe loader
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()

    from mmengine.dist import is_main_process

    from icl_av.evaluation import format_localization_table
    if is_main_process():
        print(format_localization_table(metrics, split_title(cfg, args)))
        if args.out:
            print(f'per-sample results: {args.out}')
        pictures = show_dir_of(runner)
        if pictures:
            print(f'heatmap pictures: {pictures}')
    del runner  # free the model (and its DDP wrapper) while the process group is still up
    close_distributed()


if __name__ == '__main__':
    run_cli(main)
