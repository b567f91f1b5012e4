"""Shell regions: the shell text of a script, a Makefile or a GitHub Actions workflow, and where
each of its characters sits in the file.

A script is one region, the whole file. A Makefile's region keeps its recipe lines (a tab, then
an optional ``@``/``-``/``+``) and their continuation lines, with everything else blanked to spaces,
so offsets stay the file's own. A workflow has one region per ``run:`` step whose shell is bash or
sh, taken from a plain one-line scalar or a literal block (``|``); ``${{ expr }}`` is masked as a
same-length variable expansion for the parser. Read by :mod:`rewriter.surfaces.shell_command`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from rewriter.source import SourceFile

GHA_EXPR = re.compile(r"\$\{\{.*?\}\}")
MAKE_NAMES = frozenset({"Makefile", "makefile", "GNUmakefile"})


@dataclass
class Region:
    """Shell text taken from the file. ``origin[i]`` is the file offset of ``text[i]``
    (``None``: the same offset). ``parse_text`` has the same length as ``text`` and is what the
    parser reads (GitHub expressions masked as variables)."""

    text: str
    origin: list[int] | None = None
    parse_text: str = ""
    make: bool = False  # a Makefile recipe: $(NAME) is a make variable, not a command

    def __post_init__(self) -> None:
        if not self.parse_text:
            self.parse_text = self.text

    def to_file(self, offset: int) -> int:
        return offset if self.origin is None else self.origin[offset]


def file_flavour(path: str) -> str:
    name = os.path.basename(path)
    if name in MAKE_NAMES or name.endswith(".mk"):
        return "make"
    if name.endswith((".yml", ".yaml")):
        return "workflow"
    return "script"


def regions_of(src: SourceFile) -> list[Region]:
    flavour = file_flavour(src.path)
    if flavour == "make":
        return [_make_region(src.text)]
    if flavour == "workflow":
        return _workflow_regions(src)
    return [Region(src.text)]


def _make_region(text: str) -> Region:
    """Recipe lines (a tab, then an optional ``@``/``-``/``+``) and their continuation lines,
    with everything else blanked to spaces, so that offsets stay the file's own."""
    out = list(text)
    keep = [False] * len(text)
    pos = 0
    in_recipe = False
    continued = False
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if continued:
            in_recipe_line = in_recipe
        else:
            in_recipe_line = body.startswith("\t")
        in_recipe = in_recipe_line
        if in_recipe_line:
            start = pos
            if not continued:
                start = pos + 1
                while start < pos + len(body) and text[start] in "@-+ \t":
                    start += 1
            for i in range(start, pos + len(line)):
                keep[i] = True
        continued = in_recipe_line and body.endswith("\\") and not body.endswith("\\\\")
        pos += len(line)
    for i, ch in enumerate(text):
        if not keep[i] and ch not in "\r\n":
            out[i] = " "
    blanked = "".join(out)
    return Region(blanked, None, blanked, make=True)


def _workflow_regions(src: SourceFile) -> list[Region]:
    from rewriter.yamlview import is_mapping, is_scalar, is_sequence, parse_yaml, resolved_entries  # lazy: start-up

    doc = parse_yaml(src)
    root = doc.root
    regions: list[Region] = []
    if root is None or not is_mapping(root):
        return regions
    jobs = resolved_entries(root).get("jobs")
    if jobs is None or not is_mapping(jobs.value):
        return regions
    default_shell = _shell_default(resolved_entries(root))
    for job in resolved_entries(jobs.value).values():
        if not is_mapping(job.value):
            continue
        entries = resolved_entries(job.value)
        job_shell = _shell_default(entries) or default_shell
        steps = entries.get("steps")
        if steps is None or not is_sequence(steps.value):
            continue
        for step in steps.value.value:
            if not is_mapping(step):
                continue
            fields = resolved_entries(step)
            run = fields.get("run")
            if run is None or not is_scalar(run.value):
                continue
            shell = fields.get("shell")
            name = str(shell.value.value) if shell is not None and is_scalar(shell.value) else job_shell
            if name and not re.match(r"^(bash|sh)\b", name):
                continue
            region = _scalar_region(src.text, run.value, run.key_node.start_mark.column)
            if region is not None:
                regions.append(region)
    return regions


def _shell_default(entries: dict[str, Any]) -> str:
    from rewriter.yamlview import is_mapping, is_scalar, resolved_entries  # lazy: start-up

    defaults = entries.get("defaults")
    if defaults is None or not is_mapping(defaults.value):
        return ""
    run = resolved_entries(defaults.value).get("run")
    if run is None or not is_mapping(run.value):
        return ""
    shell = resolved_entries(run.value).get("shell")
    return str(shell.value.value) if shell is not None and is_scalar(shell.value) else ""


def _scalar_region(text: str, node: Any, key_column: int) -> Region | None:
    start, end = node.start_mark.index, node.end_mark.index
    style = node.style
    if style is None:  # plain scalar: only a single line is taken as it is
        if "\n" in text[start:end]:
            return None
        return _masked(text[start:end], list(range(start, end + 1)))
    if style != "|":
        return None  # quoted or folded: the shell text is not the file text
    header_end = text.find("\n", start)
    if header_end == -1 or header_end >= end:
        return None
    indicator = text[start:header_end].split("#", 1)[0].strip()
    digits = "".join(c for c in indicator if c.isdigit())
    pos = header_end + 1
    indent: int | None = None
    if digits:  # an explicit indentation indicator counts from the key's own indentation
        indent = key_column + int(digits)
    chars: list[str] = []
    origin: list[int] = []
    while pos < end:
        nl = text.find("\n", pos)
        line_end = nl + 1 if nl != -1 else len(text)
        line = text[pos:line_end]
        body = line.rstrip("\r\n")
        if indent is None and body.strip():
            indent = len(body) - len(body.lstrip(" "))
        skip = min(indent or 0, len(body) - len(body.lstrip(" ")))
        for i in range(pos + skip, min(line_end, end)):
            chars.append(text[i])
            origin.append(i)
        pos = line_end
    origin.append(end)
    return _masked("".join(chars), origin)


def _masked(text: str, origin: list[int]) -> Region:
    """Mask ``${{ expr }}`` as a same-length variable expansion for the parser."""
    return Region(text, origin, mask_expressions(text) if "${{" in text else text)


def mask_expressions(text: str) -> str:
    """Each ``${{ ... }}`` on one line (what ``GHA_EXPR`` matches, first ``}}`` closing) replaced by
    ``${GGG...}`` of the same length.

    A scan instead of ``GHA_EXPR.sub``: the lazy ``.*?`` restarts at every ``${{`` and runs to the
    end of the line when nothing closes it, so a 312 KB workflow line of unclosed ``${{`` took over
    100 s. Here, when the first ``}}`` after an opening lies beyond the line's end, every later
    opening on that line is unclosed too, and the scan jumps to the next line: O(n).
    """
    out: list[str] = []
    pos = 0
    search = 0
    while True:
        start = text.find("${{", search)
        if start == -1:
            break
        close = text.find("}}", start + 3)
        newline = text.find("\n", start + 3)
        if close == -1:
            break
        if newline != -1 and newline < close:
            search = newline + 1
            continue
        end = close + 2
        out.append(text[pos:start])
        out.append("${" + "G" * (end - start - 3) + "}")
        pos = search = end
    out.append(text[pos:])
    return "".join(out)
