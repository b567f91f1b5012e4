"""Unified diffs that ``git apply`` and ``patch -p1`` take, line endings and all."""

from __future__ import annotations

import difflib

from rewriter.source import display_path

NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(path: str, before: str, after: str, context: int = 3, *, new_file: bool = False) -> str:
    """``new_file`` writes ``--- /dev/null`` so that ``git apply`` creates the file."""
    if before == after:
        return ""
    name = display_path(path)
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    out: list[str] = []
    for line in difflib.unified_diff(a, b, "/dev/null" if new_file else f"a/{name}", f"b/{name}", n=context):
        if line.startswith(("---", "+++")) and not line.endswith("\n"):
            line += "\n"
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n")
            out.append(NO_NEWLINE)
    # difflib writes "--- a/x\n" headers with a trailing tab-less newline already
    return "".join(out)
