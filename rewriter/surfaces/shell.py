"""Shell: ``docker run`` / ``docker container run`` / ``docker create`` / ``podman run`` commands.

Scripts (``*.sh``, ``*.bash``, extension-less scripts), Makefile recipes and the ``run:`` steps
of GitHub Actions workflows are parsed with tree-sitter-bash, a real shell parser with offsets,
so continuations, quoting, ``$(...)``, heredocs and comments are told apart: only command nodes
count, and text that merely mentions ``docker run`` (an ``echo`` argument, a heredoc body, a
comment) is never touched.

Each docker command is a container. Its words are read the way the docker CLI reads them
(:mod:`rewriter.surfaces.dockerflags`) to find the flags and the image word; new flags are
inserted just before the image word, inline when the image shares its line with flags, or as
new continuation lines when the command is already split over lines with the image on a line
of its own. A command whose image word cannot be told for sure (an unknown flag, a word that
may expand to several flags such as ``"${args[@]}"``) is reported but never edited.

The resolved model the oracle compares: for each docker command its leading words, its flags as
``{long name: [values]}``, its image and the words after it; and the whole text of the file with
those commands cut out, so that any change elsewhere is caught.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rewriter.edits import Edit, Fix, Intent
from rewriter.errors import ParseError
from rewriter.model import BuildSpec, Mount, Setting, Span, TmpfsMount, Ulimit, parse_tmpfs_options
from rewriter.runfacts import CommandRun
from rewriter.settings import Codec, Codecs, Key, V, as_cpus, as_text, docker_size, mount_triple, same, ulimit_pair, whole
from rewriter.sizes import ByteSize
from rewriter.source import SourceFile
from rewriter.surfaces import dockerflags as df
from rewriter.surfaces.docker_settings import DockerSettings, tmpfs_codec
from rewriter.yamlpatch import Refusal

TsNode = Any  # tree_sitter.Node: typed at the library edge only

SAFE_WORD = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")
OPTIONS_NAME = re.compile(r"opt|arg|flag|param", re.IGNORECASE)
GHA_EXPR = re.compile(r"\$\{\{.*?\}\}")
NO_IMAGE = "no image word"
MAKE_NAMES = frozenset({"Makefile", "makefile", "GNUmakefile"})
DYNAMIC_TYPES = frozenset({"simple_expansion", "expansion", "command_substitution",
                           "arithmetic_expansion", "process_substitution", "ansi_c_string",
                           "translated_string", "brace_expression"})


# -- regions: what the shell sees, and where it is in the file ---------------------------------


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


# -- words -------------------------------------------------------------------------------------


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


class _Parsed:
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


def _literal(node: TsNode, raw: str, parsed: _Parsed) -> str | None:
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


# -- docker commands ---------------------------------------------------------------------------


@dataclass
class Flag:
    name: str  # canonical long name
    word: Word  # the word holding the flag
    value: Word | None  # the separate value word, when the value is not inside ``word``
    value_text: str  # the value ("" for a boolean without '=')
    prefix: str  # text of ``word`` before an attached value ("--memory=", "-m"), else ""
    index: int  # position among the values of this flag


@dataclass
class Command:
    start: int
    end: int
    words: list[Word]
    head: list[Word]  # the words up to and including the subcommand ("docker", "run")
    flags: list[Flag] = field(default_factory=list)
    image: Word | None = None
    args: list[Word] = field(default_factory=list)
    problem: str = ""  # why the image word cannot be told for sure
    long_eq: bool = False  # the command writes long flags as --flag=value
    captured: bool = False  # inside ``$(...)`` or backquotes: the script reads its output

    def by_name(self, name: str) -> list[Flag]:
        return [f for f in self.flags if f.name == name]

    def model(self) -> dict[str, object]:
        flags: dict[str, list[str]] = {}
        for flag in self.flags:
            flags.setdefault(flag.name, []).append(flag.value_text)
        return {"head": [w.text for w in self.head], "flags": flags,
                "image": self.image.text if self.image else None,
                "args": [w.raw for w in self.args]}


def _command_head(words: list[Word]) -> int | None:
    """Index of the first word after ``docker [globals] run`` or ``podman run``, or None."""
    i = 0
    while i < len(words) and words[i].literal in df.WRAPPERS:
        i += 1
    if i >= len(words):
        return None
    name = words[i]
    tool = _tool_name(name)
    if tool is None:
        return None
    i += 1
    while i < len(words):
        text = words[i].literal
        if text is None:
            return None
        if text in df.GLOBAL_BOOL:
            i += 1
        elif text in df.GLOBAL_VALUE:
            i += 2
        elif text.startswith("--") and "=" in text and text.split("=", 1)[0] in df.GLOBAL_VALUE:
            i += 1
        else:
            break
    if i < len(words) and words[i].literal == "container":
        i += 1
    if i < len(words) and words[i].literal in ("run", "create"):
        return i + 1
    return None


def _tool_name(word: Word) -> str | None:
    if word.literal is not None:
        base = word.literal.rsplit("/", 1)[-1]
        return base if base in ("docker", "podman") else None
    # "$DOCKER run", "${DOCKER:-docker} run", make's "$(DOCKER) run": a variable named after
    # the tool ("$DOCKER_COMPOSE run" is Compose, whose run takes other flags)
    m = re.match(r'^"?\$[({]?([A-Za-z_][A-Za-z0-9_]*)', word.raw)
    if m and re.search(r"docker|podman", m.group(1), re.IGNORECASE) and \
            not re.search(r"compose", m.group(1), re.IGNORECASE):
        return m.group(1)
    return None


# Flags only ``docker run`` takes: after an unquoted ``$SSH`` they say it was not the image.
RUN_ONLY_FLAGS = frozenset({"--rm", "--privileged", "-it", "-ti", "--detach", "--interactive", "--tty",
                            "--restart", "--volume", "--publish", "--network", "--entrypoint", "--env-file"})


def _flags_follow(word: Word, after: list[Word]) -> bool:
    """Whether an unquoted variable is more likely options than the image: ``docker run $SSH
    $volumes -it --privileged -v /tmp --rm "$image" ash`` (moby/buildkit hack/shell) has run-only
    flags after it. Read as the image, ``-v /tmp`` would go unseen and a ``--tmpfs /tmp`` added
    beside it makes Docker refuse the container ("Duplicate mount point: /tmp")."""
    if word.quote or not word.raw.startswith("$"):
        return False
    return any(w.literal is not None and w.literal.split("=", 1)[0] in RUN_ONLY_FLAGS for w in after)


def _parse_flags(cmd: Command, rest: list[Word]) -> None:
    counts: dict[str, int] = {}
    eq_style: list[bool] = []

    def add(name: str, word: Word, value: Word | None, text: str, prefix: str) -> None:
        n = counts.get(name, 0)
        counts[name] = n + 1
        cmd.flags.append(Flag(name, word, value, text, prefix, n))

    i = 0
    while i < len(rest):
        word = rest[i]
        text = word.literal
        if text is None:
            if word.dynamic_kind == "list" or _flags_follow(word, rest[i + 1:]):
                cmd.problem = f"'{word.raw}' may expand to several flags, so the image word is unknown"
                return
            break  # a variable image ("$IMAGE")
        if text == "--":
            i += 1
            break
        if text.startswith("--"):
            name, eq, attached = text.partition("=")
            canon = df.canonical(name)
            if name in df.VALUE_FLAGS:
                if eq:
                    add(canon, word, None, attached, name + "=")
                    eq_style.append(True)
                    i += 1
                else:
                    if i + 1 >= len(rest):
                        cmd.problem = f"flag '{name}' has no value"
                        return
                    add(canon, word, rest[i + 1], rest[i + 1].text, "")
                    eq_style.append(False)
                    i += 2
                continue
            if name in df.BOOL_FLAGS:
                add(canon, word, None, attached, name + "=" if eq else "")
                i += 1
                continue
            cmd.problem = f"unknown flag '{name}', so the image word is unknown"
            return
        if text.startswith("-") and len(text) > 1:
            j = 1
            consumed = False
            while j < len(text):
                ch = text[j]
                if ch in df.SHORT_BOOL:
                    add(df.SHORT_BOOL[ch], word, None, "", "")
                    j += 1
                    continue
                if ch in df.SHORT_VALUE:
                    canon = df.SHORT_VALUE[ch]
                    attached = text[j + 1:]
                    if attached:
                        value = attached[1:] if attached.startswith("=") else attached
                        add(canon, word, None, value, text[: len(text) - len(value)])
                    else:
                        if i + 1 >= len(rest):
                            cmd.problem = f"flag '-{ch}' has no value"
                            return
                        add(canon, word, rest[i + 1], rest[i + 1].text, "")
                        consumed = True
                    break
                cmd.problem = f"unknown flag '-{ch}' in '{text}', so the image word is unknown"
                return
            i += 2 if consumed else 1
            continue
        break
    if i >= len(rest):
        cmd.problem = NO_IMAGE
        return
    cmd.image = rest[i]
    cmd.args = rest[i + 1:]
    cmd.long_eq = bool(eq_style) and all(eq_style)


class ShellFile:
    def __init__(self, src: SourceFile, commands: list[Command]) -> None:
        self.src = src
        self.commands = commands
        self.containers = [DockerCommand(self, n, c) for n, c in enumerate(commands)]

    def model(self) -> dict[str, object]:
        text = self.src.text
        spans = sorted((c.start, c.end) for c in self.commands)
        out: list[str] = []
        pos = 0
        for start, end in spans:
            if start < pos:
                continue  # nested inside a command already cut out
            out.append(text[pos:start])
            out.append("\x00")
            pos = end
        out.append(text[pos:])
        return {"docker": [c.model() for c in self.commands], "rest": "".join(out)}


def load(src: SourceFile) -> ShellFile:
    import tree_sitter  # lazy: start-up
    import tree_sitter_bash  # lazy: start-up

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    commands: list[Command] = []
    for region in regions_of(src):
        if "docker" not in region.text and "podman" not in region.text \
                and not re.search(r"DOCKER|PODMAN", region.text, re.IGNORECASE):
            continue
        parsed = _Parsed(region, parser)
        for node in _command_nodes(parsed, src):
            cmd = _docker_command(parsed, node)
            if cmd is not None:
                cmd.captured = _captured(node)
                commands.append(cmd)
    commands.sort(key=lambda c: c.start)
    return ShellFile(src, commands)


# Commands nested in commands (``$(``, backquotes, ``<(``, quoted ``"$(...)"``) beyond this depth
# make the file an error. Each level's words hold the text of every level inside, so reading them
# costs O(depth x length): 50,000 levels of ``$(`` took 25 s. Real scripts nest a few levels.
MAX_COMMAND_NESTING = 64


def _command_nodes(parsed: _Parsed, src: SourceFile) -> Iterator[TsNode]:
    stack: list[tuple[TsNode, int]] = [(parsed.tree.root_node, 0)]
    while stack:
        node, depth = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            continue
        if node.type == "command":
            depth += 1
            if depth > MAX_COMMAND_NESTING:
                line, column = src.position(parsed.region.to_file(parsed.chars(node)[0]))
                raise ParseError(f"commands nest more than {MAX_COMMAND_NESTING} deep (command substitutions)",
                                 path=src.path, line=line, column=column)
            if not node.has_error:
                yield node
        stack.extend((child, depth) for child in reversed(node.children))


def _captured(node: TsNode) -> bool:
    """Whether the command's output is read by the script (``v=$(docker run ...)``)."""
    parent = node.parent
    while parent is not None:
        if parent.type == "command_substitution":
            return True
        parent = parent.parent
    return False


def _docker_command(parsed: _Parsed, node: TsNode) -> Command | None:
    words: list[Word] = []
    for index in range(node.child_count):
        child = node.children[index]
        fname = node.field_name_for_child(index)
        if fname == "name":
            inner = child.children[0] if child.child_count == 1 else child
            words.append(parsed.word(inner))
        elif fname == "argument":
            words.append(parsed.word(child))
    if len(words) < 2:
        return None
    after = _command_head(words)
    if after is None:
        return None
    start = words[0].start
    end = words[-1].end
    cmd = Command(start, end, words, words[:after])
    _parse_flags(cmd, words[after:])
    if cmd.problem == NO_IMAGE:
        return None  # not a container at all ("docker run --help", a usage line)
    if cmd.problem:  # the model keeps every word as it is, so no change inside goes unseen
        cmd.flags, cmd.image, cmd.args = [], None, words[after:]
    return cmd


# -- the container -----------------------------------------------------------------------------


# How ``docker run`` spells, parses and formats each key (rewriter.settings): flags, sizes the
# go-units way (``--memory 512m``), a ulimit as ``--ulimit nofile=soft:hard``.
CODECS = Codecs({
    "memory": Codec("--memory", docker_size, ByteSize.docker),
    "swap": Codec("--memory-swap", docker_size, ByteSize.docker),
    "pids": Codec("--pids-limit", whole, same),
    "cpu": Codec("--cpus", as_cpus, same),
    "ulimit": Codec("--ulimit {}", ulimit_pair, same),
    "tmpfs": tmpfs_codec("--tmpfs", ByteSize.parse_docker, ByteSize.docker),
    "mount": Codec("--volume", mount_triple, same),
    "env": Codec("-e", as_text, same),
})


