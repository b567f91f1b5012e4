"""YAML text for new values: render trees (a scalar already quoted, a mapping, a sequence),
scalars written plain when they read back as the same string and quoted otherwise, and the flow
(``{a: 1}``, ``[x]``) and block layouts in a file's :class:`~rewriter.yamlstyle.Style`.
"""

from __future__ import annotations

import functools
import re

from rewriter.yamlstyle import Style
from rewriter.yamlview import scalar_value


class RScalar:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text  # already rendered (quoted if needed)


class RMap:
    __slots__ = ("items",)

    def __init__(self, items: list[tuple[str, RValue]] | None = None) -> None:
        self.items = items if items is not None else []


class RSeq:
    __slots__ = ("items",)

    def __init__(self, items: list[RValue] | None = None) -> None:
        self.items = items if items is not None else []


TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from typing import TypeAlias

    RValue: TypeAlias = RScalar | RMap | RSeq

_YAML11_SPECIAL = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON",
                   "off", "Off", "OFF"}
_NUMBERISH = re.compile(r"^[-+]?(\.?[0-9]|\.(inf|nan))", re.IGNORECASE)
_NUMBER_LIKE = re.compile(r"^[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?$|^[-+]?[0-9_]+(:[0-5]?[0-9])+(\.[0-9_]*)?$|^0[xob]")


@functools.lru_cache(maxsize=4096)
def plain_ok(text: str, flow: bool) -> bool:
    """Whether ``text`` can be written as a plain scalar and still read back as that string."""
    if not text or text != text.strip() or "\n" in text or "\r" in text or "\t" in text:
        return False
    if text[0] in "-?:,[]{}#&*!|>'\"%@`" and not (text[0] in "-?:" and len(text) > 1 and text[1] != " "):
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and any(c in text for c in ",[]{}"):
        return False
    if text in _YAML11_SPECIAL:
        return False
    probe = _Scalar(text)
    if scalar_value(probe) != text:
        return False
    if _NUMBERISH.match(text) and _NUMBER_LIKE.match(text):
        return False
    return True


class _Scalar:
    """A stand-in node for :func:`scalar_value` on text that was never parsed."""

    id = "scalar"
    style = None
    tag = None

    def __init__(self, value: str) -> None:
        self.value = value


def quote(text: str, style: str) -> str:
    if style == "'" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def render_scalar(value: object, *, flow: bool, quote_style: str = '"', force_quote: str | None = None) -> RScalar:
    if value is None:
        return RScalar("null")
    if isinstance(value, bool):
        return RScalar("true" if value else "false")
    if isinstance(value, int):
        return RScalar(str(value))
    text = str(value)
    if force_quote:
        return RScalar(quote(text, force_quote))
    if plain_ok(text, flow):
        return RScalar(text)
    return RScalar(quote(text, quote_style))


def to_render(value: object, *, flow: bool, quote_style: str = '"') -> RValue:
    if isinstance(value, dict):
        return RMap([(render_scalar(k, flow=flow, quote_style=quote_style).text,
                      to_render(v, flow=flow, quote_style=quote_style)) for k, v in value.items()])
    if isinstance(value, list):
        return RSeq([to_render(v, flow=flow, quote_style=quote_style) for v in value])
    return render_scalar(value, flow=flow, quote_style=quote_style)


def render_flow(value: RValue) -> str:
    if isinstance(value, RScalar):
        return value.text
    if isinstance(value, RMap):
        return "{" + ", ".join(f"{k}: {render_flow(v)}" for k, v in value.items) + "}"
    return "[" + ", ".join(render_flow(v) for v in value.items) + "]"


def render_block_value(style: Style, value: RValue, key_col: int) -> str:
    """The text after ``key:`` for a value at block level."""
    nl = style.newline
    if isinstance(value, RScalar):
        return " " + value.text
    if isinstance(value, RMap):
        if not value.items:
            return " {}"
        col = key_col + style.indent
        return "".join(nl + " " * col + k + ":" + render_block_value(style, v, col) for k, v in value.items)
    if not value.items:
        return " []"
    dash = key_col + style.seq_offset
    return "".join(nl + " " * dash + "-" + render_block_item(style, v, dash) for v in value.items)


def render_block_item(style: Style, value: RValue, dash_col: int) -> str:
    nl = style.newline
    if isinstance(value, RScalar):
        return " " + value.text
    if isinstance(value, RMap) and value.items:
        col = dash_col + 2
        parts = []
        for n, (k, v) in enumerate(value.items):
            prefix = " " if n == 0 else nl + " " * col
            parts.append(prefix + k + ":" + render_block_value(style, v, col))
        return "".join(parts)
    return " " + render_flow(value)
