"""A per-project cache of check results, so an unchanged file is not parsed again.

Like ruff's and black's: one file per (dockfix version, options) and project, in the user's cache
directory (``$DOCKFIX_CACHE_DIR``, ``$XDG_CACHE_HOME/dockfix`` or ``~/.cache/dockfix``, see
:mod:`rewriter.cachedir`), never in the repository, mapping each path to the SHA-256 of the content
it was checked with, the findings, and the other files the result depended on. A hit needs the
same content, so edits, checkouts and touch-without-change all behave. The file is written
atomically; a corrupt or foreign cache is ignored, never trusted.

The cache used to live in ``.dockfix_cache/`` inside the repository, where a commit could make it
a link (dockfix then wrote outside the tree), plant an entry that hid findings, or plant
``marshal`` bytes that crashed the interpreter (a 13-byte tuple containing itself segfaults
``marshal.loads``; a 5-byte header announcing 2^29 elements allocates 4 GB). Now the repository
cannot reach it, and it is JSON read with a size cap: the decoder is C code that builds only
plain values and stops deep nesting with RecursionError. :func:`decode` rebuilds findings checking
the type of every field; an intent's value may only be plain data (None, booleans, numbers,
strings, lists, tuples, dicts; containers tagged, so tuples and non-string keys come back as
they were). Anything else makes the entry a miss.
"""

from __future__ import annotations

import hashlib
import json
import os

from rewriter import __version__
from rewriter.cachedir import cache_directory, read_cache_file, write_cache_file
from rewriter.deps import Signature, signature
from rewriter.edits import Applicability, Edit, Fix, Intent
from rewriter.engine import Finding, Options
from rewriter.model import Severity

FORMAT = 4  # bumped whenever the stored shape changes (3: marshal in .dockfix_cache/; 4: JSON, per user)
MAX_CACHE_BYTES = 64 * 1024 * 1024  # a cache file bigger than this is not one dockfix wrote: a miss

_SCALARS = (str, int, float, bool, type(None))


def encode(findings: list[Finding]) -> list[list[object]]:
    """Findings as plain JSON data; ValueError for a value the cache cannot hold."""
    return [[f.code, f.path, f.line, f.column, f.end_line, f.end_column, f.message, f.severity.value,
             _encode_fix(f.fix), f.scope, f.refused] for f in findings]


def _encode_fix(fix: Fix | None) -> list[object] | None:
    if fix is None:
        return None
    intents = []
    for intent in fix.intents:
        if not all(type(step) in (str, int) for step in intent.path):
            raise ValueError("not cache data: an intent's path")
        intents.append([intent.op, list(intent.path), _encode_value(intent.value)])
    return [fix.message, [[e.start, e.end, e.content, e.order] for e in fix.edits], int(fix.applicability),
            intents, sorted(fix.claims), fix.scope, sorted(fix.reach), _encode_fix(fix.fallback)]


