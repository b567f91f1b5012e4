"""pids: a limit on processes and threads.

DF401 pids-limit-missing
    Neither ``pids_limit`` nor ``deploy.resources.limits.pids`` is set: a fork bomb or a thread
    leak can exhaust the host's PIDs. The fix adds ``pids_limit`` with the profile's value
    (prod: 512). The cgroup counts *threads*, and a Go program that cannot create a thread dies
    (``failed to create new OS thread``), so the value is generous. It leaves room for a
    database's connections: PostgreSQL starts a process and MySQL a thread per connection, so
    the limit is at least ``max_connections`` (read from the command or the environment, else
    the documented default: 100 for PostgreSQL, 151 for MySQL) plus 64 for background workers.
    For a program whose thread count nothing in the repository bounds (a JVM, MongoDB,
    ClickHouse) the fix is a suggestion (``--unsafe-fixes``).

DF402 pids-limit-low
    The pids limit is below the profile's value, or is ``0``/``-1`` (unlimited). A lower limit
    is hardening someone chose (``pids_limit: 100`` beside ``read_only: true``): raising it
    loosens it, so the fix is a suggestion (``--unsafe-fixes``), as is raising an explicit
    "unlimited". A limit below a database's ``max_connections`` plus its background workers is
    plainly broken (connections fail to start) and is raised safely to what they need.

Settings: ``pids-limit`` in the profile (``none`` turns the rules off).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from rewriter.edits import Applicability
from rewriter.model import Container, Report, Severity
from rewriter.profiles import Option, count_option
from rewriter.settings import PIDS
from transforms.base import Context, Rule, report

MISSING = Rule("DF401", "pids-limit-missing", "no pids limit", Severity.WARNING, __name__)
LOW = Rule("DF402", "pids-limit-low", "pids limit below the profile's", Severity.WARNING, __name__)
RULES = (MISSING, LOW)
PIDS_LIMIT = Option("pids-limit", count_option(16, None), (("prod", 512), ("dev", "none")), not_for=("job", "tool"),
                    doc="the pids limit added or raised to (none: DF401 and DF402 off)")
OPTIONS = (PIDS_LIMIT,)
BACKGROUND = 64  # a database's processes or threads beside its connections (workers, WAL, vacuum)


def check(container: Container, ctx: Context) -> Iterator[Report]:
    profile = ctx.profile
    want = profile.get(PIDS_LIMIT)
    if want is None or not container.supports(PIDS):
        return
    facts = ctx.workload(container)
    need = facts.connections + BACKGROUND if facts.connections is not None else None
    target = max(want, need) if need is not None else want
    source = f"{profile.described}: {want}"
    needs = ""
    if need is not None:
        needs = (f"{facts.connections_source}: {facts.connections} connections + {BACKGROUND} background "
                 f"processes = {need}")
        source = needs if need > want else f"{source}, which leaves room for {needs}"
    limits = container.find(PIDS)
    if not limits:
        applicability = Applicability.SAFE
        message = f"no pids limit; threads and processes are unbounded ({source})"
        if facts.threads and need is None:
            applicability = Applicability.UNSAFE
            message = (f"no pids limit; threads and processes are unbounded ({source}, a suggestion: "
                       f"{facts.threads} ({facts.evidence}); set {container.spelled(PIDS)} on the "
                       f"service to settle it)")
        yield report(container, MISSING, message, None, lambda: container.set(PIDS, target),
                     f"add {container.spelled(PIDS)} {target}", applicability)
        return
    for setting in limits:
        value = setting.value
        if value is None or value >= target:
            continue  # not an integer (an unset variable, text), or high enough
        tail = "the cgroup counts threads, and a Go program dies when it cannot start one"
        if value <= 0:
            what, why = "means unlimited", f"it was set on purpose ({tail})"
            applicability = Applicability.UNSAFE
        elif need is not None and value < need:
            what, why = f"is below what the database needs ({needs})", "new connections fail to start"
            applicability = Applicability.SAFE
        else:
            what = f"is below {profile.described}'s {want}"
            why = f"a lower limit is hardening someone chose, and raising it loosens it ({tail})"
            applicability = Applicability.UNSAFE
        yield report(
            container, LOW,
            f"{setting.described()} {what}; {why}",
            setting.span, functools.partial(container.set, PIDS, target, setting),
            f"set {setting.name} to {target}", applicability)
