"""``.gitignore`` matching in polynomial time, with git's semantics.

pathspec turns each pattern into a regular expression, and Python's backtracking engine takes
exponential time on a pattern such as ``*a*a*a*a*a*a*a*a*a*a*a*a*b`` against a name of 80 ``a``
(``dockfix check .`` was still running after 60 s; ``git check-ignore`` answers in 2 ms). A
``.gitignore`` comes from the repository, so it is untrusted input. Here a pattern is split at
``/`` into segments, path components are matched against segments by a table (``**`` matches any
number of components), and one component against one segment by the greedy two-pointer wildcard
algorithm, which is O(len(segment) x len(name)): never worse than the product of two short strings.

Semantics follow gitignore(5) and git's ``wildmatch``: ``#`` comments, ``\\`` escapes, trailing
spaces trimmed unless escaped, ``!`` negation (the last matching pattern decides), a trailing
``/`` for directories only, a ``/`` at the start or in the middle anchors the pattern to the
``.gitignore``'s directory (otherwise it matches a name at any depth), ``**/`` leading, ``/**/``
inside and ``/**`` at the end, ``*``, ``?`` and bracket expressions (``[!a-z]``, ``[[:digit:]]``)
that never match ``/``. A path inside an ignored directory is ignored whatever follows, because
git does not look inside an ignored directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

_STAR = ("*",)
_ANY = ("?",)
_CLASSES: dict[str, Callable[[str], bool]] = {
    "alnum": str.isalnum, "alpha": str.isalpha, "blank": lambda c: c in " \t", "cntrl": lambda c: ord(c) < 32 or c == "\x7f",
    "digit": lambda c: "0" <= c <= "9", "graph": lambda c: c.isprintable() and not c.isspace(),
    "lower": str.islower, "print": str.isprintable, "punct": lambda c: c.isprintable() and not c.isalnum() and not c.isspace(),
    "space": str.isspace, "upper": str.isupper, "xdigit": lambda c: c in "0123456789abcdefABCDEF",
}

# a token: _STAR, _ANY, ("=", char) or ("[", negated, chars, ranges, classes)
Token = tuple[object, ...]


class _Pattern:
    __slots__ = ("negated", "dir_only", "segments")

    def __init__(self, negated: bool, dir_only: bool, segments: list[list[Token] | None]) -> None:
        self.negated = negated
        self.dir_only = dir_only
        self.segments = segments  # None stands for a ``**`` segment

    def matches(self, parts: list[str], is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        segs = self.segments
        n, m = len(segs), len(parts)
        # reach[j]: the first i segments match the first j components
        reach = [True] + [False] * m
        for i, seg in enumerate(segs):
            new = [False] * (m + 1)
            if seg is None:
                last = i == n - 1  # a trailing ``**`` needs at least one component
                seen = False  # some reach[k] with k < j
                for j in range(m + 1):
                    if seen or (reach[j] and not last):
                        new[j] = True
                    seen = seen or reach[j]
            else:
                for j in range(1, m + 1):
                    new[j] = reach[j - 1] and _match_name(seg, parts[j - 1])
            reach = new
            if not any(reach):
                return False
        return reach[m]


def _match_name(tokens: list[Token], name: str) -> bool:
    """Wildcard match of one path component, greedy with a single backtrack point per ``*``."""
    i = j = 0
    star = -1
    mark = 0
    nt, nn = len(tokens), len(name)
    while j < nn:
        if i < nt and tokens[i] is _STAR:
            star, mark = i, j
            i += 1
        elif i < nt and _match_char(tokens[i], name[j]):
            i += 1
            j += 1
        elif star >= 0:
            mark += 1
            i, j = star + 1, mark
        else:
            return False
    while i < nt and tokens[i] is _STAR:
        i += 1
    return i == nt


def _match_char(token: Token, ch: str) -> bool:
    if token is _ANY:
        return True
    if token[0] == "=":
        return token[1] == ch
    _, negated, chars, ranges, classes = token
    assert isinstance(chars, str) and isinstance(ranges, tuple) and isinstance(classes, tuple)
    hit = ch in chars or any(lo <= ch <= hi for lo, hi in ranges) or any(_CLASSES[c](ch) for c in classes)
    return hit != negated


def _tokens(segment: str) -> list[Token] | None:
    """The tokens of one segment; None when a bracket is never closed (git then matches nothing)."""
    out: list[Token] = []
    i, n = 0, len(segment)
    while i < n:
        c = segment[i]
        if c == "*":
            if not out or out[-1] is not _STAR:
                out.append(_STAR)
            i += 1
        elif c == "?":
            out.append(_ANY)
            i += 1
        elif c == "\\" and i + 1 < n:
            out.append(("=", segment[i + 1]))
            i += 2
        elif c == "[":
            parsed = _bracket(segment, i + 1)
            if parsed is None:
                return None
            token, i = parsed
            out.append(token)
        else:
            out.append(("=", c))
            i += 1
    return out


def _bracket(segment: str, i: int) -> tuple[Token, int] | None:
    n = len(segment)
    negated = i < n and segment[i] in "!^"
    if negated:
        i += 1
    chars: list[str] = []
    ranges: list[tuple[str, str]] = []
    classes: list[str] = []
    first = True
    while i < n:
        c = segment[i]
        if c == "]" and not first:
            return ("[", negated, "".join(chars), tuple(ranges), tuple(classes)), i + 1
        first = False
        if c == "[" and segment.startswith("[:", i):
            close = segment.find(":]", i + 2)
            if close != -1 and segment[i + 2:close] in _CLASSES:
                classes.append(segment[i + 2:close])
                i = close + 2
                continue
        if c == "\\" and i + 1 < n:
            i += 1
            c = segment[i]
        if i + 2 < n and segment[i + 1] == "-" and segment[i + 2] != "]":
            hi = segment[i + 2]
            if hi == "\\" and i + 3 < n:
                hi = segment[i + 3]
                i += 1
            ranges.append((c, hi))
            i += 3
            continue
        chars.append(c)
        i += 1
    return None


def _parse(line: str) -> _Pattern | None:
    if line.endswith("\r"):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    # trailing spaces go unless escaped with a backslash
    end = len(line)
    while end and line[end - 1] == " " and not (end >= 2 and line[end - 2] == "\\"):
        end -= 1
    line = line[:end]
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    elif line.startswith(("\\!", "\\#")):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/") if dir_only else line
    if not line:
        return None
    anchored = "/" in line
    raw = line.lstrip("/").split("/")
    segments: list[list[Token] | None] = [] if anchored else [None]
    for part in raw:
        if part == "**":
            if not segments or segments[-1] is not None:
                segments.append(None)
            continue
        tokens = _tokens(part)
        if tokens is None:
            return None
        segments.append(tokens)
    return _Pattern(negated, dir_only, segments)


class Spec:
    """The patterns of one ``.gitignore`` (or of ``--exclude``), matched as git matches them."""

    __slots__ = ("patterns",)

    def __init__(self, patterns: list[_Pattern]) -> None:
        self.patterns = patterns

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Spec:
        return cls([p for p in (_parse(line) for line in lines) if p is not None])

    def _decide(self, parts: list[str], is_dir: bool) -> bool:
        for pattern in reversed(self.patterns):
            if pattern.matches(parts, is_dir):
                return not pattern.negated
        return False

    def match_file(self, path: str) -> bool:
        """Whether ``path`` (relative, ``/``-separated; a trailing ``/`` marks a directory) is
        ignored: a directory on its way is, or the last pattern matching it is not negated."""
        is_dir = path.endswith("/")
        parts = [p for p in path.split("/") if p]
        if not self.patterns or not parts:
            return False
        for depth in range(1, len(parts)):
            if self._decide(parts[:depth], True):
                return True
        return self._decide(parts, is_dir)
