"""Typed settings: the one seam between policy (transforms) and surfaces (file kinds).

A transform never sees how a file spells a setting. It asks a container for a **key** and gets a
**typed value** back, with where it is written; it hands a typed value to ``set`` and gets a
:class:`~rewriter.edits.Fix`. Each surface owns one codec table (:class:`Codecs`) saying, per kind
of key, how it spells the setting (for messages), how it parses what is written and how it
formats a value::

    limit = container.get(MEMORY)            # Found[ByteSize] | None
    limit.value                              # ByteSize(536870912), whether written 512m or 512Mi
    limit.described()                        # "mem_limit '512m'", the surface's own spelling
    container.set(MEMORY, ByteSize.mib(512)) # Compose writes 512m, Kubernetes 512Mi
    container.supports(SWAP)                 # False where the file kind cannot say it

Keys (:class:`Key`): ``MEMORY`` and ``SWAP`` (:class:`~rewriter.sizes.ByteSize`; ``SWAP`` is
Docker's memory + swap total, ``ByteSize(-1)`` unlimited), ``PIDS`` (int; 0 or less unlimited),
``CPU`` (float, CPUs), ``ulimit(name)`` (:class:`Ulimits`), ``tmpfs(target)``
(:class:`TmpfsSpec`), ``mount(target)`` and ``config_mount(target)`` (:class:`MountSpec`) and
``env(name)`` (str). A key
without a target or name (``tmpfs()``, ``mount()``, ``env()``) finds every one of its kind.

Everything here is a slotted :class:`~rewriter.record.Record` and nothing imports ``typing`` at
run time: this module is on the cold path of ``dockfix apply -`` (README "Reliability and speed").
The generic parameters exist for mypy only (see :class:`Typed`).
"""

from __future__ import annotations

from rewriter.record import Record
from rewriter.sizes import ByteSize

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Generic, TypeVar

    V = TypeVar("V")

    class Typed(Generic[V]):
        """For mypy, ``Key[ByteSize]``, ``Found[int]``, ``Codec[TmpfsSpec]`` are generic."""

        __slots__ = ()
else:
    V = None

    class Typed:
        """At run time, ``Key[ByteSize]`` is just :class:`Key` (no ``typing`` import)."""

        __slots__ = ()

        def __class_getitem__(cls, item: object) -> type:
            return cls


class Span(Record):
    """Offsets into a file's text: where a setting is written, where a finding points."""

    __slots__ = ("start", "end")

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end


class Key(Record, Typed[V]):
    """A setting, as policy names it: its kind and, for some kinds, a name or a target."""

    __slots__ = ("kind", "name")

    def __init__(self, kind: str, name: str = "") -> None:
        self.kind = kind  # one of KINDS
        self.name = name  # the ulimit's name, the tmpfs's or mount's target, the variable; "" for all

    def matches(self, name: str) -> bool:
        """Whether a setting of this kind written for ``name`` is this key's (``/tmp/`` is ``/tmp``)."""
        if not self.name:
            return True
        if self.kind in ("tmpfs", "mount", "config-mount"):
            return (name.rstrip("/") or "/") == (self.name.rstrip("/") or "/")
        return name == self.name


class Ulimits(Record):
    """A ulimit's soft and hard values; None where it is not written or cannot be read."""

    __slots__ = ("soft", "hard")

    def __init__(self, soft: int | None, hard: int | None) -> None:
        self.soft = soft
        self.hard = hard


class MountSpec(Record):
    """A bind mount or volume (not a tmpfs): source ("" for an anonymous volume), target, read-only."""

    __slots__ = ("source", "target", "read_only")

    def __init__(self, source: str, target: str, read_only: bool) -> None:
        self.source = source
        self.target = target
        self.read_only = read_only


class TmpfsSpec(Record):
    """A tmpfs: its target, its size and mode, its flags (``exec``, ``noexec``, ``rw``...).

    ``written`` is the option list as the file has it (name, text; a flag's text is ""): what a
    change does not touch is written back exactly as it was (``size=64M`` stays ``64M`` when only
    ``exec`` is added), and messages quote it. A new spec has none.
    """

    __slots__ = ("target", "size", "mode", "flags", "written")

    def __init__(self, target: str, size: ByteSize | None = None, mode: int | None = None,
                 flags: tuple[str, ...] = (), written: tuple[tuple[str, str], ...] = ()) -> None:
        self.target = target
        self.size = size
        self.mode = mode  # 0o1777
        self.flags = flags
        self.written = written

    def option(self, name: str) -> str | None:
        """An option as written (``"64M"``; ``""`` for a flag), None when not written."""
        for key, value in self.written:
            if key == name:
                return value
        return None

    def with_flag(self, flag: str) -> TmpfsSpec:
        return self if flag in self.flags else self.replace(flags=self.flags + (flag,))

    def without_flag(self, flag: str) -> TmpfsSpec:
        return self.replace(flags=tuple(f for f in self.flags if f != flag))


