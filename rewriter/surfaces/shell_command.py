"""Docker commands in shell text: ``docker run`` / ``docker container run`` / ``docker create`` /
``podman run``, their flags and their image word.

Scripts are parsed with tree-sitter-bash, a real shell parser with offsets, so continuations,
quoting, ``$(...)``, heredocs and comments are told apart: only command nodes count, and text that
merely mentions ``docker run`` (an ``echo`` argument, a heredoc body, a comment) is never read as
one. A command's words are read the way the docker CLI reads them
(:mod:`rewriter.surfaces.dockerflags`) to find the flags and the image word; a command whose image
word cannot be told for sure (an unknown flag, a word that may expand to several flags such as
``"${args[@]}"``) keeps the reason in ``problem``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from rewriter.errors import ParseError
from rewriter.source import SourceFile
from rewriter.surfaces import dockerflags as df
from rewriter.surfaces.shell_regions import regions_of
from rewriter.surfaces.shell_words import Parsed, TsNode, Word

NO_IMAGE = "no image word"


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


def commands_of(src: SourceFile) -> list[Command]:
    """The docker commands of a script, a Makefile or a workflow, in file order."""
    import tree_sitter  # lazy: start-up
    import tree_sitter_bash  # lazy: start-up

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    commands: list[Command] = []
    for region in regions_of(src):
        if "docker" not in region.text and "podman" not in region.text \
                and not re.search(r"DOCKER|PODMAN", region.text, re.IGNORECASE):
            continue
        parsed = Parsed(region, parser)
        for node in _command_nodes(parsed, src):
            cmd = _docker_command(parsed, node)
            if cmd is not None:
                cmd.captured = _captured(node)
                commands.append(cmd)
    commands.sort(key=lambda c: c.start)
    return commands


# Commands nested in commands (``$(``, backquotes, ``<(``, quoted ``"$(...)"``) beyond this depth
# make the file an error. Each level's words hold the text of every level inside, so reading them
# costs O(depth x length): 50,000 levels of ``$(`` took 25 s. Real scripts nest a few levels.
MAX_COMMAND_NESTING = 64


def _command_nodes(parsed: Parsed, src: SourceFile) -> Iterator[TsNode]:
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


def _docker_command(parsed: Parsed, node: TsNode) -> Command | None:
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
