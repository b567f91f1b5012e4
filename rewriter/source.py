"""SourceFile: the exact bytes of a file as text, and back, plus offset <-> line:column maps.

The text keeps every line ending as it is (CRLF, LF, even mixed); only a UTF-8 byte order
mark is set aside so that parsers see clean text, and it is put back on encoding.
"""

from __future__ import annotations

import bisect
import os

from rewriter.errors import ParseError

BOM = "\ufeff"


def display_path(path: str) -> str:
    """A path as users see it: relative to the working directory when under it, with '/'."""
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


class SourceFile:
    """A file's text (BOM set aside) and path. Immutable; equal when path, text and BOM are."""

    __slots__ = ("path", "text", "bom", "_line_starts")

    def __init__(self, path: str, text: str, bom: bool = False) -> None:
        self.path = path
        self.text = text
        self.bom = bom
        self._line_starts: tuple[int, ...] = ()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceFile):
            return NotImplemented
        return (self.path, self.text, self.bom) == (other.path, other.text, other.bom)

    def __hash__(self) -> int:
        return hash((self.path, self.text, self.bom))

    def __repr__(self) -> str:
        return f"SourceFile(path={self.path!r}, text=<{len(self.text)} chars>, bom={self.bom})"

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> SourceFile:
        if b"\x00" in data[:8192]:
            raise ParseError("binary file (contains NUL bytes)", path=path, line=1, column=1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
            raise ParseError(
                f"not valid UTF-8 (byte 0x{data[err.start]:02x})", path=path, line=line, column=column
            ) from None
        return cls.from_text(path, text)

    @classmethod
    def from_text(cls, path: str, text: str) -> SourceFile:
        bom = text.startswith(BOM)
        if bom:
            text = text[1:]
        return cls(path=path, text=text, bom=bom)

    def with_text(self, text: str) -> SourceFile:
        return SourceFile(path=self.path, text=text, bom=self.bom)

    def to_text(self) -> str:
        """The full text as it goes back to disk (BOM included)."""
        return (BOM if self.bom else "") + self.text

    def to_bytes(self) -> bytes:
        return self.to_text().encode("utf-8")

    @property
    def newline(self) -> str:
        """The file's own line ending: the first one found, LF for a file with none."""
        i = self.text.find("\n")
        if i > 0 and self.text[i - 1] == "\r":
            return "\r\n"
        return "\n"

    def line_starts(self) -> tuple[int, ...]:
        if not self._line_starts:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i != -1:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = tuple(starts)
        return self._line_starts

    def position(self, offset: int) -> tuple[int, int]:
        """Return the 1-based (line, column) of a text offset; columns count characters."""
        starts = self.line_starts()
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    def offset(self, line: int, column: int) -> int:
        """Inverse of :meth:`position` (1-based line and column)."""
        starts = self.line_starts()
        if line - 1 >= len(starts):
            return len(self.text)
        return min(starts[line - 1] + column - 1, len(self.text))

    def line_text(self, line: int) -> str:
        """Line ``line`` (1-based) without its line ending."""
        starts = self.line_starts()
        start = starts[line - 1]
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")