def _encode_value(value: object) -> object:
    """Plain data as JSON: scalars as they are, containers as tagged arrays (``["l", ...]``,
    ``["t", ...]``, ``["d", [key, value], ...]``); ValueError for anything else."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list or kind is tuple:
        tagged: list[object] = ["l" if kind is list else "t"]
        tagged.extend(_encode_value(v) for v in value)  # type: ignore[attr-defined]
        return tagged
    if kind is dict:
        items: list[object] = ["d"]
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) not in _SCALARS:
                raise ValueError(f"not cache data: a {type(key).__name__} key")
            items.append([key, _encode_value(item)])
        return items
    raise ValueError(f"not cache data: {kind.__name__}")


def _decode_value(data: object) -> object:
    kind = type(data)
    if kind in _SCALARS:
        return data
    if kind is not list or not data or data[0] not in ("l", "t", "d"):  # type: ignore[index]
        raise ValueError("not cache data: a value")
    tag, items = data[0], data[1:]  # type: ignore[index]
    if tag == "l":
        return [_decode_value(v) for v in items]
    if tag == "t":
        return tuple(_decode_value(v) for v in items)
    out = {}
    for pair in items:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in _SCALARS:
            raise ValueError("not cache data: a mapping entry")
        out[pair[0]] = _decode_value(pair[1])
    return out


# The exact types of each stored array's fields, compared in one step with
# ``tuple(map(type, item))``: checking field by field in Python made a warm run slower.
_FINDING = (str, str, int, int, int, int, str, str)  # then the fix, scope and refused
_FIX = (str, list, int, list, list, str, list)  # then the fallback
_EDIT = (int, int, str, int)


def decode(data: object) -> list[Finding]:
    """The inverse of :func:`encode`; ValueError for anything it would not have produced."""
    if type(data) is not list:
        raise ValueError("not a list of findings")
    out: list[Finding] = []
    for item in data:
        if type(item) is not list or len(item) != 11 or tuple(map(type, item[:8])) != _FINDING \
                or type(item[9]) is not str or type(item[10]) is not str:
            raise ValueError("not cache data: a finding")
        code, path, line, column, end_line, end_column, message, severity, fix, scope, refused = item
        out.append(Finding(code, path, line, column, end_line, end_column, message, Severity(severity),
                           _decode_fix(fix), scope, refused))
    return out


def _decode_fix(data: object, depth: int = 0) -> Fix | None:
    if data is None:
        return None
    if type(data) is not list or len(data) != 8 or tuple(map(type, data[:7])) != _FIX or depth > 8:
        raise ValueError("not cache data: a fix")
    message, edits, applicability, intents, claims, scope, reach, fallback = data
    if not all(type(name) is str for name in claims + reach):
        raise ValueError("not cache data: a claim")
    new_edits = []
    for edit in edits:
        if type(edit) is not list or tuple(map(type, edit)) != _EDIT:
            raise ValueError("not cache data: an edit")
        new_edits.append(Edit(*edit))
    new_intents = []
    for intent in intents:
        if type(intent) is not list or len(intent) != 3 or type(intent[0]) is not str \
                or type(intent[1]) is not list or not all(type(step) in (str, int) for step in intent[1]):
            raise ValueError("not cache data: an intent")
        new_intents.append(Intent(intent[0], tuple(intent[1]), _decode_value(intent[2])))
    return Fix(message, tuple(new_edits), Applicability(applicability), tuple(new_intents), frozenset(claims),
               scope, frozenset(reach), _decode_fix(fallback, depth + 1))


def project_root(start: str) -> str:
    """The project root the cache is kept for: the repository root of ``start``
    (:func:`rewriter.safefs.root_for`)."""
    from rewriter.safefs import root_for  # lazy: start-up

    return root_for(start)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Cache:
    def __init__(self, path: str, kind_options: str = "") -> None:
        self.path = path
        self.kind_options = kind_options
        # path -> [content digest, encoded findings, {depended-on path: [size, mtime] | None}]
        self.entries: dict[str, list[object]] = {}
        self.dirty = False

    @classmethod
    def open(cls, root: str, kind_options: str) -> Cache:
        key = digest(f"{__version__}\0{FORMAT}\0{kind_options}".encode())[:16]
        path = os.path.join(cache_directory(root), __version__, f"{key}.json")
        cache = cls(path, kind_options)
        blob = read_cache_file(path, MAX_CACHE_BYTES)
        if blob is None:
            return cache
        try:
            loaded = json.loads(blob)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond the recursion limit
            return cache
        if type(loaded) is list and len(loaded) == 3 and loaded[0] == FORMAT and loaded[1] == kind_options \
                and type(loaded[2]) is dict and all(_well_formed(k, v) for k, v in loaded[2].items()):
            cache.entries = loaded[2]
        return cache

    def get(self, path: str, data: bytes) -> list[Finding] | None:
        """The cached findings, if the content and every file they depended on are unchanged."""
        entry = self.entries.get(os.path.abspath(path))
        if entry is None or entry[0] != digest(data) or not _unchanged(entry[2]):  # type: ignore[arg-type]
            return None
        try:
            return decode(entry[1])
        except (ValueError, TypeError, RecursionError):
            return None

    def put(self, path: str, data: bytes, findings: list[Finding],
            depends: dict[str, Signature] | None = None) -> None:
        key, hashed = os.path.abspath(path), digest(data)
        recorded = {p: None if sig is None else list(sig) for p, sig in (depends or {}).items()}
        current = self.entries.get(key)
        if current is not None and current[0] == hashed and current[2] == recorded:
            return  # a hit, or the same result again: nothing to write
        try:
            encoded = encode(findings)
        except ValueError:
            return  # something the cache cannot hold: the file is simply checked next time
        self.entries[key] = [hashed, encoded, recorded]
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            # ASCII with escapes: a lone surrogate (a file that is not UTF-8) comes back as it was
            blob = json.dumps([FORMAT, self.kind_options, self.entries], separators=(",", ":")).encode("ascii")
        except (ValueError, TypeError, RecursionError):  # encode() lets only plain values through
            return
        write_cache_file(self.path, blob)


def _unchanged(recorded: dict[str, list[int] | None]) -> bool:
    """Whether every file a result depended on has the size and mtime it had (or is still absent)."""
    for path, sig in recorded.items():
        now = signature(path)
        if now is None or sig is None:
            if (now is None) != (sig is None):
                return False
        elif now[0] != sig[0] or now[1] != sig[1]:
            return False
    return True


def _well_formed(key: object, entry: object) -> bool:
    """An entry as :meth:`Cache.put` stores it: [digest, findings, {path: [size, mtime] | None}]."""
    if not (type(key) is str and type(entry) is list and len(entry) == 3):
        return False
    hashed, _, depends = entry
    return type(hashed) is str and type(depends) is dict and all(
        sig is None or (type(sig) is list and len(sig) == 2 and type(sig[0]) is int and type(sig[1]) is int)
        for sig in depends.values())


def options_key(options: Options) -> str:
    return repr(options)