def tmpfs_spec(target: str, written: tuple[tuple[str, str], ...],
               parse_size: Callable[[str], ByteSize | None]) -> TmpfsSpec:
    """A spec from options as written (``size=64m,mode=1777,noexec``), sizes read by the surface's
    rule; the first size and mode count, as :meth:`TmpfsSpec.option` reads them."""
    size: ByteSize | None = None
    mode: int | None = None
    flags: list[str] = []
    seen: set[str] = set()
    for name, value in written:
        if name in ("size", "mode"):
            if name not in seen:
                if name == "size":
                    size = parse_size(value)
                else:
                    mode = _octal(value)
            seen.add(name)
        elif value == "" and name not in flags:
            flags.append(name)
    return TmpfsSpec(target, size, mode, tuple(flags), written)


def tmpfs_options(spec: TmpfsSpec, parse_size: Callable[[str], ByteSize | None],
                  format_size: Callable[[ByteSize], str]) -> tuple[tuple[str, str], ...]:
    """The options to write for ``spec``: those written and unchanged as they are, changed ones in
    place, new ones after them (size, mode, then flags)."""
    before = tmpfs_spec(spec.target, spec.written, parse_size)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, value in spec.written:
        seen.add(name)
        if name == "size":
            if spec.size == before.size:
                out.append((name, value))
            elif spec.size is not None:
                out.append((name, format_size(spec.size)))
        elif name == "mode":
            if spec.mode == before.mode:
                out.append((name, value))
            elif spec.mode is not None:
                out.append((name, f"{spec.mode:o}"))
        elif value != "" or name in spec.flags:
            out.append((name, value))
    if spec.size is not None and "size" not in seen:
        out.append(("size", format_size(spec.size)))
    if spec.mode is not None and "mode" not in seen:
        out.append(("mode", f"{spec.mode:o}"))
    out.extend((flag, "") for flag in spec.flags if flag not in seen)
    return tuple(out)


