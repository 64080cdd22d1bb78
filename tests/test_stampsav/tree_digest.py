"""What StampsAV's byte-identity tests compare: the SHA-256 of every file of a built tree."""
import hashlib
import os


def tree_digest(root):
    """``{relative path: sha256}`` of every file under ``root``."""
    digest = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, 'rb') as handle:
                digest[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
    return digest
