"""Train a localizer: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] ...``.

Arguments follow mmpretrain / mmaction2. Multi-GPU and multi-node runs go through
``tools/dist_train.sh`` (torchrun) or ``tools/slurm_train.sh`` (srun) with ``--launcher``.

``--amp`` on an icl_av localizer (any model with the ``amp_dtype`` option) means bf16
autocast of its two towers (``model.amp_dtype='bfloat16'``), with the head, maps, losses
and log-mel kept in fp32 and no loss scaling; where bf16 is not native (a GPU before
Ampere, a CPU without AMX) it refuses in one line instead of running emulated bf16 or
fp16 without a scaler. Other models get MMEngine's ``AmpOptimWrapper``. A config that
puts an ``AmpOptimWrapper`` (fp16 autocast of the whole step with a GradScaler) around
towers that already run their own bf16 autocast is refused too.
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
    parser = argparse.ArgumentParser(description='Train an icl_av localizer')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest checkpoint in the work dir if none is given')
    parser.add_argument('--amp', action='store_true',
                        help="mixed precision: bf16 autocast of an icl_av localizer's towers (model.amp_dtype="
                             "'bfloat16'; refused where bf16 is not native), MMEngine's AmpOptimWrapper for "
                             'other models')
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
        apply_amp_flag(cfg)
    check_precision(cfg)

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


BF16_NAMES = ('bfloat16', 'bf16')


def has_tower_precision(model_cfg) -> bool:
    """Whether the config's model runs its towers in its own autocast (the ``amp_dtype`` option of ``AVLocalizer``)."""
    if 'amp_dtype' in model_cfg:
        return True
    import inspect

    from icl_av.registry import MODELS
    from icl_av.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    model_type = model_cfg.get('type')
    try:
        cls = model_type if isinstance(model_type, type) else MODELS.get(model_type)
    except Exception:  # an unknown type is reported when the runner builds the model
        return False
    if not isinstance(cls, type):
        return False
    from icl_av.models.localizers import AVLocalizer
    return issubclass(cls, AVLocalizer) or 'amp_dtype' in inspect.signature(cls.__init__).parameters


def apply_amp_flag(cfg: Config, device_type: str = None) -> None:
    """``--amp``: bf16 autocast of the towers where bf16 is native, else one-line refusal.

    For a model with the ``amp_dtype`` option the flag sets ``model.amp_dtype='bfloat16'``
    and leaves the optimizer wrapper plain: the towers' autocast keeps the head, the maps,
    the losses and the audio front end in fp32, and bf16 needs no loss scaling. MMEngine's
    ``AmpOptimWrapper`` would instead run the whole step in fp16 autocast under a
    GradScaler, around towers already in bf16. Where bf16 is emulated (a CUDA device
    before Ampere, a CPU without AMX: :func:`icl_av.utils.machine.choose_amp_dtype`) the
    flag is refused. Other models get the ``AmpOptimWrapper`` as in MMEngine's tools.

    Args:
        cfg (Config): The merged config (modified in place).
        device_type (str, optional): Where training will run; defaults to ``'cuda'`` when
            a CUDA device is visible, else ``'cpu'``.

    Raises:
        UserInputError: bf16 is not native on ``device_type``, or the config asks for
            fp16 towers or already has an ``AmpOptimWrapper`` around bf16 towers.
    """
    import torch

    from icl_av.utils.machine import choose_amp_dtype
    optim_wrapper = cfg.optim_wrapper
    if not has_tower_precision(cfg.model):
        if optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('AMP is already enabled in the config.')
        else:
            optim_wrapper.type = 'AmpOptimWrapper'
            optim_wrapper.setdefault('loss_scale', 'dynamic')
        return
    if optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
        raise UserInputError('--amp: the config already has optim_wrapper.type=AmpOptimWrapper; the localizer sets '
                             'its towers\' precision itself (model.amp_dtype): drop --amp or the AmpOptimWrapper')
    if cfg.model.get('amp_dtype') in ('float16', 'fp16'):
        raise UserInputError("--amp: the config sets model.amp_dtype='float16' (fp16 towers without loss scaling); "
                             "--amp means bf16: drop --amp or set model.amp_dtype='bfloat16'")
    device_type = device_type or ('cuda' if torch.cuda.is_available() else 'cpu')
    dtype, reason = choose_amp_dtype('auto', device_type)
    if dtype != 'bfloat16':
        where = reason.replace('fp32 (', '', 1).rstrip(')')
        raise UserInputError(f'--amp: bf16 is not native or not faster than fp32 here ({where}); train without --amp '
                             "(fp32), or force it with --cfg-options model.amp_dtype=bfloat16")
    cfg.model['amp_dtype'] = 'bfloat16'
    print(f"--amp: model.amp_dtype='bfloat16' ({reason}); the head, maps and losses stay fp32, no loss scaling")


def check_precision(cfg: Config) -> None:
    """Refuse an ``AmpOptimWrapper`` in fp16 around towers that already run in bf16.

    Raises:
        UserInputError: the config combines ``optim_wrapper.type='AmpOptimWrapper'`` (fp16
            by default) with ``model.amp_dtype`` ``'auto'`` or bf16.
    """
    optim_wrapper = cfg.get('optim_wrapper') or {}
    if optim_wrapper.get('type', 'OptimWrapper') != 'AmpOptimWrapper':
        return
    if str(optim_wrapper.get('dtype') or 'float16').replace('torch.', '') in BF16_NAMES:
        return
    model = cfg.get('model') or {}
    towers = model.get('amp_dtype')
    if towers == 'auto' or towers in BF16_NAMES:
        raise UserInputError(f"optim_wrapper.type='AmpOptimWrapper' (fp16 with a GradScaler) around towers in "
                             f"model.amp_dtype={towers!r}: the head, maps and losses would run in fp16; use a plain "
                             "OptimWrapper (the towers' bf16 needs no scaler) or set model.amp_dtype=None")


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
