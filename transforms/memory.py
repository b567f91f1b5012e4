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

DF303 memory-limits-differ
    ``mem_limit`` and ``deploy.resources.limits.memory`` are both set to different values.
    compose-go 2.0.1 and later refuse to load such a file. Reported only: the tool cannot tell
    which one you meant.

Settings: ``mem-limit`` (``none`` turns DF301 off) and ``swap`` (``off`` or ``keep``) in the profile.
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.model import Container, Report, Setting, Severity
from rewriter.sizes import ByteSize
from transforms.base import Context, Rule, report

MISSING = Rule("DF301", "memory-limit-missing", "no memory limit", Severity.WARNING, __name__)
SWAP = Rule("DF302", "swap-not-off", "swap is not turned off", Severity.WARNING, __name__)
DIFFER = Rule("DF303", "memory-limits-differ", "mem_limit and the deploy memory limit differ",
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


def effective_limit(limits: list[Setting]) -> Setting | None:
    """The limit docker compose applies: the deploy one overrides ``mem_limit``."""
    if not limits:
        return None
    return limits[-1]


def check(container: Container, ctx: Context) -> Iterator[Report]:
    profile = ctx.profile
    limits = container.memory_limits()
    if len(limits) == 2:
        a, b = (size_of(s.value) for s in limits)
        if a is not None and b is not None and a != b:
            yield report(
                container, DIFFER,
                f"{limits[0].described()} and {limits[1].described()} differ; docker compose refuses "
                f"distinct values, so set them equal",
                limits[0].span, None, "")
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
