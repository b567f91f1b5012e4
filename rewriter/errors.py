"""One error tree for everything dockfix reports as a failure rather than a finding.

An error is data: the message, the file, the line and column (0 when unknown) and its
:attr:`~DockfixError.kind`. It never renders itself: the output layer does
(:func:`rewriter.output.error_text` for ``path:line:col: message``, the language server turns the
same fields into a diagnostic, the bot into a line of its own), so that what a front end shows is
decided in one place per front end.
"""

from __future__ import annotations

# The exit status of every front end: 0 nothing to report, 1 findings, 2 an error (bad input, a
# refused write, an internal error). Defined once, here; the CLI, the run (app) and the bot import it.
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class DockfixError(Exception):
    """Base class; ``str(err)`` is the message (rendered with its place by the output layer)."""

    kind = "error"  # what went wrong, for a front end that sorts errors: see the subclasses

    def __init__(self, message: str, *, path: str = "", line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column


class ConfigError(DockfixError):
    """A configuration file, profile or command-line value is invalid."""

    kind = "config"


class ParseError(DockfixError):
    """An input file cannot be read as the kind of file it claims to be."""

    kind = "parse"


class ConvergenceError(DockfixError):
    """The fix loop did not settle: a rule keeps undoing another, or it cycles."""

    kind = "convergence"


class WriteError(DockfixError):
    """A file could not be written safely (changed on disk, read-only, disk full...)."""

    kind = "write"