def parse_options(text: str) -> tuple[tuple[str, str], ...]:
    """``size=64m,mode=1777,noexec`` as (name, text) pairs, a flag's text ""."""
    out: list[tuple[str, str]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        out.append((key, value if sep else ""))
    return tuple(out)


def format_options(options: tuple[tuple[str, str], ...]) -> str:
    return ",".join(f"{k}={v}" if v != "" else k for k, v in options)


def _octal(text: str) -> int | None:
    try:
        return int(text, 8)
    except ValueError:
        return None


class Found(Record, Typed[V]):
    """A key's value as a container has it, and where it is written.

    ``value`` is typed (None when written but unreadable: an unset variable, a malformed size);
    ``written`` is the value as the surface read it (messages quote it); ``name`` is how the
    surface spells the setting there (``mem_limit``, ``--memory``, ``environment GOMEMLIMIT``);
    ``origin`` says where it comes from when that is not the definition itself (``inherited from
    '&defaults'``, ``set in compose.yaml``); ``place`` and ``form`` belong to the surface (which
    entry, which syntax: a long-syntax tmpfs cannot say ``exec``).
    """

    __slots__ = ("key", "value", "name", "written", "span", "origin", "place", "form")

    def __init__(self, key: Key[V], value: V | None, name: str, written: object, span: Span,
                 origin: str = "", place: object = None, form: str = "") -> None:
        self.key = key
        self.value = value
        self.name = name
        self.written = written
        self.span = span
        self.origin = origin
        self.place = place
        self.form = form

    def described(self) -> str:
        """``mem_limit '512m'`` plus where it came from."""
        text = f"{self.name} '{self.written}'"
        return f"{text} ({self.origin})" if self.origin else text


class Codec(Record, Typed[V]):
    """How one surface spells, parses and formats one kind of key.

    ``name`` is the setting's name in messages; ``{}`` stands for the key's name (``ulimits.{}``,
    ``--ulimit {}``). ``parse`` reads what the file has (text, or a YAML/Python value) into the
    typed value, None when it cannot; ``format`` gives what to write for a typed value.
    """

    __slots__ = ("name", "parse", "format")

    def __init__(self, name: str, parse: Callable[[object], V | None], format: Callable[[V], object]) -> None:
        self.name = name
        self.parse = parse
        self.format = format

    def spelled(self, key: Key[V]) -> str:
        return self.name.replace("{}", key.name) if "{}" in self.name else self.name


class Codecs(Record):
    """A surface's codec table: one :class:`Codec` per kind of key it can carry, and for a kind
    it cannot carry but users will expect, why not and what to do instead (``unsupported``: a
    pod cannot mount a file of the repository, a ConfigMap can)."""

    __slots__ = ("table", "instead")

    def __init__(self, table: dict[str, Codec[Any]], instead: dict[str, str] | None = None) -> None:
        self.table = table
        self.instead = instead or {}

    def __hash__(self) -> int:
        return id(self)

    def of(self, key: Key[V]) -> Codec[V]:
        """The codec for ``key``; a surface calls it only for a kind it supports."""
        return self.table[key.kind]

    def supports(self, key: Key[V]) -> bool:
        return key.kind in self.table

    def unsupported(self, key: Key[V]) -> str:
        """Why this surface cannot say ``key`` and what to do instead; "" when it can, or when
        there is nothing to say (a concern then stays silent)."""
        return "" if key.kind in self.table else self.instead.get(key.kind, "")

    def spelled(self, key: Key[V]) -> str:
        return self.of(key).spelled(key) if key.kind in self.table else key.kind

    def formatted(self, key: Key[V], value: V) -> str:
        return str(self.of(key).format(value))


KINDS = ("memory", "swap", "pids", "cpu", "ulimit", "tmpfs", "mount", "config-mount", "env")

MEMORY: Key[ByteSize] = Key("memory")
SWAP: Key[ByteSize] = Key("swap")
PIDS: Key[int] = Key("pids")
CPU: Key[float] = Key("cpu")


def ulimit(name: str) -> Key[Ulimits]:
    return Key("ulimit", name)


NOFILE = ulimit("nofile")


def tmpfs(target: str = "") -> Key[TmpfsSpec]:
    return Key("tmpfs", target)


def mount(target: str = "") -> Key[MountSpec]:
    return Key("mount", target)


def config_mount(target: str = "") -> Key[MountSpec]:
    """A file of the repository mounted read-only at ``target`` (a profile's config mount): what a
    Compose bind mount says. Read and written as a ``mount``; a surface whose mounts cannot name a
    file of the repository does not support it (``docker run -v`` and docker-py read a relative
    source as a volume name, a pod mounts volumes, not files)."""
    return Key("config-mount", target)


def env(name: str = "") -> Key[str]:
    return Key("env", name)


# -- parsing and formatting shared by the surfaces' codecs ------------------------------------------


def docker_size(value: object) -> ByteSize | None:
    """A Docker/Compose size: an integer is bytes, a string uses Docker's units (``512m``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return ByteSize(value)
    if isinstance(value, str):
        return ByteSize.parse_docker(value)
    return None


def kubernetes_size(value: object) -> ByteSize | None:
    """A Kubernetes quantity in bytes (``64Mi``, ``1G``, ``128974848``); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return ByteSize(value)
    if isinstance(value, str):
        return ByteSize.parse_kubernetes(value)
    return None


def as_int(value: object) -> int | None:
    """An integer written as one (``512``, ``"512"``); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if (text[1:] if text.startswith("-") else text).isdigit():
            return int(text)
    return None


def whole(value: object) -> int | None:
    """An integer as the file's own type has it (YAML ``512``, a Python ``512``); text is None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_cpus(value: object) -> float | None:
    """A CPU count (``1.5``, ``"2"``); None when it cannot be read or is not positive."""
    if isinstance(value, bool):
        return None
    try:
        cpus = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return cpus if cpus > 0 else None


def ulimit_pair(value: object) -> Ulimits | None:
    """A (soft, hard) pair as read, each an int or None."""
    if not isinstance(value, tuple) or len(value) != 2:
        return None
    soft, hard = value
    return Ulimits(soft if isinstance(soft, int) else None, hard if isinstance(hard, int) else None)


def mount_triple(value: object) -> MountSpec | None:
    """A (source, target, read-only) triple as read."""
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    return MountSpec(str(value[0]), str(value[1]), bool(value[2]))


def as_text(value: object) -> str | None:
    return None if value is None else str(value)


def same(value: V) -> V:
    return value
