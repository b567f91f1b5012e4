"""memory: a memory limit that leaves room for what runs inside, and swap turned off.

DF301 memory-limit-missing
    Neither ``mem_limit`` nor ``deploy.resources.limits.memory`` is set: the container may use all
    of the host's memory. The value added, and whether the fix is safe, depend on the evidence:

    - a heap or cache size in the repository (``-Xmx1g`` in ``JAVA_OPTS``, Kafka's documented 1G
      default heap, ``--max-old-space-size``, ``--maxmemory``, ``--innodb-buffer-pool-size``):
      the limit is that size divided by the share the program may take (a JVM 75 %,
      Elasticsearch and OpenSearch 50 % as Elastic documents, Node 75 %, Redis 75 %), rounded up
      to a whole 64m; ``-Xmx1g`` gives ``1408m``, Elasticsearch's ``-Xmx512m`` gives ``1g``.
      Safe, unless the size is per worker (PHP's ``memory_limit``, PostgreSQL's
      ``shared_buffers``): then the limit is only a floor, and a suggestion. A ``mem-limit`` the
      user set in their profile is used instead when it is at least that large.
    - ``mem-limit`` set in the user's own profile (``[tool.dockfix.profiles.NAME]``, also through
      ``extends``): safe, except for a known-heavy image (a database, a search engine, a broker, a
      JVM) without a heap setting, whose needs grow with its data: a suggestion.
    - only the built-in profile's default (prod: ``512m``): a suggestion (``--unsafe-fixes``);
      the message says what would settle it: ``mem-limit`` in your profile, or a heap flag.

    An existing deploy limit is never contradicted (docker compose rejects distinct values).

DF302 swap-not-off
    ``memswap_limit`` is missing, ``-1`` or different from the memory limit. Unset, Docker allows
    swap equal to the memory limit (memory + swap = 2 x the limit); ``-1`` allows unlimited swap.
    Either makes out-of-memory behaviour slow and unpredictable. The fix sets ``memswap_limit``
    equal to the memory limit, which turns swap off::

        mem_limit: 512m
        memswap_limit: 512m

    Only emitted when there is a memory limit (swap settings need one). Adding the key, or
    fixing ``0`` (unset) or a value below the limit (which Docker rejects), is safe; an explicit
    ``-1`` or a larger value is a decision, changed only by an unsafe fix. With a limit that is
    itself a suggestion, so is the swap setting.

DF303 deploy-limits-differ
    A limit Compose keeps in two places has distinct values: ``mem_limit`` and
    ``deploy.resources.limits.memory``, ``cpus`` and ``limits.cpus``, ``pids_limit`` and
    ``limits.pids``, ``mem_reservation`` and ``deploy.resources.reservations.memory``.
    compose-go 2.0.1 and later refuse to load such a file ("can't set distinct values"), and
    once the ``limits`` (or ``reservations``) block exists a twin that is not written counts
    as 0: ``pids_limit: 512`` beside ``limits: {memory: 1g}`` is refused too. Reported only:
    the tool cannot tell which one you meant. The limits dockfix adds go into the existing
    block (``deploy.resources.limits.pids``), never beside it.

DF304 memory-limit-below-heap
    The memory limit leaves no room beyond the heap the service is configured with: a JVM's heap
    above 75 % of the limit, Elasticsearch's or OpenSearch's above 50 %, Node's old space or
    Redis's ``maxmemory`` above 75 %, PHP's ``memory_limit`` at or above the limit. The kernel
    kills the container under load, or at start when the heap equals the limit. The fix raises
    the limit to what the heap needs (as for DF301); it is safe when the heap is at or above the
    limit (plainly broken), and a suggestion otherwise. A ``-XX:MaxRAMPercentage`` above 75 is
    reported the same way (without a fix).

Settings: ``mem-limit`` (``none`` turns DF301 off) and ``swap`` (``off`` or ``keep``) in the profile.
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.edits import Applicability
from rewriter.errors import ConfigError
from rewriter.model import Container, Report, Severity
from rewriter.profiles import Option, size_option
from rewriter.record import Record
from rewriter.settings import MEMORY, SWAP as SWAP_LIMIT, Found
from rewriter.sizes import MIB, ByteSize
from transforms.base import Context, Rule, report

MISSING = Rule("DF301", "memory-limit-missing", "no memory limit", Severity.WARNING, __name__)
SWAP = Rule("DF302", "swap-not-off", "swap is not turned off", Severity.WARNING, __name__)
DIFFER = Rule("DF303", "deploy-limits-differ", "a limit and its deploy.resources twin differ",
              Severity.ERROR, __name__)
BELOW_HEAP = Rule("DF304", "memory-limit-below-heap", "memory limit leaves no room beyond the heap",
                  Severity.ERROR, __name__)
RULES = (MISSING, SWAP, DIFFER, BELOW_HEAP)
MAX_RAM_PERCENTAGE = 75.0


def _parse_swap(value: object, key: str, where: str, path: str) -> bool:
    """``off`` (True: swap is turned off) or ``keep``."""
    if value not in ("off", "keep"):
        raise ConfigError(f"{where}: {key} must be \"off\" or \"keep\", got {value!r}", path=path)
    return value == "off"


MEM_LIMIT = Option("mem-limit", size_option(minimum=6 * MIB), (("prod", "512m"), ("dev", "none")),
                   not_for=("job", "tool"), doc="the memory limit added where nothing says what a service needs "
                   "(none: DF301 off)")
SWAP_OFF = Option("swap", _parse_swap, (("prod", "off"), ("dev", "keep")), unset="off", off=False,
                  doc="off: memswap_limit equal to the memory limit (DF302); keep: swap left alone")
OPTIONS = (MEM_LIMIT, SWAP_OFF)


def adds(ctx: Context) -> bool:
    """Whether the profile's own rules add a memory limit where there is none (DF301)."""
    return ctx.profile.get(MEM_LIMIT) is not None and ctx.wants(MISSING.code)


