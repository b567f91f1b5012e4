"""Shell words: a tree-sitter-bash node read as the shell reads it, at its offsets in the file.

A word's literal is its value after quote removal, or None when it expands at run time; a word
that may expand to several words (``"${args[@]}"``, ``$(...)``, ``$OPTS``) is marked so, since it
may hold flags and hide the image word. Offsets are file offsets: tree-sitter's byte offsets are
turned into characters, then mapped through the :class:`~rewriter.surfaces.shell_regions.Region`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rewriter.surfaces.shell_regions import Region

TsNode = Any  # tree_sitter.Node: typed at the library edge only

OPTIONS_NAME = re.compile(r"opt|arg|flag|param", re.IGNORECASE)
DYNAMIC_TYPES = frozenset({"simple_expansion", "expansion", "command_substitution",
                           "arithmetic_expansion", "process_substitution", "ansi_c_string",
                           "translated_string", "brace_expression"})


@dataclass(frozen=True)
class Word:
    start: int  # file offsets
    end: int
    raw: str  # the text as the shell reads it
    literal: str | None  # the value after quote removal; None when it expands at run time
    quote: str  # "'" or '"' when the whole word is one quoted string, else ""
    dynamic_kind: str = ""  # "list" when it may expand to several words (flags)

    @property
    def text(self) -> str:
        return self.literal if self.literal is not None else self.raw


class Parsed:
    """One region parsed: byte offsets of tree-sitter turned into file offsets."""

    def __init__(self, region: Region, parser: Any) -> None:
        self.region = region
        data = region.parse_text.encode("utf-8")
        self.tree = parser.parse(data)
        if len(data) == len(region.parse_text):
            self.char_of: list[int] | None = None
        else:
            char_of: list[int] = []
            for index, ch in enumerate(region.parse_text):
                char_of.extend([index] * len(ch.encode("utf-8")))
            char_of.append(len(region.parse_text))
            self.char_of = char_of

    def chars(self, node: TsNode) -> tuple[int, int]:
        s, e = node.start_byte, node.end_byte
        if self.char_of is not None:
            return self.char_of[s], self.char_of[e]
        return s, e

    def text(self, node: TsNode) -> str:
        s, e = self.chars(node)
        return self.region.text[s:e]

    def word(self, node: TsNode) -> Word:
        s, e = self.chars(node)
        raw = self.region.text[s:e]
        literal = _literal(node, raw, self)
        quote = ""
        if node.type == "raw_string":
            quote = "'"
        elif node.type == "string":
            quote = '"'
        kind = ""
        if literal is None:
            kind = _dynamic_kind(node, raw, self.region.make)
        end = self.region.to_file(e - 1) + 1 if e > s else self.region.to_file(s)
        return Word(self.region.to_file(s), end, raw, literal, quote, kind)


def _literal(node: TsNode, raw: str, parsed: Parsed) -> str | None:
    kind = node.type
    if kind in ("word", "number"):
        if "$" in raw or "`" in raw:
            return None
        return re.sub(r"\\(.)", r"\1", raw.replace("\\\n", ""))
    if kind == "raw_string":
        return raw[1:-1]
    if kind == "string":
        if any(c.type not in ('"', "string_content") for c in node.children):
            return None
        return re.sub(r'\\([\\"$`])', r"\1", raw[1:-1].replace("\\\n", ""))
    if kind == "concatenation":
        parts = []
        for child in node.children:
            part = _literal(child, parsed.text(child), parsed)
            if part is None:
                return None
            parts.append(part)
        return "".join(parts)
    return None


def _dynamic_kind(node: TsNode, raw: str, make: bool) -> str:
    """'list' when the word may stand for several words (flags), else 'value'."""
    if node.type == "command_substitution" and not (
            make and re.fullmatch(r"\$\([A-Za-z_][A-Za-z0-9_.-]*\)", raw)):
        # unquoted output of a command: split into any number of words (decided before any scan
        # of ``raw``, which holds every command nested inside)
        return "list"
    if "[@]" in raw or "[*]" in raw or re.search(r"\$\{?[@*]", raw):
        return "list"
    if node.type in ("simple_expansion", "expansion", "command_substitution"):
        names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", raw)
        if any(OPTIONS_NAME.search(n) for n in names[:1]):
            return "list"  # unquoted, and the name says it holds options
    return "value"
