"""The package's imports flow one way (docs ARCHITECTURE "Rooms") and form no cycle.

Layers, low to high: utils / structures / registry → datasets / models / evaluation /
synthav → visualization / engine → apis. A module may import its own layer or lower
ones. Every ``import`` statement counts, also those inside functions (a lazy import that
runs upward is still an upward dependency). Importing ``icl_av.a.b`` runs the package
``icl_av.a`` first, so it counts as an import of that package too (that is how a cycle
through an ``__init__`` shows up), except for the importer's own packages.
"""
import ast
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / 'icl_av'

LAYERS = {
    'icl_av': 0, 'version': 0, 'utils': 0, 'structures': 0, 'registry': 0,
    'datasets': 1, 'models': 1, 'evaluation': 1, 'synthav': 1, 'stampsav': 1,
    'visualization': 2, 'engine': 2,
    'apis': 3,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def package_modules() -> Dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_ROOT.rglob('*.py'))}


def layer_of(module: str) -> int:
    room = module.split('.')[1] if '.' in module else module
    if room not in LAYERS:
        raise AssertionError(f'{module}: its room {room!r} has no layer; add it to LAYERS (and ARCHITECTURE.md)')
    return LAYERS[room]


def imported_modules(module: str, path: Path, modules: Dict[str, Path]) -> Iterator[Tuple[int, str]]:
    """``(line, icl_av module)`` for every import of the package in ``path``."""
    is_package = path.name == '__init__.py'
    tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split('.')
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                origin = '.'.join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ''
            # `from a import b` imports the module a.b when there is one, else a name from a.
            targets = [f'{origin}.{alias.name}' if f'{origin}.{alias.name}' in modules else origin
                       for alias in node.names]
        else:
            continue
        for target in targets:
            if target == 'icl_av' or target.startswith('icl_av.'):
                yield node.lineno, target


def import_graph() -> Dict[str, Set[str]]:
    """``{module: modules its import statements run}``, packages' ``__init__`` included."""
    modules = package_modules()
    graph = {}
    for module, path in modules.items():
        edges = set()
        for _, target in imported_modules(module, path, modules):
            parts = target.split('.')
            for depth in range(2, len(parts) + 1):  # the packages on the way, then the module
                step = '.'.join(parts[:depth])
                if step in modules and not (module + '.').startswith(step + '.') and step != module:
                    edges.add(step)
        graph[module] = edges
    return graph


def test_the_layer_map_knows_every_room():
    for module in package_modules():
        layer_of(module)


def test_no_module_imports_a_higher_layer():
    modules = package_modules()
    upward = []
    for module, path in modules.items():
        for line, target in sorted(set(imported_modules(module, path, modules))):
            if layer_of(target) > layer_of(module):
                upward.append(f'{osp.relpath(path, PACKAGE_ROOT.parent)}:{line}: {module} (layer '
                              f'{layer_of(module)}) imports {target} (layer {layer_of(target)})')
    assert not upward, 'imports that run upward:\n' + '\n'.join(upward)


def find_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or ``[]``."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def test_the_import_graph_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert not cycle, 'import cycle: ' + ' -> '.join(cycle)


@pytest.mark.parametrize('graph, has_cycle', [
    ({'a': {'b'}, 'b': {'c'}, 'c': set()}, False),
    ({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}, True),
    ({'a': {'a'}}, True),
])
def test_find_cycle_finds_cycles(graph, has_cycle):
    assert bool(find_cycle(graph)) == has_cycle


def test_upward_and_package_imports_are_seen(tmp_path, monkeypatch):
    # A fake package: a bottom-layer module importing a higher one through a relative
    # import, and a cycle that only exists through a package's __init__.
    root = tmp_path / 'icl_av'
    (root / 'utils').mkdir(parents=True)
    (root / 'datasets').mkdir()
    (root / 'synthav').mkdir()
    (root / '__init__.py').write_text('')
    (root / 'utils' / '__init__.py').write_text('')
    (root / 'utils' / 'helper.py').write_text('def f():\n    from ..apis import run\n')
    (root / 'datasets' / '__init__.py').write_text('from .adapter import A\n')
    (root / 'datasets' / 'adapter.py').write_text('from icl_av.synthav.cache import C\n')
    (root / 'datasets' / 'errors.py').write_text('')
    (root / 'synthav' / '__init__.py').write_text('')
    (root / 'synthav' / 'cache.py').write_text('from icl_av.datasets.errors import E\n')
    monkeypatch.setattr(sys.modules[__name__], 'PACKAGE_ROOT', root)
    modules = package_modules()
    found = list(imported_modules('icl_av.utils.helper', root / 'utils' / 'helper.py', modules))
    assert found == [(2, 'icl_av.apis')]
    cycle = find_cycle(import_graph())
    assert 'icl_av.datasets' in cycle and 'icl_av.synthav.cache' in cycle
