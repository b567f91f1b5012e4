"""Python source through libcst: the parsed module with the text offsets of its nodes, the guard
that refuses Python too deep for libcst to parse safely, the module's top-level imports, and
comma-separated lists (call arguments, dict and list elements) read and edited as spans.

libcst is imported inside :class:`Module` only, so that importing this module costs nothing: the
Python surface (:mod:`rewriter.surfaces.python_sdk`) builds a Module only for a file that starts
containers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rewriter.edits import Edit
from rewriter.errors import ParseError
from rewriter.source import SourceFile

Node = Any  # libcst nodes: typed at the library edge only


class Module:
    """The parsed module with what surfaces need: text offsets of nodes, node source."""

    def __init__(self, src: SourceFile) -> None:
        import libcst as cst  # lazy: start-up
        from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider  # lazy: start-up

        self.cst = cst
        self.src = src
        check_nesting(src)
        try:
            module = cst.parse_module(src.text)
        except cst.ParserSyntaxError as err:
            raise ParseError(f"invalid Python: {err.message}", path=src.path, line=err.raw_line,
                             column=err.raw_column + 1) from None
        self.module = module
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.pos = wrapper.resolve(PositionProvider)
        self.parents = wrapper.resolve(ParentNodeProvider)

    def span(self, node: Node) -> tuple[int, int]:
        rng = self.pos[node]
        return (self.src.offset(rng.start.line, rng.start.column + 1),
                self.src.offset(rng.end.line, rng.end.column + 1))

    def code(self, node: Node) -> str:
        start, end = self.span(node)
        return self.src.text[start:end]


# libcst's native parser recurses once per bracket level and overflows the C stack (a segfault
# that takes the whole run down) from about 1,300 nested parentheses (``x=`` plus 1,500 of them: a
# 3 KB file); CPython's own tokenizer refuses more than 200 ("too many nested parentheses"), so no
# valid Python goes deeper than that limit.
MAX_BRACKETS = 200
# Chains of operators, attribute accesses, calls and subscripts nest the tree one level per link
# without any bracket, and libcst's time grows with the cube of that depth (4,000 prefix minuses:
# 37 s; 1,000: under a second). Counted per bracket level along the open levels, as below.
MAX_CHAIN = 1000
# libcst takes about 40 us per token even on flat code (a 240 KB list literal: 10 s), so a file
# that starts containers is parsed only up to this many tokens (about 1 MB of ordinary code).
MAX_TOKENS = 250_000
_CHAIN_KEYWORDS = frozenset({"not", "and", "or", "if", "else", "lambda", "await", "is", "in"})
_NOT_CHAIN = frozenset({",", ":", ";", "=", "->", "...", ":="})


def check_nesting(src: SourceFile) -> None:
    """Refuse (ParseError at the place) Python that nests deeper than libcst can parse safely.

    A pass over CPython's tokenizer, before libcst: bracket depth (and brace depth inside
    f-strings), plus the operators met on the way down (a bound on the depth of the tree an
    expression without brackets makes). A file the tokenizer gives up on is scanned for raw
    bracket depth instead.
    """
    import io  # lazy: start-up
    import tokenize  # lazy: start-up

    def refuse(what: str, row: int, col: int) -> ParseError:
        return ParseError(f"Python nests too deeply for a safe parse ({what})", path=src.path, line=row,
                          column=col + 1)

    levels: list[int] = []  # operator count of each open bracket level
    outer = 0  # the sum of ``levels``
    chain = 0  # operators at the current level of the current statement
    fstrings = 0  # f-string pieces left open in the current statement
    try:
        for count, tok in enumerate(tokenize.generate_tokens(io.StringIO(src.text).readline)):
            kind, text = tok.type, tok.string
            if count > MAX_TOKENS:
                raise ParseError(f"Python file too large to parse safely (more than {MAX_TOKENS} tokens)",
                                 path=src.path, line=tok.start[0], column=tok.start[1] + 1)
            if kind == tokenize.OP:
                if text in ("(", "[", "{"):
                    levels.append(chain)
                    outer += chain
                    chain = 0
                    if len(levels) > MAX_BRACKETS:
                        raise refuse(f"more than {MAX_BRACKETS} nested brackets", *tok.start)
                elif text in (")", "]", "}"):
                    if levels:
                        chain = levels.pop()
                        outer -= chain
                elif text not in _NOT_CHAIN and not (text.endswith("=") and text not in ("==", "<=", ">=", "!=")):
                    chain += 1
            elif kind == tokenize.NAME and text in _CHAIN_KEYWORDS:
                chain += 1
            elif kind == tokenize.STRING and "f" in text[:3].lower():
                deepest, unclosed = _brace_depth(text)
                # CPython 3.11 splits an f-string that nests its own quotes (3.12 syntax, which
                # libcst parses) into pieces: each piece left open counts as a level
                fstrings += unclosed > 0
                if len(levels) + fstrings + deepest > MAX_BRACKETS:
                    raise refuse(f"more than {MAX_BRACKETS} nested brackets", *tok.start)
            elif kind == tokenize.NEWLINE:
                chain = fstrings = 0
            if chain + outer > MAX_CHAIN:
                raise refuse(f"a chain of more than {MAX_CHAIN} operators", *tok.start)
    except (tokenize.TokenError, SyntaxError):
        depth = 0
        for index, ch in enumerate(src.text):
            if ch in "([{":
                depth += 1
                if depth > MAX_BRACKETS:
                    row, col = src.position(index)
                    raise refuse(f"more than {MAX_BRACKETS} nested brackets", row, col - 1) from None
            elif ch in ")]}" and depth:
                depth -= 1


def _brace_depth(literal: str) -> tuple[int, int]:
    """The deepest ``{`` nesting inside an f-string token (``{{`` and ``}}`` are literal braces),
    and how many are left open at its end."""
    depth = deepest = 0
    i, n = 0, len(literal)
    while i < n:
        ch = literal[i]
        if ch in "{}" and i + 1 < n and literal[i + 1] == ch and depth == 0:
            i += 2
            continue
        if ch == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == "}" and depth:
            depth -= 1
        i += 1
    return deepest, depth


def imports_of(mod: Module) -> tuple[dict[str, int], list[tuple[int, int]], int]:
    """Top-level import lines: their text (counted), their full-line spans, and the offset just
    after the last one (or after the docstring, or 0) where an added import goes."""
    cst = mod.cst
    text = mod.src.text
    counts: dict[str, int] = {}
    spans: list[tuple[int, int]] = []
    insert_at = 0
    for index, stmt in enumerate(mod.module.body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        small = stmt.body
        is_import = all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in small)
        is_doc = index == 0 and len(small) == 1 and isinstance(small[0], cst.Expr) and \
            isinstance(small[0].value, (cst.SimpleString, cst.ConcatenatedString))
        if not (is_import or is_doc):
            continue
        start, end = mod.span(stmt)
        line_start = text.rfind("\n", 0, start) + 1
        nl = text.find("\n", end)
        line_end = len(text) if nl == -1 else nl + 1
        if is_import:
            key = " ".join(mod.code(s) for s in small)
            counts[key] = counts.get(key, 0) + 1
            spans.append((line_start, line_end))
        insert_at = line_end
    return counts, spans, insert_at


def ulimit_name(mod: Module) -> str:
    """The expression that names ``docker.types.Ulimit`` with the module's own imports."""
    cst = mod.cst
    for stmt in mod.module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    name = mod.code(alias.name)
                    asname = mod.code(alias.asname.name) if alias.asname else ""
                    if name == "docker":
                        return f"{asname or 'docker'}.types.Ulimit"
                    if name == "docker.types" and not asname:
                        return "docker.types.Ulimit"
            elif isinstance(small, cst.ImportFrom) and small.module is not None and \
                    not isinstance(small.names, cst.ImportStar):
                source = mod.code(small.module)
                for alias in small.names:
                    name = mod.code(alias.name)
                    asname = mod.code(alias.asname.name) if alias.asname else ""
                    if source == "docker.types" and name == "Ulimit":
                        return asname or "Ulimit"
                    if source == "docker" and name == "types":
                        return f"{asname or 'types'}.Ulimit"
    return ""


def quote_style(text: str) -> str:
    singles = len(re.findall(r"(?<![\"'])'[^'\n]*'", text))
    doubles = len(re.findall(r'(?<![\'"])"[^"\n]*"', text))
    return "'" if singles > doubles else '"'


# -- argument lists: reading and inserting ------------------------------------------------------


@dataclass
class Args:
    """A call's arguments as the model sees them."""

    positional: list[str]
    keywords: dict[str, Node]  # name -> Arg
    star: list[str]


def read_args(mod: Module, call: Node) -> Args:
    positional: list[str] = []
    keywords: dict[str, Node] = {}
    star: list[str] = []
    for arg in call.args:
        if arg.star:
            star.append(arg.star + mod.code(arg.value))
        elif arg.keyword is not None:
            keywords[arg.keyword.value] = arg
        else:
            positional.append(mod.code(arg.value))
    return Args(positional, keywords, star)


def call_model(mod: Module, call: Node) -> dict[str, object]:
    args = read_args(mod, call)
    return {"args": args.positional, "star": args.star,
            "kwargs": {k: mod.code(a.value) for k, a in args.keywords.items()}}


def append_item(mod: Module, open_end: int, items: list[tuple[Node, Node]], rendered: str) -> Edit:
    """Insert ``rendered`` as a new last item of a comma-separated list (call arguments, dict or
    list elements). ``items`` are (item, comma-or-sentinel) pairs; ``open_end`` is just after the
    opening bracket. The layout follows the list: one item per line, or inline."""
    cst = mod.cst
    text = mod.src.text
    nl = mod.src.newline
    if not items:
        return Edit(open_end, open_end, rendered)
    last, comma = items[-1]
    start, end = mod.span(last)
    line_start = text.rfind("\n", 0, start) + 1
    starts_line = not text[line_start:start].strip()
    multiline = "\n" in text[open_end:start]
    indent = text[line_start:start]
    if isinstance(comma, cst.Comma):
        _, comma_end = mod.span(comma)
        rest_of_line = text[comma_end:text.find("\n", comma_end) if "\n" in text[comma_end:] else len(text)]
        if multiline and starts_line and (not rest_of_line.strip() or rest_of_line.strip().startswith("#")):
            at = comma_end + len(rest_of_line.rstrip("\r"))
            return Edit(at, at, f"{nl}{indent}{rendered},")
        return Edit(comma_end, comma_end, f" {rendered},")
    if multiline and starts_line:
        return Edit(end, end, f",{nl}{indent}{rendered}")
    return Edit(end, end, f", {rendered}")


def delete_item(mod: Module, items: list[tuple[Node, Node]], index: int) -> Edit:
    """Remove item ``index`` with its comma; the line too when it is alone on it."""
    cst = mod.cst
    text = mod.src.text
    item, comma = items[index]
    start, end = mod.span(item)
    if isinstance(comma, cst.Comma):
        end = mod.span(comma)[1]
    elif index > 0:  # the last item without a trailing comma: take the comma before it
        prev_item, prev_comma = items[index - 1]
        if isinstance(prev_comma, cst.Comma):
            start = mod.span(prev_comma)[0]
        return Edit(start, end, "")
    line_start = text.rfind("\n", 0, start) + 1
    nl = text.find("\n", end)
    line_end = len(text) if nl == -1 else nl + 1
    if not text[line_start:start].strip() and not text[end:line_end].strip():
        return Edit(line_start, line_end, "")
    while end < len(text) and text[end] in " \t":
        end += 1
    return Edit(start, end, "")


def string_value(mod: Module, node: Node) -> str | None:
    cst = mod.cst
    if isinstance(node, cst.SimpleString) and "f" not in node.prefix.lower():
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def int_value(mod: Module, node: Node) -> int | None:
    cst = mod.cst
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) and \
            isinstance(node.expression, cst.Integer):
        return -int(node.expression.value.replace("_", ""), 0)
    return None


def literal(mod: Module, node: Node) -> object:
    """A str or int literal's value; otherwise the expression's source text."""
    text = string_value(mod, node)
    if text is not None:
        return text
    number = int_value(mod, node)
    return number if number is not None else mod.code(node)


def quoted(value: str, quote: str) -> str:
    body = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{quote}{body}{quote}"
