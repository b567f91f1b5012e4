"""Renderers for findings (concise, full, json, github, sarif in :mod:`rewriter.sarif`) and for
errors (:func:`error_text`, :func:`fatal_text`): the one place where the command line turns what
dockfix found or could not do into text."""

from __future__ import annotations

from collections.abc import Sequence

from rewriter.source import display_path, printable, printable_path

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.engine import Finding
    from rewriter.errors import DockfixError
    from rewriter.source import SourceFile

FORMATS = ("concise", "full", "json", "github", "sarif")


def error_text(err: DockfixError) -> str:
    """``path:line:col: message`` for an error about one file; the parts that are unknown are
    left out (``<unknown>`` for the path), repository text is :func:`printable`."""
    where = printable_path(err.path) if err.path else "<unknown>"
    if err.line:
        where += f":{err.line}:{err.column or 1}"
    return f"{where}: {printable(err.message)}"


def fatal_text(err: DockfixError) -> str:
    """The line for an error that ends the whole run (``dockfix: ...``): a configuration error
    that names no file (a bad ``--select``, an unknown profile on the command line) is its message
    alone."""
    if err.kind == "config" and not err.path:
        return f"dockfix: {printable(err.message)}"
    return f"dockfix: {error_text(err)}"


def _where(f: Finding) -> str:
    return f"{printable_path(f.path)}:{f.line}:{f.column}"


def concise(findings: Sequence[Finding]) -> str:
    """One line per finding; repository text in it is :func:`printable` (as in every human format)."""
    lines = []
    for f in findings:
        mark = " [*]" if f.fixable else ""
        extra = f" [fix refused: {printable(f.refused)}]" if f.refused else ""
        lines.append(f"{_where(f)}: {f.code}{mark} {printable(f.message)}{extra}")
    return "".join(line + "\n" for line in lines)


def full(findings: Sequence[Finding], sources: dict[str, SourceFile]) -> str:
    out = []
    for f in findings:
        out.append(concise([f]))
        src = sources.get(f.path)
        if src is not None and f.line <= len(src.line_starts()):
            text = src.line_text(f.line)
            out.append(f"  {f.line:>4} | {printable(text)}\n")
            out.append(f"       | {' ' * len(printable(text[:f.column - 1]))}^\n")
        if f.fix is not None:
            out.append(f"  help: {printable(f.fix.message)} ({f.fix.applicability.label} fix)\n")
        out.append("\n")
    return "".join(out)


def as_json(findings: Sequence[Finding], sources: dict[str, SourceFile]) -> str:
    items = []
    for f in findings:
        fix = None
        if f.fix is not None:
            src = sources.get(f.path)
            edits = []
            for e in f.fix.edits:
                if src is not None:
                    (sl, sc), (el, ec) = src.position(e.start), src.position(e.end)
                else:
                    (sl, sc), (el, ec) = (0, 0), (0, 0)
                edits.append({"content": e.content, "location": {"row": sl, "column": sc},
                              "end_location": {"row": el, "column": ec}})
            fix = {"applicability": f.fix.applicability.label, "message": f.fix.message, "edits": edits}
        items.append({
            "code": f.code,
            "message": f.message,
            "severity": f.severity.value,
            "filename": display_path(f.path),
            "location": {"row": f.line, "column": f.column},
            "end_location": {"row": f.end_line, "column": f.end_column},
            "fix": fix,
        })
    import json  # lazy: start-up (only for --output-format json: a format-on-save that prints findings does not pay it)

    return json.dumps(items, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(findings: Sequence[Finding]) -> str:
    out = []
    for f in findings:
        level = {"error": "error", "warning": "warning", "info": "notice"}[f.severity.value]
        path = display_path(f.path)
        props = (f"title={_escape_property(f'dockfix ({f.code})')},file={_escape_property(path)},"
                 f"line={f.line},col={f.column},endLine={f.end_line},endColumn={f.end_column}")
        out.append(f"::{level} {props}::{_escape_data(f'{path}:{f.line}:{f.column}: {f.code} {f.message}')}\n")
    return "".join(out)


def render(fmt: str, findings: Sequence[Finding], sources: dict[str, SourceFile]) -> str:
    if fmt == "json":
        return as_json(findings, sources)
    if fmt == "github":
        return github(findings)
    if fmt == "sarif":
        from rewriter import sarif  # lazy: start-up

        return sarif.render(findings, sources)
    if fmt == "full":
        return full(findings, sources)
    return concise(findings)
