"""Checkpoints that a kill at any moment cannot leave half-written, and a resume that only picks complete ones.

Why: MMEngine's ``CheckpointHook`` deletes the oldest kept checkpoint *before* it writes the
new one, and ``torch.save`` writes straight into the final file. A run killed (SIGKILL, an
out-of-memory kill, a pre-empted node) while ``epoch_2.pth`` was being written, with
``max_keep_ckpts=1``, is left with a truncated ``epoch_2.pth``, no ``epoch_1.pth``, and a
``last_checkpoint`` naming the deleted file: nothing to resume from. With more checkpoints
kept, the truncated one still sits next to the good ones under a good name.

:class:`AtomicCheckpointHook` keeps the guarantee "a kill at any moment loses at most the
epoch in progress":

1. every checkpoint (the periodic ones and the ``save_best`` ones) is written to a hidden
   temporary file in the same folder (``.epoch_2.pth.incomplete``), flushed to disk
   (``fsync``) and renamed into place (``os.replace``, atomic within a file system), so a
   file under a checkpoint's name is always complete;
2. ``last_checkpoint`` is then replaced the same way, so it only ever names a complete file;
3. only then are the checkpoints beyond ``max_keep_ckpts`` (and the previous best one)
   removed;
4. on ``resume=True`` without a file (``tools/train.py --resume``), ``last_checkpoint`` is
   followed when it names a complete checkpoint; when it names a missing or unreadable file
   (a work dir written by the plain hook, a file removed by hand), the newest complete
   checkpoint of the work dir is resumed instead, with a one-line warning. Temporary files
   are never resumed, and the ones a kill left behind are removed when training starts.

Arguments and everything else are MMEngine's ``CheckpointHook``'s. Checkpoints that go to a
remote storage backend (``out_dir='s3://...'``) cannot be renamed atomically and are written
as the parent hook writes them.
"""
import os
import os.path as osp
import re
import shutil
import zipfile
from typing import List, Optional, Tuple

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from icl_av.registry import HOOKS
from icl_av.utils.errors import UserInputError

TEMP_PREFIX = '.'
TEMP_SUFFIX = '.incomplete'
LAST_CHECKPOINT = 'last_checkpoint'


def temporary_name(filename: str) -> str:
    """The hidden name a checkpoint is written under until it is complete."""
    return f'{TEMP_PREFIX}{filename}{TEMP_SUFFIX}'


def _fsync(path: str) -> None:
    """Flush a written file, or a folder's entries (a rename), to disk.

    A folder that cannot be opened, or a file system that cannot flush (some network
    mounts), is left to its own.
    """
    try:
        fd = os.open(path or '.', os.O_RDONLY)
    except OSError:
        if osp.isdir(path or '.'):
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish_file(temp_path: str, path: str) -> None:
    """Move a fully written ``temp_path`` to ``path`` atomically, both flushed to disk first."""
    _fsync(temp_path)
    os.replace(temp_path, path)
    _fsync(osp.dirname(path))


