"""The README and the pages under ``docs/`` name only what a clone has.

Every repository path they mention (``configs/...``, ``tools/...``, markdown links, config file names) must
exist, every link's ``#anchor`` must be a heading of its target, and the product never speaks of its own history
or of paths outside the repository.
"""
import glob
import itertools
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP_DIRS = ('configs', 'tools', 'icl_av', 'projects', 'docs', 'demo', 'tests', 'requirements', '.ci')
PATH_RE = re.compile(r'(?<![\w./-])((?:%s)/[\w./{},*…-]*[\w*}])' % '|'.join(re.escape(d) for d in TOP_DIRS))
LINK_RE = re.compile(r'\]\(([^)\s]+)\)')
CONFIG_NAME_RE = re.compile(r'(?<![\w/.-])((?:icl|avc|ezvsl|lvs)_[\w.-]+?\.py)\b')
HISTORY_RE = re.compile(r'issue [0-9]|session|\.\./shared', re.IGNORECASE)
PRODUCT = ('README.md', 'CHANGELOG.md', 'docs', 'configs', 'icl_av', 'tools', 'projects', 'demo')


def _pages():
    pages = ['README.md'] + sorted(glob.glob(os.path.join(REPO, 'docs', '*.md')))
    pages += sorted(glob.glob(os.path.join(REPO, 'configs', '**', '*.md'), recursive=True))
    pages += sorted(glob.glob(os.path.join(REPO, 'projects', '**', '*.md'), recursive=True))
    return [os.path.relpath(os.path.join(REPO, p), REPO) for p in pages]


def _expand_braces(path):
    """``a/{b,c}_d.py`` -> ``['a/b_d.py', 'a/c_d.py']`` (one or more brace groups)."""
    parts = re.split(r'\{([^{}]*)\}', path)
    choices = [[p] if i % 2 == 0 else p.split(',') for i, p in enumerate(parts)]
    return [''.join(c) for c in itertools.product(*choices)]


def _exists(path, page_dir=REPO):
    """True when the path exists from the repository root or, for a project's page, from the page's folder."""
    if '…' in path:
        return True  # an elided name, e.g. `…_r18_1xb32-9e_synthav64.py`
    return all(glob.glob(os.path.join(REPO, p)) or glob.glob(os.path.join(page_dir, p))
               for p in _expand_braces(path.rstrip('.,;:')))


def _slug(heading):
    """GitHub's anchor for a markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def _anchors(md_file):
    with open(md_file, encoding='utf-8') as f:
        text = f.read()
    text = re.sub(r'```.*?```', '', text, flags=re.DOTALL)
    return {_slug(m.group(1)) for m in re.finditer(r'^#+\s+(.*)$', text, flags=re.MULTILINE)}


def _read(page):
    with open(os.path.join(REPO, page), encoding='utf-8') as f:
        return f.read()


def _config_names():
    names = set()
    for root in ('configs', 'projects'):
        for path in glob.glob(os.path.join(REPO, root, '**', '*.py'), recursive=True):
            names.add(os.path.basename(path))
    return names


@pytest.mark.parametrize('page', _pages())
def test_every_named_path_exists(page):
    text = _read(page)
    page_dir = os.path.dirname(os.path.join(REPO, page))
    missing = sorted({p for p in PATH_RE.findall(text) if not _exists(p, page_dir)})
    assert not missing, f'{page} names paths the repository does not have: {missing}'


@pytest.mark.parametrize('page', _pages())
def test_every_config_name_exists(page):
    known = _config_names()
    named = set()
    for name in CONFIG_NAME_RE.findall(_read(page)):
        named.update(_expand_braces(name))
    missing = sorted(n for n in named if n not in known and '…' not in n)
    assert not missing, f'{page} names configs that do not exist: {missing}'


@pytest.mark.parametrize('page', _pages())
def test_every_link_resolves(page):
    base = os.path.dirname(os.path.join(REPO, page))
    broken = []
    for target in LINK_RE.findall(_read(page)):
        if re.match(r'[a-z]+://', target) or target.startswith('mailto:'):
            continue
        path, _, anchor = target.partition('#')
        full = os.path.normpath(os.path.join(base, path)) if path else os.path.join(REPO, page)
        if not full.startswith(REPO) or not os.path.exists(full):
            broken.append(target)
        elif anchor and full.endswith('.md') and anchor not in _anchors(full):
            broken.append(target)
    assert not broken, f'{page} has broken links: {broken}'


def test_readme_is_a_front_door():
    assert len(_read('README.md').splitlines()) <= 250


def test_the_product_speaks_of_itself_alone():
    hits = []
    for top in PRODUCT:
        full = os.path.join(REPO, top)
        files = [full] if os.path.isfile(full) else [
            p for p in glob.glob(os.path.join(full, '**', '*'), recursive=True)
            if os.path.isfile(p) and p.endswith(('.py', '.md', '.sh', '.txt'))]
        for path in files:
            with open(path, encoding='utf-8', errors='replace') as f:
                for no, line in enumerate(f, 1):
                    if HISTORY_RE.search(line):
                        hits.append(f'{os.path.relpath(path, REPO)}:{no}: {line.strip()[:80]}')
    assert not hits, 'history or outside paths in the product:\n' + '\n'.join(hits)


def test_the_checks_catch_what_they_look_for(tmp_path):
    assert not _exists('configs/icl/no_such_config.py')
    assert _exists('configs/icl/*.py')
    assert _expand_braces('a/{b,c}_d.py') == ['a/b_d.py', 'a/c_d.py']
    assert _slug("Precision: `amp_dtype='auto'`") == 'precision-amp_dtypeauto'
    assert _slug('Multi-process / multi-GPU') == 'multi-process--multi-gpu'
    assert HISTORY_RE.search('as reported in Issue 13')
    assert HISTORY_RE.search('python ../shared/benchmarks/x.py')
