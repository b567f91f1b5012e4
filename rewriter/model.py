"""What policy sees of a container, whatever file it is defined in.

Surfaces (Compose, Dockerfile, shell, Python) implement :class:`Container`; transforms read its
facts and ask it for changes, which come back as :class:`~rewriter.edits.Fix` objects (span edits
the transform never looks inside). Spans here are opaque to policy: they only say where to report.
"""

from __future__ import annotations

import enum

from rewriter.edits import Fix, Refusal
from rewriter.record import Record
from rewriter.settings import Found, Key, Span as Span, format_options, parse_options

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    from rewriter.runfacts import CommandRun, ServiceRun, WorkloadRun
    from rewriter.settings import V
    from rewriter.sizes import ByteSize
else:
    Protocol = object  # the protocol is for mypy; importing typing would cost ~4 ms at every start


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Setting(Record):
    """One setting as written: its surface name, its value, where it is, where it came from."""

    __slots__ = ("key", "value", "span", "keys", "origin")

    def __init__(self, key: str, value: object, span: Span, keys: tuple[str | int, ...],
                 origin: str = "") -> None:
        self.key = key  # the surface's own name: "mem_limit", "deploy.resources.limits.memory"
        self.value = value  # resolved value (str, int, ...)
        self.span = span
        self.keys = keys  # path inside the container definition (surface-private)
        self.origin = origin  # "" when written in the definition itself, else e.g. "inherited from '&defaults'"

    def described(self) -> str:
        """``mem_limit '512m'`` plus where it came from."""
        text = f"{self.key} '{self.value}'"
        return f"{text} ({self.origin})" if self.origin else text

    def found(self, key: Key[V], value: V | None, place: object = None, form: str = "") -> Found[V]:
        """This setting as a typed :class:`~rewriter.settings.Found` (``place``: the surface's own
        record of it, by default this setting)."""
        return Found(key, value, self.key, self.value, self.span, self.origin,
                     self if place is None else place, form)


class TmpfsMount(Record):
    __slots__ = ("target", "options", "setting", "form")

    def __init__(self, target: str, options: tuple[tuple[str, str], ...], setting: Setting,
                 form: str) -> None:
        self.target = target
        self.options = options  # ("size", "64m"), ("noexec", "")
        self.setting = setting
        self.form = form  # "short" (tmpfs: list/string) or "long" (volumes: type: tmpfs)

    def option(self, name: str) -> str | None:
        for key, value in self.options:
            if key == name:
                return value
        return None


class Ulimit(Record):
    __slots__ = ("name", "soft", "hard", "setting", "form")

    def __init__(self, name: str, soft: int | None, hard: int | None, setting: Setting, form: str) -> None:
        self.name = name
        self.soft = soft
        self.hard = hard
        self.setting = setting
        self.form = form  # "single" (nofile: 65536) or "pair" (soft/hard)


class Mount(Record):
    """A bind mount or volume (not tmpfs): ``source:target[:ro]`` or the long syntax."""

    __slots__ = ("source", "target", "read_only", "setting", "form")

    def __init__(self, source: str, target: str, read_only: bool, setting: Setting, form: str) -> None:
        self.source = source
        self.target = target
        self.read_only = read_only
        self.setting = setting
        self.form = form  # "short" or "long"


class Report(Record):
    """A finding as a transform states it; the engine adds file, line and column."""

    __slots__ = ("code", "message", "span", "severity", "fix", "scope")

    def __init__(self, code: str, message: str, span: Span, severity: Severity, fix: Fix | None = None,
                 scope: str = "") -> None:
        self.code = code
        self.message = message
        self.span = span
        self.severity = severity
        self.fix = fix
        self.scope = scope


# the option text of a tmpfs, read and written (surface-private; policy sees TmpfsSpec)
parse_tmpfs_options = parse_options
format_tmpfs_options = format_options


class BuildSpec(Record):
    """How a container's image is built (Compose ``build:``), paths as written."""

    __slots__ = ("context", "dockerfile", "dockerfile_inline", "target", "args")

    def __init__(self, context: str = ".", dockerfile: str | None = None,
                 dockerfile_inline: str | None = None, target: str | None = None,
                 args: tuple[tuple[str, str | None], ...] = ()) -> None:
        self.context = context
        self.dockerfile = dockerfile  # relative to the context; None: "Dockerfile"
        self.dockerfile_inline = dockerfile_inline
        self.target = target
        self.args = args  # a None value comes from the environment


