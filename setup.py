"""Install icl_av: ``pip install -e . -c requirements/constraints.txt``."""
import os.path as osp

from setuptools import find_packages, setup


def read_requirements(path: str) -> list:
    """Requirement lines of ``path`` (comments and ``-r`` includes skipped)."""
    with open(osp.join(osp.dirname(__file__), path)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


def read_version() -> str:
    """The version string from icl_av/version.py without importing the package."""
    scope: dict = {}
    with open(osp.join(osp.dirname(__file__), 'icl_av', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='icl_av',
    version=read_version(),
    description='Unsupervised audio-visual sound source localization (ICL) on MMEngine',
    long_description=open(osp.join(osp.dirname(__file__), 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools', 'demo', 'projects*')),
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={
        'tests': read_requirements('requirements/tests.txt'),
        'optional': read_requirements('requirements/optional.txt'),
    },
    include_package_data=True,
    zip_safe=False,
)