def write_text_atomically(path: str, text: str) -> None:
    """Replace the text file ``path`` by ``text`` so that a reader sees the old or the new text, never a part."""
    temp_path = osp.join(osp.dirname(path), temporary_name(osp.basename(path)))
    with open(temp_path, 'w') as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp_path, path)
    _fsync(osp.dirname(path))


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a checkpoint file that was written to its end.

    A torch zip checkpoint ends with the archive's central directory, so a truncated one
    cannot be opened as a zip archive; a complete one lists its ``data.pkl``. Files in torch's
    legacy (non-zip) format are accepted when not empty: their completeness cannot be read
    without loading them.
    """
    if not osp.isfile(path) or osp.getsize(path) == 0:
        return False
    try:
        with open(path, 'rb') as handle:
            head = handle.read(4)
        if head != b'PK\x03\x04':
            return head[:1] == b'\x80'  # torch's legacy pickle format
        with zipfile.ZipFile(path) as archive:
            return any(name == 'data.pkl' or name.endswith('/data.pkl') for name in archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _step_pattern(filename_tmpl: str) -> 're.Pattern':
    """A regex matching the names ``filename_tmpl`` gives, capturing the step."""
    before, _, after = filename_tmpl.partition('{}')
    return re.compile(f'^{re.escape(before)}(\\d+){re.escape(after)}$')


def newest_complete_checkpoint(folders: List[str], filename_tmpl: str = 'epoch_{}.pth') -> Optional[str]:
    """The complete checkpoint with the highest step among ``folders``' files named by ``filename_tmpl``.

    Only periodic checkpoints count (``epoch_N.pth``): they hold the optimizer and scheduler
    states a resume needs, which the ``best_*`` ones do not. Temporary files never match.
    """
    pattern = _step_pattern(filename_tmpl)
    found = []
    for folder in dict.fromkeys(f for f in folders if f and osp.isdir(f)):
        for name in os.listdir(folder):
            match = pattern.match(name)
            if match:
                found.append((int(match.group(1)), osp.join(folder, name)))
    for _, path in sorted(found, reverse=True):
        if is_complete_checkpoint(path):
            return path
    return None


def find_resume_checkpoint(work_dir: str, filename_tmpl: str = 'epoch_{}.pth',
                           out_dir: Optional[str] = None) -> Tuple[Optional[str], Optional[str]]:
    """The checkpoint an automatic resume of ``work_dir`` should load, and a warning when it is not the named one.

    ``work_dir/last_checkpoint`` is followed when it names a complete checkpoint. When it names a
    missing or unreadable file, or is absent while checkpoints exist, the newest complete
    checkpoint (:func:`newest_complete_checkpoint`) of the named file's folder, ``out_dir`` and
    ``work_dir`` is chosen instead.

    Args:
        work_dir (str): The run's work dir (holds ``last_checkpoint``).
        filename_tmpl (str): The checkpoints' name template (the hook's ``filename_tmpl``).
        out_dir (str, optional): Where the checkpoints are written, when not ``work_dir``.

    Returns:
        tuple: ``(path or None, one-line warning or None)``. ``(None, None)``: nothing to
        resume (a fresh run); ``(None, warning)``: ``last_checkpoint`` exists but no complete
        checkpoint does, so training starts from the beginning.
    """
    record = osp.join(work_dir, LAST_CHECKPOINT)
    named = None
    if osp.isfile(record):
        try:
            with open(record) as handle:
                named = handle.read().strip() or None
        except (OSError, UnicodeDecodeError) as error:
            raise UserInputError(f'{record}: cannot be read to resume ({error})') from None
    if named and ('://' in named or is_complete_checkpoint(named)):
        return named, None  # a remote checkpoint (s3://, ...) cannot be checked here: MMEngine loads it
    folders = [osp.dirname(named) if named else None, out_dir, work_dir]
    found = newest_complete_checkpoint(folders, filename_tmpl)
    if named is None and not osp.isfile(record):
        if found is None:
            return None, None
        return found, f'{record} is missing; resuming from the newest complete checkpoint {found}'
    problem = 'is missing' if named and not osp.exists(named) else 'is incomplete or unreadable'
    named_text = f'names {named}, which {problem}' if named else 'is empty'
    if found is None:
        return None, (f'{record} {named_text}, and no complete checkpoint is left in {work_dir}: training starts '
                      'from the beginning')
    return found, f'{record} {named_text}; resuming from the newest complete checkpoint {found}'


@HOOKS.register_module()
@HOOKS.register_module(name='CheckpointHook')
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` whose checkpoints are complete or absent, never half-written.

    Also registered in icl_av's scope as ``'CheckpointHook'``: a config under
    ``default_scope='icl_av'`` that writes ``dict(type='CheckpointHook', ...)`` gets this hook,
    with the same arguments and the same files, so the guarantee does not hang on a type
    string; ``type='mmengine.CheckpointHook'`` still reaches the plain one. See the module
    docstring for the order of writes and what a resume picks.
    """

    # ---- resume: only complete checkpoints ----------------------------------------------------
    def before_run(self, runner) -> None:
        """On an automatic resume, choose a complete checkpoint before the runner loads one."""
        super().before_run(runner)
        if not getattr(runner, '_resume', False) or runner._load_from is not None or runner._has_loaded:
            return
        out_dir = None
        if self.out_dir is not None:
            if '://' in str(self.out_dir):
                return  # remote checkpoints: MMEngine's resume, as written by the parent hook
            out_dir = osp.join(str(self.out_dir), osp.basename(runner.work_dir.rstrip(osp.sep)))
        path, warning = find_resume_checkpoint(runner.work_dir, self.filename_tmpl, out_dir)
        if warning:
            runner.logger.warning(f'AtomicCheckpointHook: {warning}')
        if path is not None:
            runner.logger.info(f'Resuming from {path}')
            runner._load_from = path
        elif warning:
            runner._resume = False  # last_checkpoint leads nowhere: a fresh start, not MMEngine's "not found"

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self._atomic() and is_main_process() and osp.isdir(self.out_dir):
            for name in os.listdir(self.out_dir):
                if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                    os.remove(osp.join(self.out_dir, name))  # left by a run killed while writing

    # ---- writing --------------------------------------------------------------------------------
    def _atomic(self) -> bool:
        """Whether checkpoints go to a local folder, where a rename is atomic."""
        backend = getattr(self, 'file_backend', None)
        return isinstance(getattr(backend, 'client', backend), LocalBackend)

    def _write(self, runner, filename: str, **kwargs) -> None:
        """``runner.save_checkpoint`` into a temporary file, then renamed to ``filename`` (on the main process)."""
        temp = temporary_name(filename)
        temp_path = osp.join(self.out_dir, temp)
        try:
            runner.save_checkpoint(self.out_dir, temp, self.file_client_args, backend_args=self.backend_args,
                                   **kwargs)
            if is_main_process():
                publish_file(temp_path, osp.join(self.out_dir, filename))
        except BaseException:
            if is_main_process() and osp.lexists(temp_path):
                os.remove(temp_path)
            raise

    def _remove(self, runner, path: str, what: str = '') -> None:
        """Remove an outdated checkpoint (a file, or a folder for DeepSpeed) on the main process."""
        if not is_main_process():
            return
        if osp.isfile(path):
            os.remove(path)
        elif osp.isdir(path):
            shutil.rmtree(path)
        else:
            return
        if what:
            runner.logger.info(f'The previous {what} {path} is removed')

    def _save_checkpoint_with_step(self, runner, step, meta):
        if not self._atomic():
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = osp.join(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._write(runner, filename, save_optimizer=self.save_optimizer,
                    save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch, **self.args)
        if not is_main_process():
            return
        write_text_atomically(osp.join(runner.work_dir, LAST_CHECKPOINT), self.last_ckpt)
        for old_step in outdated:
            old = osp.join(self.out_dir, self.filename_tmpl.format(old_step))
            if old != self.last_ckpt:
                self._remove(runner, old)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self.save_best:
            return
        if not self._atomic():
            return super()._save_best_checkpoint(runner, metrics)
        step = runner.epoch if self.by_epoch else runner.iter
        unit = 'epoch' if self.by_epoch else 'iter'
        ckpt_filename = self.filename_tmpl.format(step)
        meta = dict(epoch=runner.epoch, iter=runner.iter)
        if 'auto' in self.key_indicators:
            self._init_rule(self.rules, [list(metrics.keys())[0]])

        single = len(self.key_indicators) == 1
        updated = False
        for key_indicator, rule in zip(self.key_indicators, self.rules):
            score = metrics[key_indicator]
            score_key = 'best_score' if single else f'best_score_{key_indicator}'
            path_key = 'best_ckpt' if single else f'best_ckpt_{key_indicator}'
            previous = self.best_ckpt_path if single else self.best_ckpt_path_dict[key_indicator]
            if score_key in runner.message_hub.runtime_info:
                best = runner.message_hub.get_info(score_key)
            else:
                best = self.init_value_map[rule]
            if score is None or not self.is_better_than[key_indicator](score, best):
                continue
            updated = True
            runner.message_hub.update_info(score_key, score)
            name = f'best_{key_indicator}_{ckpt_filename}'.replace('/', '_')
            path = osp.join(self.out_dir, name)
            if single:
                self.best_ckpt_path = path
            else:
                self.best_ckpt_path_dict[key_indicator] = path
            runner.message_hub.update_info(path_key, path)
            self._write(runner, name, save_optimizer=False, save_param_scheduler=False, meta=dict(meta),
                        by_epoch=False)
            if previous and previous != path:
                self._remove(runner, previous, 'best checkpoint')
            runner.logger.info(f'The best checkpoint with {score:0.4f} {key_indicator} at {step} {unit} is saved '
                               f'to {name}.')

        # The periodic checkpoint of this step was saved before this validation: save it again so the best
        # score and path in its message hub are the current ones (a resumed run then replaces the right file).
        if updated and self.last_ckpt is not None:
            self._save_checkpoint_with_step(runner, step, dict(meta))