class Container(Protocol):
    """A container definition on some surface. ``add_*``/``set_*`` raise Refusal when they cannot.

    Settings cross this seam typed (:mod:`rewriter.settings`): ``find``/``get`` a key, ``set`` a
    key to a typed value, ask whether the surface ``supports`` a key at all, and name it the way
    the surface ``spelled`` it. Each surface formats and parses through its own codec table.
    """

    scope: str  # unique within the file, e.g. "services.api"
    label: str  # for messages, e.g. "service 'api'"
    span: Span  # where findings about missing settings point

    @property
    def name(self) -> str: ...  # the container's own name ("api"), "" when it has none

    # Compose only: service-level limits beside an existing deploy.resources block whose twin
    # compose-go reads as distinct, as (setting, twin's key, twin or None): it refuses the file.
    def limit_twins(self) -> list[tuple[Setting, str, Setting | None]]: ...

    def image(self) -> str | None: ...  # image reference as written ("golang:1.24", "$IMG")
    def build(self) -> BuildSpec | None: ...  # how the image is built (Compose ``build:``), else None
    def command(self) -> tuple[str, ...]: ...  # entrypoint and command words as written (workload detectors)

    # -- typed settings ----------------------------------------------------------------------------
    def find(self, key: Key[V]) -> list[Found[V]]: ...  # every place that sets it, the one in force last
    def get(self, key: Key[V]) -> Found[V] | None: ...  # the value in force, or None
    # A typed value; a Found (of this container) to write what it says as it is written (a swap
    # limit that follows the memory limit's spelling and variable); None removes it. ``where``:
    # which of the places found to change (None: add, or where the surface puts a new one).
    # Raises Refusal when it cannot.
    def set(self, key: Key[V], value: V | Found[V] | None, where: Found[V] | None = None) -> Fix: ...
    def supports(self, key: Key[V]) -> bool: ...  # whether this file kind can say it at all
    def unsupported(self, key: Key[V]) -> str: ...  # if not, why and what to do instead ("": nothing to say)
    def spelled(self, key: Key[V]) -> str: ...  # how a new one is named here ("mem_limit", "--memory")
    def formatted(self, key: Key[V], value: V) -> str: ...  # a value as written here ("512m", "512Mi")

    # -- what only some file kinds know (the others answer as :class:`ContainerDefaults`) ---------
    def run_facts(self) -> ServiceRun | CommandRun | WorkloadRun | None: ...  # how it runs (DF902)
    # Compose ``env_file``: (as written, absolute path), relative paths against ``workdir`` (the
    # project directory) or else the file's own directory
    def env_files(self, workdir: str | None = None) -> list[tuple[str, str]]: ...
    def reports_here(self, code: str) -> bool: ...  # whether a finding of ``code`` is reported in this file

    @property
    def orphan(self) -> str: ...  # why nothing is written: an overlay whose base is unknown (DF901)

    @property
    def patch_of(self) -> str: ...  # the kustomization naming this file as a patch (DF805)

    @property
    def uncertain(self) -> str: ...  # why what a kustomize overlay makes of it is unknown (DF805)

    def memory_request(self) -> Found[ByteSize] | None: ...  # Kubernetes ``resources.requests.memory``
    def memory_quantities(self) -> list[Setting]: ...  # Kubernetes: every memory quantity, as written
    def set_quantity(self, setting: Setting, text: str) -> Fix: ...  # one of them rewritten (DF804)


class ContainerDefaults:
    """The answers of a container whose file kind does not know the optional members of
    :class:`Container`: it runs as nothing in particular, reads no ``env_file``, reports every
    finding in its own file, is neither an orphan overlay nor a kustomize patch (nor patched unreadably), and has no
    memory request or other quantities. Every surface's container class derives from it, so
    policy calls these members directly (mypy checks them) instead of probing with ``getattr``."""

    @property
    def orphan(self) -> str:
        return ""

    @property
    def patch_of(self) -> str:
        return ""

    @property
    def uncertain(self) -> str:
        return ""

    def run_facts(self) -> ServiceRun | CommandRun | WorkloadRun | None:
        return None

    def env_files(self, workdir: str | None = None) -> list[tuple[str, str]]:
        return []

    def reports_here(self, code: str) -> bool:
        return True

    def memory_request(self) -> Found[ByteSize] | None:
        return None

    def memory_quantities(self) -> list[Setting]:
        return []

    def set_quantity(self, setting: Setting, text: str) -> Fix:
        raise Refusal(f"{setting.key} is not rewritten here")