UNLIMITED = ByteSize(-1)  # memswap_limit -1: unlimited swap


def _twins(container: Container) -> Iterator[Report]:
    """DF303: a service-level limit whose deploy.resources twin differs or is missing (the
    surface says which ones compose-go reads as distinct)."""
    for own, twin_key, twin in container.limit_twins():
        other = twin.described() if twin is not None else f"{twin_key} (not set, which Compose takes as 0)"
        yield report(
            container, DIFFER,
            f"{own.described()} and {other} differ; docker compose refuses distinct values "
            f"(\"can't set distinct values\"), so set them equal or keep only one",
            own.span, None, "")


class MemoryPlan(Record):
    """The memory limit a container ends up with: the one it has, or the one DF301 adds."""

    __slots__ = ("value", "size", "described", "applicability", "setting", "why")

    def __init__(self, value: object, size: ByteSize | None, described: str, applicability: Applicability,
                 setting: Found[ByteSize] | None, why: str = "") -> None:
        self.value = value  # as written or to be written ("512m")
        self.size = size  # None when it cannot be read (an interpolated value)
        self.described = described  # "mem_limit '1408m' (-Xmx1g in environment JAVA_OPTS / 75 %)"
        self.applicability = applicability  # SAFE for an existing limit; the added limit's otherwise
        self.setting = setting  # the existing setting, None for a planned one
        self.why = why  # for DF301: where the value comes from and what would settle it


def _percent(ratio: float) -> str:
    return f"{round(ratio * 100)} %"


def plan(container: Container, ctx: Context) -> MemoryPlan | None:
    """The limit in force or planned; None when there is none and DF301 adds none. Computed
    once per container (the tmpfs cap, GOMEMLIMIT and the heap rules all read it)."""
    return ctx.memo("memory", container, lambda: _plan(container, ctx))


def _plan(container: Container, ctx: Context) -> MemoryPlan | None:
    current = container.get(MEMORY)  # the one docker compose applies: deploy's over mem_limit
    if current is not None:
        return MemoryPlan(current.written, current.value, current.described(), Applicability.SAFE, current)
    profile = ctx.profile
    mem_limit = profile.get(MEM_LIMIT)
    if mem_limit is None or not ctx.wants(MISSING.code) or not container.supports(MEMORY):
        return None
    key = container.spelled(MEMORY)
    facts = ctx.workload(container)
    need = facts.needed_limit()
    chosen = profile.chose("mem-limit")
    requested = _requested(container)
    if requested is not None and requested.value is not None and (need is None or requested.value >= need):
        value = container.formatted(MEMORY, requested.value)
        why = f"{requested.described()}, the memory the scheduler reserves for it"
        if need is not None:
            why += f"; it leaves room for {facts.heap_source}"
        return MemoryPlan(value, requested.value, f"{key} '{value}' (from {requested.described()})",
                          Applicability.SAFE, None, why)
    if need is not None:
        derivation = (f"{facts.heap_source} / {_percent(facts.heap_ratio)} ({facts.ratio_source}), "
                      f"rounded up to a whole {shown(container, ByteSize.mib(64))}")
        if chosen and mem_limit >= need:
            value = container.formatted(MEMORY, mem_limit)
            why = f"{profile.source('mem-limit')}; it leaves room for {facts.heap_source}"
            return MemoryPlan(value, mem_limit, f"{key} '{value}' ({profile.source('mem-limit')})",
                              Applicability.SAFE, None, why)
        value = container.formatted(MEMORY, need)
        why = f"{derivation} = {value}"
        if chosen:
            why += f"; {profile.source('mem-limit')} '{shown(container, mem_limit)}' would leave no room for it"
        if facts.heap_is_floor:
            since = facts.floor_note or "that size is per worker or a share of the memory"
            why += f"; a floor only, since {since}: set {key} on the service to settle it"
        return MemoryPlan(value, need, f"{key} '{value}' (from {facts.heap_source})",
                          Applicability.UNSAFE if facts.heap_is_floor else Applicability.SAFE, None, why)
    value = container.formatted(MEMORY, mem_limit)
    described = f"{key} '{value}' ({profile.source('mem-limit')})"
    if facts.heavy:
        why = (f"{profile.source('mem-limit')}, a suggestion: the service is {facts.heavy} ({facts.evidence}) "
               f"and nothing in the repository says how much memory it needs; set {key} on the service, "
               f"or give it a heap setting")
        return MemoryPlan(value, mem_limit, described, Applicability.UNSAFE, None, why)
    if chosen:
        return MemoryPlan(value, mem_limit, described, Applicability.SAFE, None, profile.source("mem-limit"))
    why = (f"{profile.source('mem-limit')}, a suggestion: nothing in the repository says what the service "
           f"needs; set mem-limit in your profile, or {key} on the service, to settle it")
    return MemoryPlan(value, mem_limit, described, Applicability.UNSAFE, None, why)


def _requested(container: Container) -> Found[ByteSize] | None:
    """A memory request (Kubernetes ``resources.requests.memory``): the amount the scheduler keeps
    for the container is evidence of what it needs, and a limit below it is refused by the API
    server, so a limit is never planned below it."""
    return container.memory_request()


def shown(container: Container, size: ByteSize) -> str:
    """A size in a message as the container's surface writes it, through its memory codec: ``64m``
    for Docker and Compose, ``64Mi`` for Kubernetes (where ``64m`` is 0.064 bytes)."""
    return container.formatted(MEMORY, size) if container.supports(MEMORY) else size.docker()


def memory_budget(container: Container, ctx: Context) -> tuple[ByteSize, str] | None:
    """The memory limit the container ends up with, and where it comes from (GOMEMLIMIT and the
    /tmp tmpfs size read it too)."""
    planned = plan(container, ctx)
    if planned is None or planned.size is None:
        return None
    return planned.size, planned.described


