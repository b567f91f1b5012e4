"""go_runtime: GOMEMLIMIT from the memory limit, GOMAXPROCS only where Go cannot work it out.

A service is Go when its build (the target stage, or the last, and every stage it copies from)
uses a ``golang`` image or runs ``go build``/``go install``, or when the config says so
(``[tool.dockfix.services.NAME] go = true``). Its Go version is the ``go`` line of ``go.mod`` in
the build context, else the golang image's tag (``ARG`` defaults and ``build.args`` resolved).

DF501 gomemlimit-missing
    A Go service has a memory limit L but no ``GOMEMLIMIT``. The Go runtime does not read the
    cgroup memory limit (true as of Go 1.27), so the garbage collector lets the heap grow until
    the kernel kills the container. The fix sets::

        GOMEMLIMIT = floor(ratio x (L - T) / MiB) MiB

    where T is the size of the tmpfs on /tmp (tmpfs pages count against the container's limit
    but not against GOMEMLIMIT) and ratio is the profile's ``gomemlimit-ratio`` (0.9: the GC
    guide's 5-10 % headroom). 768m with a 64m tmpfs gives ``633MiB``. L is ``mem_limit``,
    ``deploy.resources.limits.memory`` or the limit the profile adds; T is the tmpfs size as
    written or as the profile adds it. The value is written in the form the environment already
    uses (``- GOMEMLIMIT=633MiB`` or ``GOMEMLIMIT: 633MiB``); a variable list shared through an
    anchor by services that need different values is overridden per service, not edited.

DF502 gomemlimit-malformed
    ``GOMEMLIMIT`` must be plain bytes or a number with ``KiB``, ``MiB``, ``GiB`` or ``TiB``
    (or ``off``). Anything else (``512M``, ``512Mi``, ``512mb``) makes the Go runtime throw at
    start: the program never runs. The fix writes the same amount in ``MiB`` when it is below
    the limit, else the computed value.

DF503 gomemlimit-above-limit
    ``GOMEMLIMIT`` is above the memory limit, so the kernel kills the container before the
    garbage collector reacts. The fix writes the computed value.

DF504 gomaxprocs-missing
    A Go service built with Go older than 1.25 has a CPU limit C (``cpus`` or
    ``deploy.resources.limits.cpus``) and no ``GOMAXPROCS``. Before 1.25 the runtime uses every
    CPU of the host and the CFS quota throttles it. The fix sets ``GOMAXPROCS = max(1, floor(C))``
    (what automaxprocs does). Nothing is added for Go 1.25 and later, nor for an unknown version.

DF505 gomaxprocs-disables-auto
    A Go 1.25+ service sets ``GOMAXPROCS``. Go 1.25 sizes GOMAXPROCS from the cgroup CPU limit
    and keeps it updated; an explicit value turns that off. The fix (unsafe: the value may be
    deliberate) removes the variable. The version is the go.mod ``go`` line: a ``go 1.24``
    module built with Go 1.25 keeps the old behaviour (GODEBUG ``containermaxprocs=0``), and so
    does a service whose environment sets ``GODEBUG=containermaxprocs=0`` (DF504 applies then).

DF506 gomemlimit-above-budget
    ``GOMEMLIMIT`` is below the memory limit but a MiB or more above the computed value (0.9 x
    (L - T), T the /tmp tmpfs as planned, capped at a quarter of L). Tmpfs pages count against
    the container's limit but not against GOMEMLIMIT, so with /tmp filling up the kernel kills
    the container before the GC reacts. The value is a decision, so the fix (unsafe) writes the
    computed value.

Settings: ``gomemlimit-ratio`` in the profile; ``[tool.dockfix.services.NAME] go`` and
``go-version`` in the config for services the build does not reveal.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from rewriter.edits import Applicability
from rewriter.model import Container, Report, Severity
from rewriter.settings import CPU, Found, env
from rewriter.sizes import MIB, ByteSize
from transforms.base import Context, Rule, report
from transforms.gomem import AUTO_GOMAXPROCS as AUTO_GOMAXPROCS
from transforms.gomem import MALFORMED as MALFORMED
from transforms.gomem import OPTIONS as OPTIONS
from transforms.gomem import RATIO
from transforms.gomem import gomemlimit_value as gomemlimit_value
from transforms.gomem import loose_size as loose_size
from transforms.plan import planned

MISSING = Rule("DF501", "gomemlimit-missing", "Go service with a memory limit but no GOMEMLIMIT",
               Severity.WARNING, __name__)
ABOVE = Rule("DF503", "gomemlimit-above-limit", "GOMEMLIMIT above the memory limit",
             Severity.ERROR, __name__)
GOMAXPROCS_MISSING = Rule("DF504", "gomaxprocs-missing", "Go < 1.25 with a CPU limit but no GOMAXPROCS",
                          Severity.WARNING, __name__)
GOMAXPROCS_SET = Rule("DF505", "gomaxprocs-disables-auto",
                      "explicit GOMAXPROCS turns off Go 1.25's container-aware default",
                      Severity.WARNING, __name__)
BUDGET = Rule("DF506", "gomemlimit-above-budget", "GOMEMLIMIT leaves no room for the /tmp tmpfs and headroom",
              Severity.WARNING, __name__)
RULES = (MISSING, MALFORMED, ABOVE, GOMAXPROCS_MISSING, GOMAXPROCS_SET, BUDGET)

GOMEMLIMIT = env("GOMEMLIMIT")
GOMAXPROCS = env("GOMAXPROCS")


def check(container: Container, ctx: Context) -> Iterator[Report]:
    go = ctx.go_info(container)
    if not go.is_go or not container.supports(GOMEMLIMIT):
        return
    yield from _gomemlimit(container, ctx, container.get(GOMEMLIMIT))
    yield from _gomaxprocs(container, ctx, container.get(GOMAXPROCS))


def _gomemlimit(container: Container, ctx: Context, current: Found[str] | None) -> Iterator[Report]:
    go = ctx.go_info(container)
    state = planned(container, ctx)  # the limit and the /tmp tmpfs after the profile's rules
    budget = state.budget
    value: ByteSize | None = None
    why = ""
    if budget is not None:
        limit, limit_from = budget
        tmpfs, tmpfs_from = state.tmpfs, state.tmpfs_from
        value = gomemlimit_value(limit, tmpfs, ctx.profile.get(RATIO))
        minus = f" - {tmpfs_from}" if tmpfs.bytes else ""
        why = f"{ctx.profile.get(RATIO):g} x ({limit_from}{minus})"
    if current is None:
        if value is None or budget is None:
            return
        text = value.gomemlimit()
        yield report(
            container, MISSING,
            f"no GOMEMLIMIT; the Go runtime does not read the container's memory limit, so the GC "
            f"lets the heap grow until the kernel kills the container ({go.described()}; "
            f"GOMEMLIMIT = {why} = {text})",
            None, lambda: container.set(GOMEMLIMIT, text), f"set GOMEMLIMIT={text}",
            state.applicability)
        return
    raw = current.value
    if raw is None or str(raw).strip() == "off":
        return
    text = str(raw)
    parsed = ByteSize.parse_gomemlimit(text)
    if parsed is None:
        meant = loose_size(text)
        limit_size = budget[0] if budget is not None else None
        if meant is not None and meant.bytes >= MIB and (limit_size is None or meant < limit_size):
            fixed = ByteSize.mib(meant.bytes // MIB).gomemlimit()
            how = f"the same amount in MiB: {fixed}"
        elif value is not None:
            fixed = value.gomemlimit()
            how = f"{why} = {fixed}"
        else:
            fixed = ""
            how = "no memory limit to compute one from"
        yield report(
            container, MALFORMED,
            f"{current.described()} is not a valid GOMEMLIMIT; the Go runtime accepts only bytes or "
            f"KiB/MiB/GiB/TiB and throws at start otherwise, so the program never runs ({how})",
            current.span, (lambda: container.set(GOMEMLIMIT, fixed)) if fixed else None,
            f"set GOMEMLIMIT={fixed}")
        return
    if budget is not None and parsed > budget[0] and value is not None:
        fixed = value.gomemlimit()
        yield report(
            container, ABOVE,
            f"{current.described()} is above the memory limit ({budget[1]}); the kernel kills the "
            f"container before the GC reacts (GOMEMLIMIT = {why} = {fixed})",
            current.span, lambda: container.set(GOMEMLIMIT, fixed), f"set GOMEMLIMIT={fixed}",
            state.applicability)
    elif budget is not None and value is not None and parsed.bytes >= value.bytes + MIB:
        fixed = value.gomemlimit()
        yield report(
            container, BUDGET,
            f"{current.described()} leaves too little room below the memory limit (GOMEMLIMIT = {why} "
            f"= {fixed}); tmpfs pages count against the limit but not against GOMEMLIMIT, and the GC "
            f"needs 5-10 % headroom, so the kernel may kill the container before the GC reacts",
            current.span, lambda: container.set(GOMEMLIMIT, fixed), f"set GOMEMLIMIT={fixed}",
            Applicability.UNSAFE)


def godebug_setting(container: Container, name: str) -> str | None:
    """The value of one key of the container's GODEBUG, if it sets it."""
    godebug = container.get(env("GODEBUG"))
    if godebug is None or godebug.value is None:
        return None
    for part in str(godebug.value).split(","):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _gomaxprocs(container: Container, ctx: Context, current: Found[str] | None) -> Iterator[Report]:
    go = ctx.go_info(container)
    if go.version is None:
        return
    auto = go.version >= AUTO_GOMAXPROCS and godebug_setting(container, "containermaxprocs") != "0"
    if auto:
        if current is None:
            return
        yield report(
            container, GOMAXPROCS_SET,
            f"{current.described()} turns off the container-aware GOMAXPROCS of Go 1.25+, which "
            f"follows the CPU limit and keeps it updated ({go.described()})",
            current.span, lambda: container.set(GOMAXPROCS, None), "remove GOMAXPROCS",
            Applicability.UNSAFE)
        return
    if current is not None:
        return
    limit = container.get(CPU)
    if limit is None:
        return
    cpus = limit.value
    if cpus is None:
        return
    procs = str(max(1, math.floor(cpus)))
    yield report(
        container, GOMAXPROCS_MISSING,
        f"no GOMAXPROCS with {limit.described()}; before Go 1.25 the runtime uses every CPU of the "
        f"host and the CPU quota throttles it ({go.described()}; GOMAXPROCS = max(1, floor(cpus)) "
        f"= {procs})",
        limit.span, lambda: container.set(GOMAXPROCS, procs), f"set GOMAXPROCS={procs}")
