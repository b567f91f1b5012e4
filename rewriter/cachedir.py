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
    from rewriter.errors import WriteError
    from rewriter.runner import temp_copy

    path = os.path.join(root, name)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        gitignore = os.path.join(root, ".gitignore")
        if not os.path.exists(gitignore):
            with open(gitignore, "w", encoding="utf-8") as fh:
                fh.write("# created by dockfix\n*\n")
        tmp = temp_copy(path, data)
        try:
            os.replace(tmp, path)
        except OSError:
            os.unlink(tmp)
            raise
    except (OSError, WriteError):
        pass
