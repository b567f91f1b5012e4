"""Edits are the only way dockfix changes a file: replace ``text[start:end]`` by ``content``."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Sequence

from rewriter.record import Record


class Applicability(enum.IntEnum):
    DISPLAY_ONLY = 0  # reported, never written
    UNSAFE = 1  # written with --unsafe-fixes
    SAFE = 2

    @property
    def label(self) -> str:
        return {0: "display-only", 1: "unsafe", 2: "safe"}[int(self)]


class Refusal(Exception):
    """A change that cannot be written safely; the reason is shown to the user. (Here, beside
    :class:`Fix`, so that every layer that makes fixes can refuse one; ``rewriter.yamlpatch``
    re-exports it.)"""


@functools.total_ordering
class Edit(Record):
    __slots__ = ("start", "end", "content", "order")

    def __init__(self, start: int, end: int, content: str = "", order: int = 0) -> None:
        self.start = start  # str offsets into SourceFile.text
        self.end = end
        self.content = content
        # Among insertions at one offset, lower ``order`` goes first. Block YAML uses minus the
        # indentation, so a nested key lands right after its parent's content, before a sibling
        # of the parent inserted at the same point.
        self.order = order

    def __lt__(self, other: Edit) -> bool:
        return self._values() < other._values()

    @property
    def is_insertion(self) -> bool:
        return self.start == self.end


class Intent(Record):
    """What a fix means for the resolved model, checked by the oracle after the edit.

    ``path`` is a tuple of mapping keys (str) and sequence indexes (int) from the document root.
    ``op`` is ``set`` (mapping entry or sequence item gets ``value``), ``append`` (sequence gets
    ``value`` at its end; a missing sequence is created) or ``delete`` (entry removed).
    """

    __slots__ = ("op", "path", "value")

    def __init__(self, op: str, path: tuple[str | int, ...], value: object = None) -> None:
        self.op = op
        self.path = path
        self.value = value


class Fix(Record):
    __slots__ = ("message", "edits", "applicability", "intents", "claims", "scope", "reach", "fallback")

    def __init__(self, message: str, edits: tuple[Edit, ...],
                 applicability: Applicability = Applicability.SAFE, intents: tuple[Intent, ...] = (),
                 claims: frozenset[str] = frozenset(), scope: str = "", reach: frozenset[str] = frozenset(),
                 fallback: Fix | None = None) -> None:
        self.message = message
        self.edits = edits
        self.applicability = applicability
        self.intents = intents
        # Resources the fix changes (e.g. "svc:api/ulimits"); two fixes with a common claim
        # never go into the same pass, so that they do not both create the same key.
        self.claims = claims
        # The container the fix is for (e.g. "services.api") and any others its edit also changes
        # (an anchor shared by several services). A fix that reaches others is applied only when
        # each of them wants the identical edit; otherwise its ``fallback`` (a local override) is used.
        self.scope = scope
        self.reach = reach
        self.fallback = fallback

    def described(self, message: str, applicability: Applicability | None = None) -> Fix:
        """The same fix with a message (and applicability), applied to its fallback too."""
        app = self.applicability if applicability is None else applicability
        fallback = self.fallback.described(message, app) if self.fallback else None
        return self.replace(message=message, applicability=app, fallback=fallback)

    def overlaps(self, other: Fix) -> bool:
        if self.claims & other.claims:
            return True
        for a in self.edits:
            for b in other.edits:
                if a.start < b.end and b.start < a.end:
                    return True
                # A replacement and an insertion at its boundary would be ambiguous.
                if (a.is_insertion and b.start < a.start < b.end) or (
                    b.is_insertion and a.start < b.start < a.end
                ):
                    return True
        return False


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply edits in offset order; insertions at one offset go by ``order``, then as given."""
    ordered = sorted(enumerate(edits), key=lambda p: (p[1].start, p[1].end, p[1].order, p[0]))
    out: list[str] = []
    pos = 0
    for _, edit in ordered:
        if edit.start < pos:
            raise ValueError(f"overlapping edits at offset {edit.start}")
        out.append(text[pos : edit.start])
        out.append(edit.content)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def select_compatible(fixes: Sequence[Fix]) -> list[Fix]:
    """Pick fixes greedily in order, skipping any that overlaps one already picked.

    The same choice as testing each fix against every fix picked so far (:meth:`Fix.overlaps`),
    in O(n log n) for n edits instead of O(n^2): 4,000 services have some 20,000 candidate fixes,
    and the pairwise test took over two minutes there. Offsets are compressed to the distinct
    edit boundaries; a picked replacement marks the elementary segments it covers and the
    boundaries strictly inside it, a picked insertion marks its point, and each candidate edit
    asks three Fenwick trees whether it meets a mark.
    """
    coords = sorted({x for fix in fixes for e in fix.edits for x in (e.start, e.end)})
    index = {x: i for i, x in enumerate(coords)}
    covered = _Marks(len(coords))  # segment i is [coords[i], coords[i + 1])
    interior = _Marks(len(coords))  # boundary i lies strictly inside a picked replacement
    points = _Marks(len(coords))  # a picked insertion at boundary i
    claimed: set[str] = set()
    chosen: list[Fix] = []
    for fix in fixes:
        if not claimed.isdisjoint(fix.claims):
            continue
        clash = False
        for e in fix.edits:
            i, j = index[e.start], index[e.end]
            if i == j:
                clash = interior.any(i, i + 1)
            else:
                clash = covered.any(i, j) or points.any(i + 1, j)
            if clash:
                break
        if clash:
            continue
        chosen.append(fix)
        claimed.update(fix.claims)
        for e in fix.edits:
            i, j = index[e.start], index[e.end]
            if i == j:
                points.mark(i, i + 1)
            else:
                covered.mark(i, j)
                interior.mark(i + 1, j)
    return chosen


class _Marks:
    """Positions 0..n-1 that get marked (never unmarked): mark a range, ask whether a range holds
    a mark. Each position is marked once (a "next unmarked" pointer skips marked runs), so all
    marking costs O(n log n) in total, and each question O(log n)."""

    __slots__ = ("_tree", "_next")

    def __init__(self, n: int) -> None:
        self._tree = [0] * (n + 1)  # Fenwick tree of marked counts
        self._next = list(range(n + 1))  # _next[i]: the first unmarked position >= i (path-halved)

    def _find(self, i: int) -> int:
        nxt = self._next
        while nxt[i] != i:
            nxt[i] = nxt[nxt[i]]
            i = nxt[i]
        return i

    def _prefix(self, i: int) -> int:
        """Marks in positions [0, i)."""
        total = 0
        tree = self._tree
        while i > 0:
            total += tree[i]
            i &= i - 1
        return total

    def any(self, lo: int, hi: int) -> bool:
        """Whether a position in [lo, hi) is marked."""
        return lo < hi and self._prefix(hi) > self._prefix(lo)

    def mark(self, lo: int, hi: int) -> None:
        tree = self._tree
        size = len(tree)
        i = self._find(lo)
        while i < hi:
            k = i + 1
            while k < size:
                tree[k] += 1
                k += k & -k
            self._next[i] = i + 1
            i = self._find(i + 1)
