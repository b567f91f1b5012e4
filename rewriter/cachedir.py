"""Where dockfix keeps its caches, and how it writes a file there.

Kept apart from :mod:`rewriter.cache` (hashlib, the finding types) so that reading a cached config costs no
imports on the cold path of ``dockfix apply -``.
"""

from __future__ import annotations

import os

CACHE_DIR = ".dockfix_cache"


def cache_directory(root: str) -> str:
    """The cache directory of the project at ``root``; $DOCKFIX_CACHE_DIR overrides it."""
    return os.environ.get("DOCKFIX_CACHE_DIR") or os.path.join(root, CACHE_DIR)


def write_cache_file(root: str, name: str, data: bytes) -> None:
    """Write ``root/name`` atomically, with a ``.gitignore`` of ``*`` in ``root`` (the cache
    directory); a cache that cannot be written is only a slower next run."""
    import tempfile

    path = os.path.join(root, name)
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        gitignore = os.path.join(root, ".gitignore")
        if not os.path.exists(gitignore):
            with open(gitignore, "w", encoding="utf-8") as fh:
                fh.write("# created by dockfix\n*\n")
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass
