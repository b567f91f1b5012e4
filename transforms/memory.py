"""memory: a memory limit, and swap turned off.

DF301 memory-limit-missing
    Neither ``mem_limit`` nor ``deploy.resources.limits.memory`` is set: the container may use all
    of the host's memory. The fix adds ``mem_limit`` with the profile's default (prod: ``512m``).
    The tool cannot know what the service needs; set ``mem-limit`` in your profile, or
    ``mem_limit`` on the service, to choose the value. An existing deploy limit is never
    contradicted (docker compose rejects distinct values for the two keys).

DF302 swap-not-off
    ``memswap_limit`` is missing, ``-1`` or different from the memory limit. Unset, Docker allows
    swap equal to the memory limit (memory + swap = 2 x the limit); ``-1`` allows unlimited swap.
    Either makes out-of-memory behaviour slow and unpredictable. The fix sets ``memswap_limit``
    equal to the memory limit, which turns swap off::

        mem_limit: 512m
        memswap_limit: 512m

    Only emitted when there is a memory limit (swap settings need one).

DF303 deploy-limits-differ
    A limit Compose keeps in two places has distinct values: ``mem_limit`` and
    ``deploy.resources.limits.memory``, ``cpus`` and ``limits.cpus``, ``pids_limit`` and
    ``limits.pids``, ``mem_reservation`` and ``deploy.resources.reservations.memory``.
    compose-go 2.0.1 and later refuse to load such a file ("can't set distinct values"), and
    once the ``limits`` (or ``reservations``) block exists a twin that is not written counts
    as 0: ``pids_limit: 512`` beside ``limits: {memory: 1g}`` is refused too. Reported only:
    the tool cannot tell which one you meant. The limits dockfix adds go into the existing
    block (``deploy.resources.limits.pids``), never beside it.

Settings: ``mem-limit`` (``none`` turns DF301 off) and ``swap`` (``off`` or ``keep``) in the profile.
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.model import Container, Report, Setting, Severity
from rewriter.sizes import ByteSize
from transforms.base import Context, Rule, report

MISSING = Rule("DF301", "memory-limit-missing", "no memory limit", Severity.WARNING, __name__)
SWAP = Rule("DF302", "swap-not-off", "swap is not turned off", Severity.WARNING, __name__)
DIFFER = Rule("DF303", "deploy-limits-differ", "a limit and its deploy.resources twin differ",
              Severity.ERROR, __name__)
RULES = (MISSING, SWAP, DIFFER)


def size_of(value: object) -> ByteSize | None:
    """A Compose memory value in bytes: an integer is bytes, a string uses Docker units."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return ByteSize(value)
    if isinstance(value, str):
        return ByteSize.parse_docker(value)
    return None


def _same_limit(key: str, a: object, b: object) -> bool:
    """Whether Compose reads two spellings of one limit as equal (``512m`` and ``536870912``)."""
    if key in ("cpus",):
        try:
            return float(a) == float(b)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return a == b
    if key in ("pids_limit",):
        return a == b
    x, y = size_of(a), size_of(b)
    return x == y if x is not None and y is not None else a == b


def _twins(container: Container) -> Iterator[Report]:
    """DF303: a service-level limit whose deploy.resources twin differs or is missing."""
    for own, twin_key, twin in container.limit_twins():
        if twin is not None and _same_limit(own.key, own.value, twin.value):
            continue
        if any(isinstance(s.value, str) and "$" in s.value for s in (own, twin) if s is not None):
            continue  # interpolated: the values are known only when Compose reads the file
        other = twin.described() if twin is not None else f"{twin_key} (not set, which Compose takes as 0)"
        yield report(
            container, DIFFER,
            f"{own.described()} and {other} differ; docker compose refuses distinct values "
            f"(\"can't set distinct values\"), so set them equal or keep only one",
            own.span, None, "")


def effective_limit(limits: list[Setting]) -> Setting | None:
    """The limit docker compose applies: the deploy one overrides ``mem_limit``."""
    if not limits:
        return None
    return limits[-1]


def memory_budget(container: Container, ctx: Context) -> tuple[ByteSize, str] | None:
    """The memory limit the container ends up with, and where it comes from (GOMEMLIMIT and the
    /tmp tmpfs size read it too)."""
    limits = container.memory_limits()
    if limits:
        current = effective_limit(limits)
        assert current is not None
        size = size_of(current.value)
        return (size, current.described()) if size is not None else None
    profile = ctx.profile
    if profile.mem_limit is not None and ctx.wants("DF301"):
        key = container.setting_name("memory")
        return profile.mem_limit, f"{key} '{profile.mem_limit.docker()}' ({profile.described})"
    return None




def check(container: Container, ctx: Context) -> Iterator[Report]:
    profile = ctx.profile
    limits = container.memory_limits()
    yield from _twins(container)
    limit_value: object
    if limits:
        current = effective_limit(limits)
        assert current is not None
        limit_value = current.value
        limit_name = current.described()
    elif profile.mem_limit is not None:
        default = profile.mem_limit.docker()
        key = container.setting_name("memory")
        yield report(
            container, MISSING,
            f"no memory limit; the container may use all of the host's memory ({profile.described} "
            f"default: {key} '{default}'; set mem-limit in the profile, or {key} here, to choose "
            f"another)",
            None, lambda: container.set_memory_limit(default, None),
            f"add {key} '{default}'")
        limit_value = default
        limit_name = f"{key} '{default}' ({profile.described})"
    else:
        return
    if not profile.swap_off or limit_value is None:
        return
    swap = container.memswap_limit()
    swap_key = container.setting_name("memswap")
    if swap is None:
        problem = f"no {swap_key}; Docker then adds swap equal to the memory limit"
    else:
        swap_size = size_of(swap.value)
        limit_size = size_of(limit_value)
        if swap.value == limit_value or (swap_size is not None and swap_size == limit_size
                                         and swap_size.bytes > 0):
            return
        if swap.value == -1:
            problem = f"{swap.described()} allows unlimited swap"
        elif swap_size is not None and swap_size.bytes == 0:
            problem = f"{swap.described()} means unset, so Docker adds swap equal to the memory limit"
        else:
            problem = f"{swap.described()} differs from the memory limit, which allows swap"
    yield report(
        container, SWAP,
        f"{problem}; swap makes out-of-memory behaviour slow and unpredictable "
        f"({profile.described}: swap off, {swap_key} equal to {limit_name})",
        swap.span if swap else None,
        lambda: container.set_memswap_limit(limit_value),
        f"set {swap_key} to '{limit_value}'")
