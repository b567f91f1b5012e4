"""Every unified diff ``dockfix diff`` prints is read back and applied before it is printed.

The diff is parsed with ``unidiff`` (a parser that is not the one that wrote it) and its hunks are
applied, in memory, to the original text; the result must be the fixed text, byte for byte (CRLF,
BOM, a missing final newline included). A diff that does not parse or does not reproduce the fix
is an internal error for that file (exit 2), never a silently wrong patch that ``git apply``
takes. Off the format-on-save path: only ``dockfix diff`` imports this module, and ``unidiff``
only when a file has a diff. The cost is one more pass over the diff's lines (a fraction of
computing the diff).
"""

from __future__ import annotations

from rewriter.errors import DockfixError

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from collections.abc import Sequence

    from unidiff.patch import Hunk


class DiffMismatch(Exception):
    """The diff's hunks do not fit the original text."""


def checked(path: str, before: str, after: str, diff: str) -> str:
    """``diff`` itself once it is shown to turn ``before`` into ``after``; else DockfixError."""
    from unidiff.patch import PatchSet  # lazy: start-up (only `dockfix diff` prints diffs)
    from unidiff.errors import UnidiffParseError  # lazy: start-up

    if not diff:
        if before != after:
            raise _internal(path, "the diff is empty but the file changes")
        return diff
    try:
        patch = PatchSet(diff)
    except UnidiffParseError as err:
        raise _internal(path, f"the diff does not parse: {' '.join(str(err).split())}") from None
    if len(patch) != 1:
        raise _internal(path, f"the diff names {len(patch)} files, not 1")
    try:
        result = apply_hunks(before, list(patch[0]))
    except DiffMismatch as err:
        raise _internal(path, f"the diff does not apply to the file: {err}") from None
    if result != after:
        raise _internal(path, "applied to the file, the diff does not give the fixed text")
    return diff


def apply_hunks(before: str, hunks: Sequence[Hunk]) -> str:
    """``before`` with the hunks (in order) applied; every context and
    removed line must be the original's, or :class:`DiffMismatch`."""
    lines = before.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for hunk in hunks:
        start, length = hunk.source_start, hunk.source_length
        at = start - 1 if length else start  # "-5,0" inserts after line 5
        if at < pos or at > len(lines):
            raise DiffMismatch(f"hunk at line {start} is out of order or past the end")
        out.extend(lines[pos:at])
        pos = at
        body = list(hunk)
        for n, line in enumerate(body):
            kind, value = line.line_type, line.value
            if kind == "\\":
                continue
            if n + 1 < len(body) and body[n + 1].line_type == "\\":
                value = value[:-1] if value.endswith("\n") else value  # "\ No newline at end of file"
            if kind in (" ", "-"):
                if pos >= len(lines) or lines[pos] != value:
                    raise DiffMismatch(f"line {pos + 1} is not {value!r}")
                if kind == " ":
                    out.append(value)
                pos += 1
            elif kind == "+":
                out.append(value)
    out.extend(lines[pos:])
    return "".join(out)


def _internal(path: str, why: str) -> DockfixError:
    return DockfixError(f"internal error: {why}; no diff is printed for this file", path=path)
