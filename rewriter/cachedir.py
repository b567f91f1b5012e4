"""Where dockfix keeps its caches, and how it reads and writes a file there.

The caches live in a per-user directory, never in the repository (black and ruff do the same):
``$DOCKFIX_CACHE_DIR``, else ``$XDG_CACHE_HOME/dockfix``, else ``~/.cache/dockfix``. A cache
inside the repository was repository content: a commit could make it a link that sent dockfix's
writes outside the tree, plant an entry that hid findings, or plant bytes that crashed the decoder.
Here only the user can write, so nothing a repository contains is ever read back as a cache entry.

The directory is created 0700, and it is used only while it is a real directory (not a link),
owned by the user and not writable by anyone else. Files are read with a size cap and without
following links (:mod:`rewriter.safefs`), and written atomically (a new file made with
``O_EXCL|O_NOFOLLOW``, then renamed over the old one). A cache that cannot be read or written is
only a slower run.

Kept apart from :mod:`rewriter.cache` (hashlib, the finding types) so that reading a cached config
costs no imports on the cold path of ``dockfix apply -``.
"""

from __future__ import annotations

import os
import stat

from rewriter import safefs
from rewriter.errors import WriteError
from rewriter.fileio import temp_copy


def user_cache_root() -> str:
    """``$DOCKFIX_CACHE_DIR``, else ``$XDG_CACHE_HOME/dockfix``, else ``~/.cache/dockfix``."""
    explicit = os.environ.get("DOCKFIX_CACHE_DIR")
    if explicit:
        return os.path.abspath(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(base), "dockfix")


def fnv(text: str) -> str:
    """A 64-bit FNV-1a hash of ``text`` in hex: a file name for a path. Not a security measure
    (every entry also stores what it was made from and is checked against it); hashlib costs
    about 3 ms to import on the cold path."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8", "surrogateescape"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def cache_directory(root: str) -> str:
    """The cache directory of the project at ``root``: one per project root path, inside the
    user's cache directory (``<name>-<hash of the path>``, so two checkouts never share one)."""
    root = os.path.abspath(root)
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in os.path.basename(root))[:40] or "root"
    return os.path.join(user_cache_root(), "projects", f"{name}-{fnv(root)}")


def _trusted(directory: str, follow: bool = False) -> bool:
    """A real directory, owned by this user, that no one else can write into."""
    try:
        st = os.stat(directory) if follow else os.lstat(directory)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_mode & 0o022:
        return False
    geteuid = getattr(os, "geteuid", None)
    return geteuid is None or st.st_uid == geteuid()


def _trusted_path(path: str) -> bool:
    """Every directory from the user's cache root down to ``path``'s parent is trusted."""
    root = user_cache_root()
    directory = os.path.dirname(os.path.abspath(path))
    if not (directory == root or directory.startswith(root + os.sep)):
        return False
    while True:
        if not _trusted(directory, follow=directory == root):  # the root may be a link the user made
            return False
        if directory == root:
            return True
        directory = os.path.dirname(directory)


def _make_directories(directory: str) -> None:
    """Create ``directory`` (below the user's cache root) and the levels above it, each 0700."""
    root = user_cache_root()
    os.makedirs(os.path.dirname(root), exist_ok=True)
    levels = [root]
    rel = os.path.relpath(directory, root)
    if rel != ".":
        for part in rel.split(os.sep):
            levels.append(os.path.join(levels[-1], part))
    for level in levels:
        try:
            os.mkdir(level, 0o700)
        except FileExistsError:
            pass


def read_cache_file(path: str, limit: int) -> bytes | None:
    """The content of a cache file, or None: missing, too large, a link, not a regular file, or
    in a directory that is not the user's own."""
    if not _trusted_path(path):
        return None
    try:
        return safefs.read_bytes(path, user_cache_root(), limit)
    except OSError:
        return None


def write_cache_file(path: str, data: bytes) -> None:
    """Write the cache file ``path`` (below :func:`user_cache_root`) atomically; a cache that
    cannot be written is only a slower next run."""
    try:
        _make_directories(os.path.dirname(path))
        if not _trusted_path(path):
            return
        tmp = temp_copy(path, data)  # mkstemp: O_EXCL|O_NOFOLLOW, mode 0600
        try:
            os.replace(tmp, path)  # a link at ``path`` is replaced, never written through
        except OSError:
            os.unlink(tmp)
            raise
    except (OSError, WriteError):
        pass
