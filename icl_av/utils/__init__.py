"""Small shared helpers at the bottom of the package: errors, the CLI door, checkpoint safety, env setup.

Nothing here imports the layers above (datasets, models, ...).
"""
from .checkpoint_safety import register_checkpoint_safe_globals
from .cli import check_checkpoint_path, check_config_path, run_cli
from .dist_env import close_distributed, init_cpu_distributed
from .errors import UserInputError
from .setup_env import register_all_modules

__all__ = [
    'register_checkpoint_safe_globals', 'UserInputError', 'check_checkpoint_path', 'check_config_path', 'run_cli',
    'register_all_modules', 'init_cpu_distributed', 'close_distributed'
]
