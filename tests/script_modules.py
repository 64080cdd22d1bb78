"""Import a repository script (tools/, demo/) as a module, so tests can call its functions."""
import importlib.util


def load_script(path: str, name: str):
    """The module defined by the Python file ``path``, imported under ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
