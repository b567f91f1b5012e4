"""A per-project cache of check results, so an unchanged file is not parsed again.

Like ruff's: one file per (dockfix version, options) under ``.dockfix_cache/`` at the project
root, mapping each path to the SHA-256 of the content it was checked with and the findings. A
hit needs the same content, so edits, checkouts and touch-without-change all behave. The file is
written atomically; a corrupt or foreign cache is ignored, never trusted.

The cache lies inside the repository, where anyone who can commit can put a file, so it is not a
pickle (loading one can run code). It is ``marshal`` data in a fixed positional shape (a finding
is a tuple of its fields, its fix a tuple of the fix's), and :func:`decode` rebuilds findings from
it checking the type of every field; an intent's value may only be plain data (None, booleans,
numbers, strings, lists, tuples, dicts). Anything else makes the entry a miss.
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

FORMAT = 3  # bumped whenever the stored shape changes (3: marshal, see encode/decode)
ROOT_MARKERS = (".git", "pyproject.toml", "dockfix.toml", ".dockfix.toml")

_SCALARS = (str, int, float, bool, type(None))


def encode(findings: list[Finding]) -> list[tuple[object, ...]]:
    """Findings as plain data for marshal; ValueError for a value the cache cannot hold."""
    return [(f.code, f.path, f.line, f.column, f.end_line, f.end_column, f.message, f.severity.value,
             _encode_fix(f.fix), f.scope, f.refused) for f in findings]


def _encode_fix(fix: Fix | None) -> tuple[object, ...] | None:
    if fix is None:
        return None
    for intent in fix.intents:
        _check_value(intent.path)
        _check_value(intent.value)
    return (fix.message, [(e.start, e.end, e.content, e.order) for e in fix.edits], int(fix.applicability),
            [(i.op, i.path, i.value) for i in fix.intents], sorted(fix.claims), fix.scope, sorted(fix.reach),
            _encode_fix(fix.fallback))


# The exact types of each stored tuple's fields (marshal builds no subclasses), compared in one
# step with ``tuple(map(type, item))``: checking field by field in Python made a warm run slower.
_FINDING = (str, str, int, int, int, int, str, str)  # then the fix, scope and refused
_FIX = (str, list, int, list, list, str, list)  # then the fallback
_EDIT = (int, int, str, int)


def decode(data: object) -> list[Finding]:
    """The inverse of :func:`encode`; ValueError for anything it would not have produced."""
    if type(data) is not list:
        raise ValueError("not a list of findings")
    out: list[Finding] = []
    for item in data:
        if type(item) is not tuple or len(item) != 11 or tuple(map(type, item[:8])) != _FINDING \
                or type(item[9]) is not str or type(item[10]) is not str:
            raise ValueError("not cache data: a finding")
        code, path, line, column, end_line, end_column, message, severity, fix, scope, refused = item
        out.append(Finding(code, path, line, column, end_line, end_column, message, Severity(severity),
                           _decode_fix(fix), scope, refused))
    return out


def _decode_fix(data: object) -> Fix | None:
    if data is None:
        return None
    if type(data) is not tuple or len(data) != 8 or tuple(map(type, data[:7])) != _FIX:
        raise ValueError("not cache data: a fix")
    message, edits, applicability, intents, claims, scope, reach, fallback = data
    if not all(type(name) is str for name in claims + reach):
        raise ValueError("not cache data: a claim")
    new_edits = []
    for edit in edits:
        if type(edit) is not tuple or tuple(map(type, edit)) != _EDIT:
            raise ValueError("not cache data: an edit")
        new_edits.append(Edit(*edit))
    new_intents = []
    for intent in intents:
        if type(intent) is not tuple or len(intent) != 3 or type(intent[0]) is not str \
                or type(intent[1]) is not tuple or not all(type(step) in (str, int) for step in intent[1]):
            raise ValueError("not cache data: an intent")
        _check_value(intent[2])
        new_intents.append(Intent(*intent))
    return Fix(message, tuple(new_edits), Applicability(applicability), tuple(new_intents), frozenset(claims),
               scope, frozenset(reach), _decode_fix(fallback))


def _check_value(value: object) -> None:
    """Plain data only (what a resolved model holds): ValueError for anything else."""
    kind = type(value)
    if kind in _SCALARS:
        return
    if kind is list or kind is tuple:
        for item in value:  # type: ignore[attr-defined]
            _check_value(item)
    elif kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) not in _SCALARS:
                raise ValueError(f"not cache data: a {type(key).__name__} key")
            _check_value(item)
    else:
        raise ValueError(f"not cache data: {kind.__name__}")


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
                loaded = marshal.loads(fh.read())  # marshal.load(fh) reads in small pieces: 7 times slower
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
            return decode(entry[1])
        except (ValueError, TypeError):
            return None

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
        try:
            blob = marshal.dumps(self.entries)
        except ValueError:  # encode() lets only plain values through; this is a safety net
            return
        write_cache_file(root, os.path.relpath(self.path, root), blob)


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
