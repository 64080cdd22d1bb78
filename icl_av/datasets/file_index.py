"""The media files of a folder, indexed by stem: one directory listing instead of a stat per sample."""
import os
from typing import Dict, Optional, Sequence


class FileIndex:
    """The files of one folder, indexed by stem, listed once (fast for 100k+ files).

    Args:
        folder (str): Folder to scan (may be missing: then it is empty).
        extensions (Sequence[str]): Allowed lowercase extensions, in order of preference.
    """

    def __init__(self, folder: str, extensions: Sequence[str]):
        self.folder = folder
        self.extensions = tuple(extensions)
        self.files: Dict[str, str] = {}
        self.dirs: Dict[str, str] = {}
        if not os.path.isdir(folder):
            return
        rank = {ext: i for i, ext in enumerate(self.extensions)}
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir():
                    self.dirs[entry.name] = entry.path
                    continue
                stem, ext = os.path.splitext(entry.name)
                ext = ext.lower()
                if ext not in rank:
                    continue
                known = self.files.get(stem)
                if known is None or rank[ext] < rank[os.path.splitext(known)[1].lower()]:
                    self.files[stem] = entry.path

    def find(self, stem: str) -> Optional[str]:
        """Path of ``stem`` with an allowed extension, or ``None``."""
        return self.files.get(stem)

    def find_dir(self, stem: str) -> Optional[str]:
        """Path of the sub-folder named ``stem``, or ``None``."""
        return self.dirs.get(stem)

    def expected(self, stem: str) -> str:
        """The path a user should create for ``stem`` (for error messages)."""
        return os.path.join(self.folder, stem + self.extensions[0])
