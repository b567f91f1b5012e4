"""How a container is run, as its surface reads it: the raw facts the one-off-job policy decides
from (``transforms/project.py``, DF902).

A surface says what is written (Compose: the restart policy, the ``profiles:`` groups, the
command, whether another service waits for it to complete, whether it publishes ports; ``docker
run``: ``--rm``, ``-d``, ``--restart`` and the kind of file it is in, the script's role coming
from its path through :func:`rewriter.roles.script_role`), never whether that makes a job: that
is policy, and measured on real stacks it keeps changing.
"""

from __future__ import annotations

from rewriter.record import Record


class ServiceRun(Record):
    """A Compose service's run facts, read from the service as Compose merges it."""

    __slots__ = ("name", "restart", "publishes", "profiles", "command", "awaited")

    def __init__(self, name: str, restart: str | None, publishes: bool, profiles: tuple[str, ...],
                 command: str | None, awaited: bool) -> None:
        self.name = name
        self.restart = restart  # as written ("no" for YAML's unquoted no), None when not set
        self.publishes = publishes  # it has ``ports`` or ``expose``
        self.profiles = profiles  # its ``profiles:`` groups, as written
        self.command = command  # ``command`` when written as a string, else None
        self.awaited = awaited  # another service waits with ``condition: service_completed_successfully``


class CommandRun(Record):
    """A ``docker run``/``docker create`` command's run facts."""

    __slots__ = ("verb", "known", "remove", "detach", "restart", "flavour", "captured", "interactive")

    def __init__(self, verb: str, known: bool, remove: bool, detach: str | None, restart: str | None,
                 flavour: str, captured: bool = False, interactive: bool = False) -> None:
        self.verb = verb  # "run" or "create"
        self.known = known  # False when the flags could not be read (an unknown flag, a variable)
        self.remove = remove  # --rm
        self.detach = detach  # the value of the last -d/--detach ("" for the bare flag), None without one
        self.restart = restart  # the value of the last --restart, None without one
        self.flavour = flavour  # the file it is in: "script", "make" (a Makefile) or "workflow" (CI YAML)
        self.captured = captured  # inside ``$(...)`` or backquotes: the script reads its output
        self.interactive = interactive  # -i and -t (``-it``): a session attached to a terminal


class WorkloadRun(Record):
    """A Kubernetes container's run facts: the kind of the workload its pod template belongs to
    (``Deployment``, ``Job``, ``CronJob``...)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind
