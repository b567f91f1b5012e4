"""Shell: each ``docker run`` / ``docker create`` / ``podman run`` command of a script, a Makefile
or a GitHub Actions workflow is a container.

Where the shell text is (:mod:`~rewriter.surfaces.shell_regions`), how it splits into words
(:mod:`~rewriter.surfaces.shell_words`) and how a docker command's flags and image word are read
(:mod:`~rewriter.surfaces.shell_command`) live in their own modules; this one turns wanted
settings into edits of a command. New flags are inserted just before the image word, inline when
the image shares its line with flags, or as new continuation lines when the command is already
split over lines with the image on a line of its own. A command whose image word cannot be told
for sure (an unknown flag, a word that may expand to several flags such as ``"${args[@]}"``) is
reported but never edited.

The resolved model the oracle compares: for each docker command its leading words, its flags as
``{long name: [values]}``, its image and the words after it; and the whole text of the file with
those commands cut out, so that any change elsewhere is caught.
"""

from __future__ import annotations

import re
import shlex

from rewriter.edits import Edit, Fix, Intent
from rewriter.model import BuildSpec, Mount, Setting, Span, TmpfsMount, Ulimit, parse_tmpfs_options
from rewriter.runfacts import CommandRun
from rewriter.settings import Codec, Codecs, Key, V, as_cpus, as_text, docker_size, mount_triple, same, ulimit_pair, whole
from rewriter.sizes import ByteSize
from rewriter.source import SourceFile
from rewriter.surfaces import dockerflags as df
from rewriter.surfaces.docker_settings import DockerSettings, tmpfs_codec
from rewriter.surfaces.shell_command import Command, Flag, commands_of
from rewriter.surfaces.shell_regions import file_flavour
from rewriter.yamlpatch import Refusal

SAFE_WORD = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")


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
    return ShellFile(src, commands_of(src))


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
