"""One error tree for everything dockfix reports as a failure rather than a finding."""

from __future__ import annotations


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
        from rewriter.source import printable, printable_path

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