class DockerCommand(DockerSettings):
    """One docker/podman run or create command; implements :class:`rewriter.model.Container`."""

    CODECS = CODECS

    def limit_twins(self) -> list[tuple[Setting, str, Setting | None]]:
        return []  # only Compose keeps a limit in two places

    def build(self) -> BuildSpec | None:
        return None  # a command runs an image; it does not build one

    def __init__(self, file: ShellFile, index: int, cmd: Command) -> None:
        self.file = file
        self.index = index
        self.cmd = cmd
        line, _ = file.src.position(cmd.start)
        head = " ".join(w.text for w in cmd.head if w.literal not in df.WRAPPERS)
        self.scope = f"command.{index + 1}"
        self.label = f"'{head}' at line {line}"
        self.span = Span(cmd.head[0].start, cmd.head[-1].end)

    def run_facts(self) -> CommandRun:
        """How the command runs the container, as written (transforms/project.py decides whether
        that makes a tool run)."""
        cmd = self.cmd
        detach, restart = self._last("--detach"), self._last("--restart")
        tty = self._last("--tty")
        interactive = (tty is not None and tty.value_text.lower() not in ("false", "0")
                       and self._last("--interactive") is not None)
        return CommandRun(str(cmd.head[-1].literal), not cmd.problem, self._last("--rm") is not None,
                          None if detach is None else detach.value_text,
                          None if restart is None else restart.value_text, file_flavour(self.file.src.path),
                          captured=cmd.captured, interactive=interactive)

    # -- helpers -------------------------------------------------------------------------------
    def _check(self) -> Command:
        if self.cmd.problem:
            raise Refusal(self.cmd.problem)
        return self.cmd

    def _setting(self, flag: Flag, key: str, value: object) -> Setting:
        where = flag.value or flag.word
        return Setting(key, value, Span(where.start, where.end), (flag.name, flag.index))

    def _last(self, name: str) -> Flag | None:
        found = self.cmd.by_name(name)
        return found[-1] if found else None

    def _fix(self, edits: tuple[Edit, ...], intents: tuple[Intent, ...], claim: str) -> Fix:
        return Fix(message="", edits=edits, intents=intents,
                   claims=frozenset({f"{self.scope}/{claim}"}), scope=self.scope)

    def _insert(self, name: str, value: str, short: str | None = None) -> Fix:
        """Add ``name value`` just before the image word, in the command's layout."""
        cmd = self._check()
        assert cmd.image is not None
        text = self.file.src.text
        flag = short or name
        rendered = _render(value, "")
        sep = "=" if cmd.long_eq and flag.startswith("--") else " "
        at = cmd.image.start
        line_start = text.rfind("\n", 0, at) + 1
        before = text[line_start:at]
        split = re.search(r"\\\r?\n", text[cmd.start:at]) is not None
        if split and not before.strip() and line_start > 0:
            newline = "\r\n" if text[line_start - 2:line_start] == "\r\n" else "\n"
            content = f"{flag}{sep}{rendered} \\{newline}{before}"
        else:
            content = f"{flag}{sep}{rendered} "
        intent = Intent("append", ("docker", self.index, "flags", name), value)
        return self._fix((Edit(at, at, content),), (intent,), name)

    def _replace(self, flag: Flag, value: str) -> Fix:
        self._check()
        if flag.value is not None:
            edit = Edit(flag.value.start, flag.value.end, _render(value, flag.value.quote))
        else:
            edit = Edit(flag.word.start, flag.word.end, flag.prefix + _render(value, ""))
        intent = Intent("set", ("docker", self.index, "flags", flag.name, flag.index), value)
        return self._fix((edit,), (intent,), flag.name)

    def _remove(self, flags: list[Flag]) -> Fix:
        self._check()
        text = self.file.src.text
        edits: list[Edit] = []
        for flag in flags:
            start = flag.word.start
            end = flag.value.end if flag.value is not None else flag.word.end
            head = flag.prefix if flag.value is None else (flag.word.literal or "")
            if head.startswith("-") and not head.startswith("--") and len(head.rstrip("=")) > 2:
                raise Refusal(f"'{flag.word.raw}' bundles other flags")
            while end < len(text) and text[end] in " \t":
                end += 1
            line_start = text.rfind("\n", 0, start) + 1
            cont = re.match(r"\\\r?\n", text[end:])
            if cont and not text[line_start:start].strip():
                start, end = line_start, end + cont.end()
            edits.append(Edit(start, end, ""))
        total = len(self.cmd.by_name(flags[0].name))
        if len(flags) == total:
            intents: tuple[Intent, ...] = (Intent("delete", ("docker", self.index, "flags", flags[0].name)),)
        else:
            intents = tuple(Intent("delete", ("docker", self.index, "flags", f.name, f.index))
                            for f in sorted(flags, key=lambda f: -f.index))
        return self._fix(tuple(edits), intents, flags[0].name)

    # -- tmpfs ---------------------------------------------------------------------------------
    def tmpfs(self) -> list[TmpfsMount]:
        mounts: list[TmpfsMount] = []
        for flag in self.cmd.by_name("--tmpfs"):
            target, _, opts = flag.value_text.partition(":")
            mounts.append(TmpfsMount(target, parse_tmpfs_options(opts),
                                     self._setting(flag, "--tmpfs", flag.value_text), "short"))
        for flag in self.cmd.by_name("--mount"):
            fields = _mount_fields(flag.value_text)
            if fields.get("type") != "tmpfs":
                continue
            target = fields.get("destination") or fields.get("dst") or fields.get("target") or ""
            options: list[tuple[str, str]] = []
            if "tmpfs-size" in fields:
                options.append(("size", fields["tmpfs-size"]))
            if "tmpfs-mode" in fields:
                options.append(("mode", fields["tmpfs-mode"]))
            mounts.append(TmpfsMount(target, tuple(options),
                                     self._setting(flag, "--mount", flag.value_text), "long"))
        return mounts

    @property
    def name(self) -> str:
        """The container's ``--name``, or "" (config mounts match services by name)."""
        flags = self.cmd.by_name("--name")
        return flags[0].value_text if flags else ""

    def mounts(self) -> list[Mount]:
        out: list[Mount] = []
        for flag in self.cmd.by_name("--volume"):
            parts = flag.value_text.split(":")
            source, target, mode = ("", parts[0], "") if len(parts) == 1 else (parts[0], parts[1], ":".join(parts[2:]))
            out.append(Mount(source, target, "ro" in mode.split(","),
                             self._setting(flag, "--volume", flag.value_text), "short"))
        for flag in self.cmd.by_name("--mount"):
            fields = _mount_fields(flag.value_text)
            if fields.get("type", "volume") == "tmpfs":
                continue
            target = fields.get("destination") or fields.get("dst") or fields.get("target") or ""
            source = fields.get("source") or fields.get("src") or ""
            read_only = any(k in fields for k in ("readonly", "ro")) and fields.get("readonly", fields.get("ro", "true")) in ("", "1", "true")
            out.append(Mount(source, target, read_only, self._setting(flag, "--mount", flag.value_text), "long"))
        return out

    def volume_targets(self) -> set[str]:
        return {m.target.rstrip("/") or "/" for m in self.mounts() if m.target.startswith("/")}

    def add_mount(self, source: str, target: str, read_only: bool) -> Fix:
        raise Refusal("config mounts are written to Compose files only: 'docker run -v' reads a relative "
                      "source as a volume name, so add an absolute host path by hand")

    def set_mount_read_only(self, mount: Mount) -> Fix:
        raise Refusal("add ':ro' to the mount by hand")

    def add_tmpfs(self, target: str, options: str) -> Fix:
        return self._insert("--tmpfs", f"{target}:rw,{options}" if "rw" not in options.split(",")
                            else f"{target}:{options}")

    def set_tmpfs_options(self, mount: TmpfsMount, options: str) -> Fix:
        flag = self.cmd.by_name(mount.setting.keys[0])[int(mount.setting.keys[1])]  # type: ignore[arg-type]
        if mount.form == "short":
            return self._replace(flag, f"{mount.target}:{options}")
        wanted = dict(parse_tmpfs_options(options))
        extra = []
        for name in ("size", "mode"):
            if name in wanted and mount.option(name) is None:
                extra.append(f"tmpfs-{name}={wanted[name]}")
        if not extra:
            raise Refusal("nothing to change")
        return self._replace(flag, ",".join([flag.value_text, *extra]))

    # -- ulimits -------------------------------------------------------------------------------
    def ulimit(self, name: str) -> Ulimit | None:
        found = None
        for flag in self.cmd.by_name("--ulimit"):
            key, _, limits = flag.value_text.partition("=")
            if key != name:
                continue
            soft_text, _, hard_text = limits.partition(":")
            soft = _as_int(soft_text)
            hard = _as_int(hard_text) if hard_text else soft
            found = Ulimit(name, soft, hard, self._setting(flag, "--ulimit", flag.value_text),
                           "pair" if hard_text else "single")
        return found

    def set_ulimit(self, name: str, soft: int, hard: int) -> Fix:
        current = self.ulimit(name)
        value = f"{name}={soft}:{hard}"
        if current is None:
            return self._insert("--ulimit", value)
        flag = self.cmd.by_name("--ulimit")[int(current.setting.keys[1])]
        return self._replace(flag, value)

    # -- memory --------------------------------------------------------------------------------
    def memory_limits(self) -> list[Setting]:
        flag = self._last("--memory")
        return [self._setting(flag, "--memory", _value(flag.value_text))] if flag else []

    def set_memory_limit(self, value: str, where: Setting | None) -> Fix:
        flag = self._last("--memory")
        return self._replace(flag, value) if flag else self._insert("--memory", value)

    def memswap_limit(self) -> Setting | None:
        flag = self._last("--memory-swap")
        return self._setting(flag, "--memory-swap", _value(flag.value_text)) if flag else None

    def set_memswap_limit(self, value: object) -> Fix:
        flag = self._last("--memory-swap")
        return self._replace(flag, str(value)) if flag else self._insert("--memory-swap", str(value))

    # -- pids ----------------------------------------------------------------------------------
    def pids_limits(self) -> list[Setting]:
        flag = self._last("--pids-limit")
        return [self._setting(flag, "--pids-limit", _value(flag.value_text))] if flag else []

    def set_pids_limit(self, value: int, where: Setting | None) -> Fix:
        flag = self._last("--pids-limit")
        return self._replace(flag, str(value)) if flag else self._insert("--pids-limit", str(value))

    # -- Go runtime ----------------------------------------------------------------------------
    def image(self) -> str | None:
        """The image as written, outer double quotes removed (``"$IMAGE"`` gives ``$IMAGE``)."""
        word = self.cmd.image
        if word is None:
            return None
        if word.literal is None and word.quote == '"':
            return word.raw[1:-1]
        return word.text

    def env(self) -> dict[str, Setting]:
        out: dict[str, Setting] = {}
        for flag in self.cmd.by_name("--env"):
            name, eq, value = flag.value_text.partition("=")
            out[name] = self._setting(flag, "-e", value if eq else None)
        return out

    def set_env(self, name: str, value: str) -> Fix:
        flags = [f for f in self.cmd.by_name("--env") if f.value_text.partition("=")[0] == name]
        if flags:
            return self._replace(flags[-1], f"{name}={value}")
        return self._insert("--env", f"{name}={value}", short="-e")

    def remove_env(self, name: str) -> Fix:
        flags = [f for f in self.cmd.by_name("--env") if f.value_text.partition("=")[0] == name]
        if not flags:
            raise Refusal(f"no variable '{name}' to remove")
        return self._remove(flags)

    def command(self) -> tuple[str, ...]:
        """The words after the image: the container's command."""
        return tuple(w.text for w in self.cmd.args)

    def cpu_limit(self) -> Setting | None:
        flag = self._last("--cpus")
        if flag is None:
            return None
        try:
            value: object = float(flag.value_text)
        except ValueError:
            value = flag.value_text
        return self._setting(flag, "--cpus", value)


def _mount_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, eq, value = part.partition("=")
        fields[key.strip().lower()] = value.strip() if eq else "true"
    return fields


def _as_int(text: str) -> int | None:
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _value(text: str) -> object:
    """A flag value for policy: plain integers as int (bytes, counts, -1), else the text."""
    number = _as_int(text)
    return number if number is not None else text


def _render(value: str, quote: str) -> str:
    if quote == "'" and "'" not in value:
        return f"'{value}'"
    if quote == '"' and not re.search(r'["$`\\]', value):
        return f'"{value}"'
    return value if SAFE_WORD.match(value) else shlex.quote(value)
