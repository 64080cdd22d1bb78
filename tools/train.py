"""Train a localizer: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] ...``.

Arguments follow mmpretrain / mmaction2. Multi-GPU and multi-node runs go through
``tools/dist_train.sh`` (torchrun) or ``tools/slurm_train.sh`` (srun) with ``--launcher``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from icl_av.utils import (check_checkpoint_path, check_config_path, close_distributed, init_cpu_distributed,  # noqa: E402
                          register_checkpoint_safe_globals, run_cli)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train an icl_av localizer')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest checkpoint in the work dir if none is given')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision training')
    parser.add_argument('--no-validate', action='store_true', help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate linearly with the total batch size')
    parser.add_argument('--no-pin-memory', action='store_true', help='disable pin_memory in the dataloaders')
    parser.add_argument('--no-persistent-workers', action='store_true',
                        help='disable persistent_workers in the dataloaders')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value pairs, e.g. train_cfg.max_epochs=5 '
        'model.loss.tau=0.05; lists as key="[a,b]"')
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

    if args.amp:
        optim_wrapper = cfg.optim_wrapper
        if optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('AMP is already enabled in the config.')
        else:
            optim_wrapper.type = 'AmpOptimWrapper'
            optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, check_checkpoint_path(args.resume)

    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr = dict(base_batch_size=...)` in the config')
        cfg.auto_scale_lr.enable = True

    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if not loader:
            continue
        if args.no_pin_memory:
            loader['pin_memory'] = False
        if args.no_persistent_workers:
            loader['persistent_workers'] = False
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(check_config_path(args.config))
    cfg = merge_args(cfg, args)
    init_cpu_distributed(cfg)
    register_checkpoint_safe_globals()  # the Runner loads `load_from` / resumes with torch's safe loader
    if 'runner_type' in cfg:  # a custom runner class named by the config
        from mmengine.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()
    del runner  # free the model (and its DDP wrapper) while the process group is still up
    close_distributed()


if __name__ == '__main__':
    run_cli(main)
