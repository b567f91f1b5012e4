"""The layout a YAML file already uses, so that new text looks like the text around it: the
indentation step of mappings, where a sequence's dash sits under its key (``seq_offset``), the
newline, and the quote most of its quoted scalars use.
"""

from __future__ import annotations

from collections import Counter

from rewriter.record import Record
from rewriter.yamlview import Node, YamlDocument, is_flow, is_mapping, is_scalar, is_sequence, pair_is_alias


class Style(Record):
    __slots__ = ("indent", "seq_offset", "newline", "quote")

    def __init__(self, indent: int = 2, seq_offset: int = 2, newline: str = "\n", quote: str = '"') -> None:
        self.indent = indent  # columns per mapping level
        self.seq_offset = seq_offset  # dash column minus parent key column (0 = indentless sequences)
        self.newline = newline
        self.quote = quote


def detect_style(doc: YamlDocument) -> Style:
    text = doc.text
    indents: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    quotes: Counter[str] = Counter()
    stack: list[Node] = [doc.root] if doc.root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if is_mapping(node):
            for key, value in node.value:
                if is_scalar(value) and value.style in ("'", '"'):
                    quotes[value.style] += 1
                if is_flow(node) or is_flow(value) or pair_is_alias(key, value):
                    stack.append(value)
                    continue
                if is_mapping(value) and value.value:
                    child = value.value[0][0]
                    if child.start_mark.line > key.start_mark.line:
                        indents[child.start_mark.column - key.start_mark.column] += 1
                elif is_sequence(value) and value.value:
                    dash = dash_column(text, value.value[0].start_mark.index)
                    if dash is not None and value.value[0].start_mark.line > key.start_mark.line:
                        offsets[dash - key.start_mark.column] += 1
                stack.append(value)
        elif is_sequence(node):
            for item in node.value:
                if is_scalar(item) and item.style in ("'", '"'):
                    quotes[item.style] += 1
                stack.append(item)
    indent = _most_common(indents, 2)
    if indent <= 0:
        indent = 2
    offset = _most_common(offsets, indent)
    if offset < 0:
        offset = indent
    quote_style = "'" if quotes["'"] > quotes['"'] else '"'
    return Style(indent=indent, seq_offset=offset, newline=doc.src.newline, quote=quote_style)


def _most_common(counts: Counter[int], default: int) -> int:
    """The most frequent value, the first seen among equals (``most_common(1)`` needs heapq)."""
    return max(counts, key=counts.__getitem__) if counts else default


def dash_column(text: str, item_start: int) -> int | None:
    line_start = text.rfind("\n", 0, item_start) + 1
    dash = text.rfind("-", line_start, item_start)
    if dash == -1 or text[line_start:dash].strip():
        return None
    return dash - line_start
