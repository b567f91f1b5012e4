"""Unified diffs that ``git apply`` and ``patch -p1`` take, line endings and all."""

from __future__ import annotations

import bisect
import difflib

from rewriter.source import display_path

NO_NEWLINE = "\\ No newline at end of file\n"

# Up to this many lines (old + new) the diff is difflib's own. Above it difflib's matcher grows
# with the product of the two sides wherever lines repeat (8,000 lines of a 4,000-service Compose
# file: 40 s, 32,000 lines: over two minutes), so larger texts are first cut at lines that occur
# once on each side (patience diff's anchors) and difflib only sees the gaps between them.
DIFFLIB_LINES = 4000
# difflib work allowed in the gaps, in line pairs per input line: a gap beyond the budget is shown
# as a whole replacement (a correct diff, only less tight), so the cost stays linear.
GAP_PAIRS_PER_LINE = 64


def unified_diff(path: str, before: str, after: str, context: int = 3, *, new_file: bool = False) -> str:
    """``new_file`` writes ``--- /dev/null`` so that ``git apply`` creates the file."""
    if before == after:
        return ""
    name = display_path(path)
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    out: list[str] = []
    for line in _unified(a, b, "/dev/null" if new_file else _git_quoted(f"a/{name}"), _git_quoted(f"b/{name}"),
                         context):
        if line.startswith(("---", "+++")) and not line.endswith("\n"):
            line += "\n"
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n")
            out.append(NO_NEWLINE)
    # difflib writes "--- a/x\n" headers with a trailing tab-less newline already
    return "".join(out)


_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
              '"': '\\"', "\\": "\\\\"}


def _git_quoted(name: str) -> str:
    """A header path quoted the way git writes (and ``git apply`` reads) an unusual name: a file
    named with a newline would otherwise end the header and put its own lines into the diff."""
    if name.isprintable() and '"' not in name and "\\" not in name:
        return name
    out = []
    for ch in name:
        if ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        else:
            out.extend(f"\\{byte:03o}" for byte in ch.encode("utf-8", "surrogateescape"))
    return '"' + "".join(out) + '"'


def _unified(a: list[str], b: list[str], from_name: str, to_name: str, context: int) -> list[str]:
    if len(a) + len(b) <= DIFFLIB_LINES:
        return list(difflib.unified_diff(a, b, from_name, to_name, n=context))
    out = [f"--- {from_name}\n", f"+++ {to_name}\n"]
    for group in _AnchoredMatcher(a, b).get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(" " + line for line in a[i1:i2])
                continue
            out.extend("-" + line for line in a[i1:i2])
            out.extend("+" + line for line in b[j1:j2])
    return out


def _range(start: int, stop: int) -> str:
    """A hunk range the way difflib writes it (1-based; an empty range names the line before)."""
    length = stop - start
    beginning = start + 1
    if length == 1:
        return str(beginning)
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


class _AnchoredMatcher(difflib.SequenceMatcher[str]):
    """difflib's opcodes over matching blocks found in O(n log n): lines unique on both sides,
    kept in order by a longest increasing subsequence, then difflib inside each gap while the
    budget of :data:`GAP_PAIRS_PER_LINE` lasts."""

    def __init__(self, a: list[str], b: list[str]) -> None:
        super().__init__(None, a, b, autojunk=False)
        self._lines = a, b
        self._blocks: list[difflib.Match] | None = None

    def get_matching_blocks(self) -> list[difflib.Match]:
        if self._blocks is None:
            self._blocks = _merge(self._find_blocks(), len(self._lines[0]), len(self._lines[1]))
        return self._blocks

    def _find_blocks(self) -> list[difflib.Match]:
        a, b = self._lines
        budget = GAP_PAIRS_PER_LINE * (len(a) + len(b))
        blocks: list[difflib.Match] = []
        prev_i = prev_j = 0
        for i, j in _anchors(a, b) + [(len(a), len(b))]:
            budget = _gap(a, b, prev_i, i, prev_j, j, blocks, budget)
            if i < len(a):
                blocks.append(difflib.Match(i, j, 1))
            prev_i, prev_j = i + 1, j + 1
        return blocks


def _anchors(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) with ``a[i] == b[j]`` occurring once in each, the longest run in order."""
    count_a: dict[str, int] = {}
    for i, line in enumerate(a):
        count_a[line] = -1 if line in count_a else i
    count_b: dict[str, int] = {}
    for j, line in enumerate(b):
        count_b[line] = -1 if line in count_b else j
    pairs = [(i, count_b[line]) for line, i in count_a.items()
             if i >= 0 and count_b.get(line, -1) >= 0]
    pairs.sort()
    # longest increasing subsequence of j (patience sorting), with back links
    tails: list[int] = []  # j at the end of the best run of each length
    tail_at: list[int] = []  # index into pairs of that end
    back: list[int] = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        back[n] = tail_at[k - 1] if k else -1
        if k == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[k] = j
            tail_at[k] = n
    run: list[tuple[int, int]] = []
    n = tail_at[-1] if tail_at else -1
    while n >= 0:
        run.append(pairs[n])
        n = back[n]
    run.reverse()
    return run


def _gap(a: list[str], b: list[str], alo: int, ahi: int, blo: int, bhi: int,
         blocks: list[difflib.Match], budget: int) -> int:
    """Matching blocks of ``a[alo:ahi]`` and ``b[blo:bhi]`` added to ``blocks``; the budget left."""
    while alo < ahi and blo < bhi and a[alo] == b[blo]:  # common head
        blocks.append(difflib.Match(alo, blo, 1))
        alo += 1
        blo += 1
    tail: list[difflib.Match] = []
    while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:  # common tail
        ahi -= 1
        bhi -= 1
        tail.append(difflib.Match(ahi, bhi, 1))
    cost = (ahi - alo) * (bhi - blo)
    if cost and cost <= budget:
        budget -= cost
        inner = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
        blocks.extend(difflib.Match(alo + m.a, blo + m.b, m.size) for m in inner.get_matching_blocks() if m.size)
    blocks.extend(reversed(tail))
    return budget


def _merge(blocks: list[difflib.Match], last_a: int, last_b: int) -> list[difflib.Match]:
    """Adjacent blocks joined, and difflib's closing sentinel."""
    out: list[difflib.Match] = []
    for m in blocks:
        if out and out[-1].a + out[-1].size == m.a and out[-1].b + out[-1].size == m.b:
            last = out[-1]
            out[-1] = difflib.Match(last.a, last.b, last.size + m.size)
        else:
            out.append(m)
    out.append(difflib.Match(last_a, last_b, 0))
    return out
