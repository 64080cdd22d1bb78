"""Small shared utilities: audio front ends, checkpoint safety, the CLI door, env setup."""
from .audio_frontends import LinearSTFTFrontend, LogMelFrontend
from .checkpoint_safety import register_checkpoint_safe_globals
from .cli import UserInputError, check_checkpoint_path, check_config_path, run_cli
from .dist_env import init_cpu_distributed
from .setup_env import register_all_modules

__all__ = [
    'LogMelFrontend', 'LinearSTFTFrontend', 'register_checkpoint_safe_globals', 'UserInputError',
    'check_checkpoint_path', 'check_config_path', 'run_cli', 'register_all_modules', 'init_cpu_distributed'
]
