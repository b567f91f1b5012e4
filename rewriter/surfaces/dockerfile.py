"""Dockerfiles: instructions with exact line spans, from BuildKit's own parser.

BuildKit's parser (the ``dockerfile`` package wraps its Go code) is the reference for where an
instruction starts and ends: heredocs, ``# escape=`` and continuation lines with comments inside.
This module maps its 1-based line numbers to offsets in :class:`~rewriter.source.SourceFile` and
finds, inside one instruction's raw text, the pieces a fix may remove: one command of a shell
``&&`` chain, one line of a heredoc body, one ``KEY=VALUE`` pair of ``ENV``.

The resolved model the oracle compares is the instruction list as BuildKit sees it: for each
instruction its keyword, flags, value words and heredoc bodies. A fix states its intended change
on that list (a changed value, a removed instruction), and anything else is refused.

A Dockerfile is not a container: runtime limits cannot live in an image. So this surface has no
:class:`~rewriter.model.Container`; it offers :class:`DockerfileImage`, which the image
anti-pattern transform reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rewriter.edits import Edit, Fix, Intent
from rewriter.errors import ParseError
from rewriter.model import Span
from rewriter.record import Record
from rewriter.source import SourceFile
from rewriter.yamlpatch import Refusal

_DIRECTIVE = re.compile(r"^#[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*(\S.*?)[ \t]*$")
_KNOWN_DIRECTIVES = {"syntax", "escape", "check"}
_NOOP = re.compile(r"^(?:true|:|exit 0)$")
SHELL_FORM = frozenset({"RUN", "CMD", "ENTRYPOINT"})
_RESERVED = {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case",
             "esac", "{", "}", "(", ")", "!", "function", "select"}


class Instruction(Record):
    __slots__ = (
        "index", "cmd", "flags", "value", "json", "heredocs", "start_line", "end_line", "start", "end",
    )

    def __init__(self, index: int, cmd: str, flags: tuple[str, ...], value: tuple[str, ...], json: bool,
                 heredocs: tuple[str, ...], start_line: int, end_line: int, start: int, end: int) -> None:
        self.index = index
        self.cmd = cmd  # upper case keyword, e.g. "RUN"
        self.flags = flags
        self.value = value
        self.json = json
        self.heredocs = heredocs  # heredoc bodies
        self.start_line = start_line  # 1-based, as BuildKit reports
        self.end_line = end_line
        self.start = start  # text offsets: first character of the keyword ...
        self.end = end  # ... to the end of the last line (line ending excluded)

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    @property
    def scope(self) -> str:
        return f"instructions.{self.index}"

    def model(self) -> dict[str, object]:
        return {"cmd": self.cmd, "flags": list(self.flags), "value": list(self.value),
                "json": self.json, "heredocs": list(self.heredocs)}


class Segment(Record):
    """One simple command of a shell-form instruction (or of a heredoc body line)."""

    __slots__ = ("text", "span", "index", "count", "heredoc")

    def __init__(self, text: str, span: Span, index: int, count: int, heredoc: int = -1) -> None:
        self.text = text  # the raw text of the command (continuations included)
        self.span = span
        self.index = index  # position in its list
        self.count = count  # how many commands the list has
        self.heredoc = heredoc  # heredoc number, or -1 for the instruction's own command line


class EnvPair(Record):
    __slots__ = ("key", "value", "span", "value_span", "index", "count")

    def __init__(self, key: str, value: str, span: Span, value_span: Span, index: int, count: int) -> None:
        self.key = key
        self.value = value  # the raw value text (quotes kept, as BuildKit keeps them)
        self.span = span  # the whole KEY=VALUE token
        self.value_span = value_span
        self.index = index  # pair number within the ENV
        self.count = count


class DockerfileImage:
    """One Dockerfile as the anti-pattern transform sees it."""

    def __init__(self, src: SourceFile, instructions: list[Instruction], directive_lines: int,
                 escape: str) -> None:
        self.src = src
        self.text = src.text
        self.instructions = instructions
        self.directive_lines = directive_lines
        self.escape = escape
        self.scope = "dockerfile"
        self.label = f"Dockerfile '{src.path}'"
        first = instructions[0] if instructions else None
        self.span = first.span if first else Span(0, 0)

    # -- reading -------------------------------------------------------------------------------
    def stages(self) -> list[tuple[int, list[Instruction]]]:
        """(index of the FROM, instructions of the stage including the FROM) per stage."""
        out: list[tuple[int, list[Instruction]]] = []
        for ins in self.instructions:
            if ins.cmd == "FROM":
                out.append((ins.index, [ins]))
            elif out:
                out[-1][1].append(ins)
        return out

    def raw(self, ins: Instruction) -> str:
        return self.text[ins.start:ins.end]

    def line_of(self, offset: int) -> int:
        return self.src.position(offset)[0]

    def segments(self, ins: Instruction) -> list[Segment]:
        """The simple commands of a shell-form RUN/CMD/ENTRYPOINT, and of each heredoc line."""
        if ins.cmd not in SHELL_FORM or ins.json:
            return []
        out: list[Segment] = []
        start = self._value_start(ins)
        if ins.heredocs:
            first_nl = self.text.find("\n", ins.start)
            out.extend(self._split(start, first_nl if first_nl != -1 else ins.end))
            out.extend(self._heredoc_segments(ins))
        else:
            out.extend(self._split(start, ins.end))
        return out

    def env_pairs(self, ins: Instruction) -> list[EnvPair]:
        """The KEY=VALUE pairs of an ENV (or the one KEY VALUE pair of the legacy form)."""
        if ins.cmd != "ENV" or ins.heredocs:
            return []
        start = self._value_start(ins)
        tokens = list(self._words(start, ins.end))
        if not tokens:
            return []
        first_text = self.text[tokens[0][0]:tokens[0][1]]
        if "=" not in first_text.split('"')[0].split("'")[0]:
            # legacy ``ENV KEY value with spaces``
            key_end = tokens[0][1]
            value_start = tokens[1][0] if len(tokens) > 1 else key_end
            span = Span(tokens[0][0], ins.end)
            return [EnvPair(first_text, self.text[value_start:ins.end], span,
                            Span(value_start, ins.end), 0, 1)]
        pairs = []
        for n, (a, b) in enumerate(tokens):
            word = self.text[a:b]
            key, _, _ = word.partition("=")
            eq = a + len(key) + 1
            pairs.append(EnvPair(key, self.text[eq:b], Span(a, b), Span(eq, b), n, len(tokens)))
        return pairs

    # -- changing --------------------------------------------------------------------------------
    def _fix(self, ins: Instruction, edits: tuple[Edit, ...], intents: tuple[Intent, ...]) -> Fix:
        # Intents address instructions by index, which a removal shifts: one fix per pass.
        return Fix(message="", edits=edits, intents=intents,
                   claims=frozenset({f"{self.scope}/instructions"}), scope=ins.scope)

    def remove_instruction(self, ins: Instruction) -> Fix:
        start = self.src.line_starts()[ins.start_line - 1]
        end = ins.end
        nl = self.text.find("\n", end)
        end = len(self.text) if nl == -1 else nl + 1
        if nl == -1 and start > 0:
            # last line without a final newline: take the newline before it instead
            start -= 1
            if start > 0 and self.text[start - 1] == "\r":
                start -= 1
        return self._fix(ins, (Edit(start, end, ""),), (Intent("delete", ("instructions", ins.index)),))

    def remove_segment(self, ins: Instruction, seg: Segment) -> Fix:
        """Remove one command of a list, with one of its separators; the rest stays as written."""
        if seg.heredoc >= 0:
            return self._remove_heredoc_line(ins, seg)
        segs = [s for s in self.segments(ins) if s.heredoc < 0]
        if any(_first_word(s.text) in _RESERVED for s in segs):
            raise Refusal("the command is part of a compound shell statement; edit it by hand")
        rest = [s for s in segs if s.index != seg.index]
        if all(_NOOP.match(s.text) for s in rest):
            # "echo x > /sys/fs/cgroup/... || true": nothing of use is left
            if ins.cmd != "RUN" or ins.heredocs:
                raise Refusal(f"it is the whole {ins.cmd}; removing it would change what the image runs")
            return self.remove_instruction(ins)
        k = seg.index
        if k < len(segs) - 1:
            edit = self._remove_with_separator(seg, segs[k + 1])
        else:
            edit = Edit(segs[k - 1].span.end, seg.span.end, "")
        new_value = _remove_joined(ins, k, self.escape)
        if new_value is None:
            raise Refusal("cannot tell how the parser joins this command's lines")
        return self._fix(ins, (edit,), (Intent("set", ("instructions", ins.index, "value"), [new_value]),))

    def _remove_with_separator(self, seg: Segment, following: Segment) -> Edit:
        """Remove a command and one separator next to it; comment lines in between stay."""
        text = self.text
        a, b = seg.span.start, following.span.start
        line_start = text.rfind("\n", 0, a) + 1
        lead = text[line_start:a]
        after_seg = self._continuation_end(self._skip_spaces(seg.span.end), b)
        if lead.strip() in ("&&", "||", ";") and after_seg is not None:
            # leading-separator style: "    && cmd \" -- the whole line goes
            return Edit(line_start, after_seg, "")
        m = re.compile(r"[ \t]*(?:&&|\|\||;)[ \t]*").match(text, seg.span.end)
        sep_end = m.end() if m else seg.span.end
        nl = text.find("\n", sep_end, b)
        if not lead.strip() and nl != -1 and self._continuation_end(sep_end, b) == nl + 1:
            return Edit(line_start, nl + 1, "")  # the command's whole line, continuation and all
        if nl != -1 and self._skip_comment_lines(nl + 1, b) != nl + 1:
            return Edit(a, sep_end, "")  # keep the continuation and the comment lines after it
        return Edit(a, b, "")

    def _skip_spaces(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in " \t":
            i += 1
        return i

    def _remove_heredoc_line(self, ins: Instruction, seg: Segment) -> Fix:
        line = self.line_of(seg.span.start)
        starts = self.src.line_starts()
        line_start = starts[line - 1]
        if self.text[line_start:seg.span.start].strip() or seg.count != 1:
            raise Refusal("the heredoc line holds more than this command")
        end = self.text.find("\n", seg.span.end)
        end = len(self.text) if end == -1 else end + 1
        body = ins.heredocs[seg.heredoc]
        removed = self.text[line_start:end].replace("\r\n", "\n")
        if removed not in body:
            raise Refusal("cannot find the line in the heredoc body")
        new_body = body.replace(removed, "", 1)
        if not new_body.strip():
            if len(ins.heredocs) == 1 and ins.cmd == "RUN":
                return self.remove_instruction(ins)
            raise Refusal("the heredoc would be empty")
        return self._fix(ins, (Edit(line_start, end, ""),),
                         (Intent("set", ("instructions", ins.index, "heredocs", seg.heredoc), new_body),))

    def remove_env_pair(self, ins: Instruction, pair: EnvPair) -> Fix:
        pairs = self.env_pairs(ins)
        if len(pairs) == 1:
            return self.remove_instruction(ins)
        k = pair.index
        if k < len(pairs) - 1:
            edit = Edit(pair.span.start, pairs[k + 1].span.start, "")
        else:
            edit = Edit(pairs[k - 1].span.end, pair.span.end, "")
        value = list(ins.value)
        del value[2 * k:2 * k + 2]
        return self._fix(ins, (edit,), (Intent("set", ("instructions", ins.index, "value"), value),))

    def set_env_value(self, ins: Instruction, pair: EnvPair, raw_value: str) -> Fix:
        """Replace the raw value text of one pair (the caller keeps its quoting)."""
        value = list(ins.value)
        value[2 * pair.index + 1] = raw_value
        edit = Edit(pair.value_span.start, pair.value_span.end, raw_value)
        return self._fix(ins, (edit,), (Intent("set", ("instructions", ins.index, "value"), value),))

    # -- scanning --------------------------------------------------------------------------------
    def _value_start(self, ins: Instruction) -> int:
        """Offset of the instruction's first argument after the keyword and any ``--flags``."""
        pos = ins.start + len(ins.cmd)
        flags_left = len(ins.flags)
        for a, b in self._words(pos, ins.end):
            if flags_left and self.text.startswith("--", a):
                flags_left -= 1
                continue
            return a
        return ins.end

    def _words(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        """Whitespace-separated words with quotes, skipping continuations and comment lines."""
        text, esc = self.text, self.escape
        i = start
        while i < end:
            i = self._skip_blank(i, end)
            if i >= end:
                return
            a = i
            quote = ""
            while i < end:
                c = text[i]
                if quote:
                    if c == esc and quote == '"' and i + 1 < end:
                        i += 2
                        continue
                    if c == quote:
                        quote = ""
                    i += 1
                    continue
                if c in "'\"":
                    quote = c
                    i += 1
                    continue
                if c == esc and self._continuation_end(i, end) is not None:
                    break
                if c == esc and i + 1 < end:
                    i += 2
                    continue
                if c in " \t\r\n":
                    break
                i += 1
            yield a, i

    def _continuation_end(self, i: int, end: int) -> int | None:
        """If ``text[i]`` is an escape that ends its line, the offset after the newline."""
        m = re.compile(r"[ \t]*\r?\n").match(self.text, i + 1, end + 1)
        return m.end() if m else None

    def _skip_blank(self, i: int, end: int) -> int:
        text = self.text
        while i < end:
            c = text[i]
            if c in " \t":
                i += 1
            elif c == self.escape and (after := self._continuation_end(i, end)) is not None:
                i = self._skip_comment_lines(after, end)
            elif c in "\r\n":
                i = self._skip_comment_lines(i + 1, end)
            else:
                break
        return i

    def _skip_comment_lines(self, i: int, end: int) -> int:
        """After a continuation: skip whole lines that are comments or blank (BuildKit drops them)."""
        text = self.text
        while i < end:
            nl = text.find("\n", i)
            line = text[i:nl if nl != -1 else end]
            stripped = line.strip()
            if stripped.startswith("#") or (not stripped and nl != -1 and nl < end):
                i = nl + 1 if nl != -1 else end
                continue
            break
        return i

    def _split(self, start: int, end: int, heredoc: int = -1) -> list[Segment]:
        """Split ``text[start:end]`` at unquoted ``&&``, ``||`` and ``;``."""
        text, esc = self.text, self.escape
        bounds: list[tuple[int, int]] = []
        seg_start = self._skip_blank(start, end)
        i = seg_start
        quote = ""
        while i < end:
            c = text[i]
            if quote:
                if c == "\\" and quote == '"' and i + 1 < end:
                    i += 2
                    continue
                if c == quote:
                    quote = ""
                i += 1
                continue
            if c in "'\"":
                quote = c
                i += 1
                continue
            if c == esc and heredoc < 0 and (after := self._continuation_end(i, end)) is not None:
                i = self._skip_comment_lines(after, end)
                continue
            if c == "\\" and i + 1 < end:
                i += 2
                continue
            sep = 2 if text.startswith(("&&", "||"), i) else (1 if c == ";" else 0)
            if sep:
                bounds.append((seg_start, self._trim_end(seg_start, i)))
                i += sep
                seg_start = self._skip_blank(i, end)
                i = seg_start
                continue
            i += 1
        if seg_start < end:
            bounds.append((seg_start, self._trim_end(seg_start, end)))
        bounds = [(a, b) for a, b in bounds if b > a]
        return [Segment(text[a:b], Span(a, b), n, len(bounds), heredoc) for n, (a, b) in enumerate(bounds)]

    def _trim_end(self, a: int, b: int) -> int:
        """The end of a command: before trailing blanks and a trailing line continuation."""
        text, esc = self.text, self.escape
        while b > a:
            c = text[b - 1]
            if c in " \t\r\n":
                b -= 1
            elif c == esc and self._continuation_end(b - 1, len(text)) is not None:
                b -= 1
            else:
                break
        return b

    def _heredoc_segments(self, ins: Instruction) -> Iterator[Segment]:
        """Each body line of each heredoc, split into commands (a line ending in ``\\`` is skipped)."""
        starts = self.src.line_starts()
        line = ins.start_line + 1
        for n, body in enumerate(ins.heredocs):
            body_lines = body.split("\n")
            if body_lines and body_lines[-1] == "":
                body_lines.pop()
            previous_continues = False
            for offset in range(len(body_lines)):
                number = line + offset
                if number - 1 >= len(starts):
                    break
                a = starts[number - 1]
                b = a + len(self.src.line_text(number))
                raw = self.text[a:b]
                if not previous_continues and not raw.rstrip().endswith("\\") and raw.strip() \
                        and not raw.strip().startswith("#"):
                    yield from self._split(a, b, heredoc=n)
                previous_continues = raw.rstrip().endswith("\\")
            line += len(body_lines) + 1  # the terminator line


def _first_word(text: str) -> str:
    word = text.split(None, 1)[0] if text.split() else ""
    return "(" if word.startswith("(") else ("{" if word == "{" else word)


def _remove_joined(ins: Instruction, k: int, escape: str) -> str | None:
    """The instruction's joined value (as BuildKit reports it) without command ``k``."""
    if len(ins.value) != 1:
        return None
    value = ins.value[0]
    src = SourceFile.from_text("<value>", value)
    view = DockerfileImage(src, [], 0, escape)
    segs = view._split(0, len(value))
    if k >= len(segs):
        return None
    if k < len(segs) - 1:
        return value[:segs[k].span.start] + value[segs[k + 1].span.start:]
    return value[:segs[k - 1].span.end] + value[segs[k].span.end:]


# -- loading ------------------------------------------------------------------------------------


def directives(text: str) -> tuple[int, str]:
    """(number of parser-directive lines at the top, escape character)."""
    escape = "\\"
    count = 0
    for line in text.split("\n"):
        m = _DIRECTIVE.match(line.rstrip("\r"))
        if not m or m.group(1).lower() not in _KNOWN_DIRECTIVES:
            break
        if m.group(1).lower() == "escape" and m.group(2) in ("`", "\\"):
            escape = m.group(2)
        count += 1
    return count, escape


_HEREDOC_START = re.compile(r"<<-?\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")


def _unterminated_heredoc(text: str) -> tuple[int, int, str] | None:
    """(line, column, end word) of the first heredoc whose end word never comes: the parser only says
    "unterminated heredoc", and the mistake is where it opens, not at 1:1."""
    lines = text.splitlines()
    n = 0
    while n < len(lines):
        start = n
        line = lines[n]
        n += 1
        if line.lstrip().startswith("#"):
            continue
        for m in _HEREDOC_START.finditer(line):
            while n < len(lines) and lines[n].strip() != m.group(2):
                n += 1
            if n >= len(lines):
                return start + 1, m.start() + 1, m.group(2)
            n += 1
    return None


def parse(src: SourceFile) -> list[Instruction]:
    import dockerfile  # lazy: start-up

    try:
        commands = dockerfile.parse_string(src.text)
    except dockerfile.GoParseError as err:
        message = str(err)
        m = re.search(r"line (\d+)", message)
        line, column = int(m.group(1)) if m else 1, 1
        heredoc = None if m else _unterminated_heredoc(src.text)
        if heredoc is not None:
            line, column, word = heredoc
            message += f": no line '{word}' ends the heredoc opened here"
        raise ParseError(f"invalid Dockerfile: {message}", path=src.path, line=line, column=column) from None
    starts = src.line_starts()
    out: list[Instruction] = []
    for n, c in enumerate(commands):
        if c.start_line < 1 or c.start_line > len(starts):
            raise ParseError("the Dockerfile parser reported a line outside the file", path=src.path,
                             line=1, column=1)
        line_start = starts[c.start_line - 1]
        first = src.line_text(c.start_line)
        indent = len(first) - len(first.lstrip())
        end_line = min(c.end_line, len(starts))
        end = starts[end_line - 1] + len(src.line_text(end_line))
        out.append(Instruction(n, c.cmd.upper(), tuple(c.flags), tuple(c.value), bool(c.json),
                               tuple(h.content for h in c.heredocs), c.start_line, c.end_line,
                               line_start + indent, end))
    return out


def load(src: SourceFile) -> DockerfileImage:
    count, escape = directives(src.text)
    return DockerfileImage(src, parse(src), count, escape)


def resolved_model(src: SourceFile) -> object:
    """The instruction list as BuildKit sees it: what the oracle compares."""
    return {"instructions": [ins.model() for ins in parse(src)]}


def format_env_value(raw: str, new_inner: str) -> str:
    """``new_inner`` with the quoting ``raw`` used (``"a=1,b=2"`` stays double-quoted)."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[0] + new_inner + raw[0]
    return new_inner


def unquote_env_value(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return raw


__all__ = ["DockerfileImage", "EnvPair", "Instruction", "Segment", "directives", "load",
           "parse", "resolved_model"]
