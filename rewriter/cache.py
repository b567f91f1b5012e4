"""A per-project cache of check results, so an unchanged file is not parsed again.

Like ruff's: one file per (dockfix version, options) under ``.dockfix_cache/`` at the project
root, mapping each path to the SHA-256 of the content it was checked with and the findings. A
hit needs the same content, so edits, checkouts and touch-without-change all behave. The file is
written atomically; a corrupt or foreign cache is ignored, never trusted.

The cache lies inside the repository, where anyone who can commit can put a file, so it is not a
pickle (loading one can run code). It is ``marshal`` data of plain values only, and findings are
rebuilt from it by :func:`decode`, which accepts nothing but those values and the record and enum
types named in ``_RECORDS`` and ``_ENUMS``.
"""

from __future__ import annotations

import hashlib
import marshal
import os

from rewriter import __version__
from rewriter.cachedir import cache_directory, write_cache_file
from rewriter.deps import Signature, unchanged
from rewriter.edits import Applicability, Edit, Fix, Intent
from rewriter.engine import Finding, Options
from rewriter.model import Severity
from rewriter.record import Record

FORMAT = 3  # bumped whenever the stored shape changes (3: marshal of tagged plain values)
ROOT_MARKERS = (".git", "pyproject.toml", "dockfix.toml", ".dockfix.toml")

_RECORDS: dict[str, type[Record]] = {cls.__name__: cls for cls in (Finding, Fix, Edit, Intent)}
_ENUMS: dict[str, type[Severity] | type[Applicability]] = {"Severity": Severity, "Applicability": Applicability}
_PLAIN = (str, int, float, bool, bytes, type(None))
# Every tuple in the stored data is tagged, so data can never pass for a record.
_TUPLE, _RECORD, _ENUM = "\0tuple", "\0record", "\0enum"


def encode(value: object) -> object:
    """``value`` as plain data for marshal; ValueError for anything the cache does not know."""
    if isinstance(value, Record):
        name = type(value).__name__
        if _RECORDS.get(name) is not type(value):
            raise ValueError(f"cannot cache a {name}")
        return (_RECORD, name, [encode(v) for v in value._values()])
    if isinstance(value, (Severity, Applicability)):
        return (_ENUM, type(value).__name__, value.value)
    if type(value) in _PLAIN:  # exact types: marshal cannot write subclasses
        return value
    if type(value) is tuple:
        return (_TUPLE, [encode(v) for v in value])
    if type(value) is list:
        return [encode(v) for v in value]
    if type(value) is dict:
        return {_plain(k): encode(v) for k, v in value.items()}
    if type(value) is frozenset:
        return frozenset(_plain(v) for v in value)
    raise ValueError(f"cannot cache a {type(value).__name__}")


def decode(value: object) -> object:
    """The inverse of :func:`encode`; ValueError for anything it would not have produced.

    marshal builds only exact types, so the isinstance checks below see no subclasses.
    """
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): decode(v) for k, v in value.items()}
    if isinstance(value, frozenset):
        return frozenset(_plain(v) for v in value)
    if isinstance(value, tuple) and value:
        tag = value[0]
        if tag == _TUPLE and len(value) == 2 and isinstance(value[1], list):
            return tuple(decode(v) for v in value[1])
        if tag == _RECORD and len(value) == 3 and value[1] in _RECORDS and isinstance(value[2], list):
            try:
                return _RECORDS[value[1]](*[decode(v) for v in value[2]])
            except TypeError as err:  # the wrong number of fields
                raise ValueError(str(err)) from None
        if tag == _ENUM and len(value) == 3 and value[1] in _ENUMS:
            return _ENUMS[value[1]](value[2])
    raise ValueError(f"not cache data: {type(value).__name__}")


def _plain(value: object) -> object:
    if type(value) not in _PLAIN:
        raise ValueError(f"not cache data: {type(value).__name__}")
    return value


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
        # path -> (content digest, encoded findings, the other files the result depended on)
        self.entries: dict[str, tuple[str, object, dict[str, Signature]]] = {}
        self.dirty = False

    @classmethod
    def open(cls, root: str, kind_options: str) -> Cache:
        key = digest(f"{__version__}\0{FORMAT}\0{kind_options}".encode())[:16]
        path = os.path.join(cache_directory(root), __version__, f"{key}.marshal")
        cache = cls(path)
        try:
            with open(path, "rb") as fh:
                loaded = marshal.load(fh)
        except (OSError, EOFError, ValueError, TypeError):
            return cache
        if isinstance(loaded, dict) and all(_well_formed(k, v) for k, v in loaded.items()):
            cache.entries = loaded
        return cache

    def get(self, path: str, data: bytes) -> list[Finding] | None:
        """The cached findings, if the content and every file they depended on are unchanged."""
        entry = self.entries.get(os.path.abspath(path))
        if entry is None or entry[0] != digest(data) or not unchanged(entry[2]):
            return None
        try:
            findings = decode(entry[1])
        except ValueError:
            return None
        if not isinstance(findings, list) or not all(isinstance(f, Finding) for f in findings):
            return None
        return findings

    def put(self, path: str, data: bytes, findings: list[Finding],
            depends: dict[str, Signature] | None = None) -> None:
        key, hashed = os.path.abspath(path), digest(data)
        recorded = depends or {}
        current = self.entries.get(key)
        if current is not None and current[0] == hashed and current[2] == recorded:
            return  # a hit, or the same result again: nothing to write
        try:
            encoded = encode(findings)
        except ValueError:
            return  # something the cache cannot hold: the file is simply checked next time
        self.entries[key] = (hashed, encoded, recorded)
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        root = os.path.dirname(os.path.dirname(self.path))
        write_cache_file(root, os.path.relpath(self.path, root), marshal.dumps(self.entries))


def _well_formed(key: object, entry: object) -> bool:
    """An entry as :meth:`Cache.put` stores it: (digest, findings, {path: (size, mtime) | None})."""
    if not (isinstance(key, str) and isinstance(entry, tuple) and len(entry) == 3):
        return False
    hashed, _, depends = entry
    return isinstance(hashed, str) and isinstance(depends, dict) and all(
        isinstance(p, str) and (sig is None or (isinstance(sig, tuple) and len(sig) == 2
                                                and all(type(n) is int for n in sig)))
        for p, sig in depends.items())


def options_key(options: Options) -> str:
    return repr(options)
