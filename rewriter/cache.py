"""A per-project cache of check results, so an unchanged file is not parsed again.

Like ruff's and black's: one file per (dockfix version, options) under ``.dockfix_cache/`` at the
project root, mapping each path to the SHA-256 of the content it was checked with and the
findings. A hit needs the same content, so edits, checkouts and touch-without-change all behave.
The file is written atomically; a corrupt or foreign cache is ignored, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import pickle

from rewriter import __version__
from rewriter.cachedir import cache_directory, write_cache_file
from rewriter.deps import Signature, unchanged
from rewriter.engine import Finding, Options

FORMAT = 2  # bumped whenever what is pickled changes shape (2: records are slotted classes)
ROOT_MARKERS = (".git", "pyproject.toml", "dockfix.toml", ".dockfix.toml")


def project_root(start: str) -> str:
    """The closest directory at or above ``start`` with a VCS or config marker, else ``start``."""
    current = os.path.abspath(start)
    while True:
        if any(os.path.exists(os.path.join(current, m)) for m in ROOT_MARKERS):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return os.path.abspath(start)
        current = parent


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Cache:
    def __init__(self, path: str) -> None:
        self.path = path
        # path -> (content digest, findings, the other files the result depended on)
        self.entries: dict[str, tuple[str, list[Finding], dict[str, Signature]]] = {}
        self.dirty = False

    @classmethod
    def open(cls, root: str, kind_options: str) -> Cache:
        key = digest(f"{__version__}\0{FORMAT}\0{kind_options}".encode())[:16]
        directory = cache_directory(root)
        path = os.path.join(directory, __version__, f"{key}.pickle")
        cache = cls(path)
        try:
            with open(path, "rb") as fh:
                loaded = pickle.load(fh)
            if isinstance(loaded, dict):
                cache.entries = loaded
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            pass
        return cache

    def get(self, path: str, data: bytes) -> list[Finding] | None:
        """The cached findings, if the content and every file they depended on are unchanged."""
        entry = self.entries.get(os.path.abspath(path))
        if entry is None or len(entry) != 3 or entry[0] != digest(data) or not unchanged(entry[2]):
            return None
        return entry[1]

    def put(self, path: str, data: bytes, findings: list[Finding],
            depends: dict[str, Signature] | None = None) -> None:
        key, hashed = os.path.abspath(path), digest(data)
        recorded = depends or {}
        current = self.entries.get(key)
        if current is not None and current[0] == hashed and len(current) == 3 and current[2] == recorded:
            return  # a hit, or the same result again: nothing to write
        self.entries[key] = (hashed, findings, recorded)
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        root = os.path.dirname(os.path.dirname(self.path))
        write_cache_file(root, os.path.relpath(self.path, root),
                         pickle.dumps(self.entries, protocol=pickle.HIGHEST_PROTOCOL))


def options_key(options: Options) -> str:
    return repr(options)