def check(container: Container, ctx: Context) -> Iterator[Report]:
    profile = ctx.profile
    yield from _twins(container)
    planned = plan(container, ctx)
    if planned is None:
        return
    if planned.setting is None:
        key = container.spelled(MEMORY)
        value = str(planned.value)
        size = planned.size
        assert size is not None  # a planned limit is a size
        yield report(
            container, MISSING,
            f"no memory limit; the container may use all of the host's memory ({key} '{value}': {planned.why})",
            None, lambda: container.set(MEMORY, size), f"add {key} '{value}'",
            planned.applicability)
    else:
        yield from _below_heap(container, ctx, planned, len(container.find(MEMORY)) == 1)
    if not profile.get(SWAP_OFF) or planned.value is None or not container.supports(SWAP_LIMIT):
        return  # a file kind without swap settings (Kubernetes) has no swap to turn off
    yield from _swap(container, ctx, planned)


def _below_heap(container: Container, ctx: Context, planned: MemoryPlan, one_key: bool) -> Iterator[Report]:
    """DF304: an existing limit that leaves the heap less room than the workload needs."""
    if planned.size is None or planned.setting is None:
        return
    facts = ctx.workload(container)
    if facts.ram_percentage is not None and facts.ram_percentage[0] > MAX_RAM_PERCENTAGE:
        yield report(
            container, BELOW_HEAP,
            f"{facts.ram_percentage[1]} gives the heap more than {MAX_RAM_PERCENTAGE:g} % of "
            f"{planned.described}; {facts.ratio_source}",
            planned.setting.span, None, "")
    need = facts.needed_limit()
    if facts.heap is None or need is None or need <= planned.size:
        return
    setting = planned.setting
    broken = facts.heap >= planned.size
    value = container.formatted(MEMORY, need)
    what = ("is at or above" if broken else f"is above {_percent(facts.heap_ratio)} of")
    yield report(
        container, BELOW_HEAP,
        f"{facts.heap_source} {what} {planned.described}; {facts.ratio_source}, so the kernel kills "
        f"the container {'at start or ' if broken else ''}under load ({facts.evidence}; the heap needs "
        f"{shown(container, facts.heap)} / {_percent(facts.heap_ratio)}, rounded up to a whole "
        f"{shown(container, ByteSize.mib(64))} "
        f"= {value})",
        setting.span,
        (lambda: container.set(MEMORY, need, setting)) if one_key else None,
        f"set {setting.name} to '{value}'",
        Applicability.SAFE if broken else Applicability.UNSAFE)


def _swap(container: Container, ctx: Context, planned: MemoryPlan) -> Iterator[Report]:
    profile = ctx.profile
    limit_value = planned.value
    swap = container.get(SWAP_LIMIT)
    swap_key = container.spelled(SWAP_LIMIT)
    applicability = planned.applicability
    if swap is None:
        problem = f"no {swap_key}; Docker then adds swap equal to the memory limit"
    else:
        swap_size = swap.value
        limit_size = planned.size
        if swap.written == limit_value or (swap_size is not None and swap_size == limit_size
                                           and swap_size.bytes > 0):
            return
        if swap_size == UNLIMITED:
            problem = f"{swap.described()} allows unlimited swap, which someone chose"
            applicability = Applicability.UNSAFE
        elif swap_size is not None and swap_size.bytes == 0:
            problem = f"{swap.described()} means unset, so Docker adds swap equal to the memory limit"
        elif swap_size is not None and limit_size is not None and swap_size < limit_size:
            problem = f"{swap.described()} is below the memory limit, which Docker rejects"
        else:
            problem = f"{swap.described()} differs from the memory limit, which allows swap; it was set on purpose"
            applicability = Applicability.UNSAFE
    yield report(
        container, SWAP,
        f"{problem}; swap makes out-of-memory behaviour slow and unpredictable "
        f"({profile.described}: swap off, {swap_key} equal to {planned.described})",
        swap.span if swap else None,
        lambda: container.set(SWAP_LIMIT, planned.setting if planned.setting is not None else planned.size),
        f"set {swap_key} to '{limit_value}'", applicability)
