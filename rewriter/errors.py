"""One error tree for everything dockfix reports as a failure rather than a finding."""

from __future__ import annotations

import os

# The exit status of every front end: 0 nothing to report, 1 findings, 2 an error (bad input, a
# refused write, an internal error). Defined once, here; the CLI, the run (app) and the bot import it.
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def display_path(path: str) -> str:
    """A path as users see it: relative to the working directory when under it, with '/'.

    Here (with :func:`printable` and :func:`printable_path`), in the leaf of the error tree, so
    that an error renders itself without importing :mod:`rewriter.source`, which raises these
    errors (the two used to import each other); :mod:`rewriter.source` re-exports all three."""
    if path in ("-", ""):
        return path
    if os.path.isabs(path):
        rel = os.path.relpath(path)
        if rel.startswith(".."):
            return path
        return rel.replace(os.sep, "/")
    return os.path.normpath(path).replace(os.sep, "/")


_ESCAPES = {"\n": "\\n", "\r": "\\r"}


def printable(text: str) -> str:
    """``text`` with control and other non-printing characters (but tabs) written as escapes.

    Repository text (a service name, a path, a YAML key) reaches human output, and a newline in it
    would start a line of its own: ``::error ...`` or ``::stop-commands::`` at the start of a line
    is a command to a GitHub Actions runner, and an escape sequence is one to the terminal.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == "\t":
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def printable_path(path: str) -> str:
    """:func:`display_path` made :func:`printable`, and never starting a line with ``:`` (a
    directory named ``::stop-commands::x`` would otherwise begin a workflow command)."""
    shown = printable(display_path(path))
    return "./" + shown if shown.startswith(":") else shown


class DockfixError(Exception):
    """Base class; ``str(err)`` is the user-facing message."""

    def __init__(self, message: str, *, path: str = "", line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column

    def render(self) -> str:
        """Return ``path:line:col: message`` (parts that are unknown are left out)."""
        where = printable_path(self.path) if self.path else "<unknown>"
        if self.line:
            where += f":{self.line}:{self.column or 1}"
        return f"{where}: {printable(self.message)}"


class ConfigError(DockfixError):
    """A configuration file, profile or command-line value is invalid."""


class ParseError(DockfixError):
    """An input file cannot be read as the kind of file it claims to be."""


class ConvergenceError(DockfixError):
    """The fix loop did not settle: a rule keeps undoing another, or it cycles."""


class WriteError(DockfixError):
    """A file could not be written safely (changed on disk, read-only, disk full...)."""
