"""tmpfs: a size-bounded tmpfs on /tmp.

DF101 tmpfs-missing
    The container has no tmpfs on ``/tmp``. Writes to /tmp go to the container's writable layer:
    disk-backed, reclaimable page cache, but with no bound on disk use. The fix adds a tmpfs with
    the profile's size and mode (prod: ``size=64m,mode=1777``). A tmpfs is RAM: its pages count
    against the container's memory limit, so keep it well below that limit.

    Compose, before and after::

        services:
          api:
            image: example/api
        ---
        services:
          api:
            image: example/api
            tmpfs:
              - /tmp:size=64m,mode=1777

    Nothing is added when /tmp is already a volume or bind mount, nor where a tmpfs would break
    the program (DF105 says why). For a JVM the tmpfs gets ``exec`` as well
    (``/tmp:size=64m,mode=1777,exec``): JNA, netty, snappy-java, RocksDB and sqlite-jdbc extract
    native libraries to ``java.io.tmpdir`` and load them from there, which Docker's default
    ``noexec`` forbids; not when ``-Djava.io.tmpdir`` (or Elasticsearch's ``ES_TMPDIR``) points
    elsewhere.

DF102 tmpfs-unbounded
    A tmpfs on ``/tmp`` has no ``size``. The kernel default is half of the host's RAM, not of the
    container's limit, so a runaway writer is OOM-killed instead of getting ENOSPC. The fix adds
    the profile's size and keeps every other option (``/tmp:rw,noexec`` ->
    ``/tmp:rw,noexec,size=64m``).

DF103 tmpfs-noexec-native
    A JVM service has a tmpfs on ``/tmp`` without ``exec``: Docker mounts it ``noexec``, and the
    native libraries the JVM extracts there cannot be loaded (``UnsatisfiedLinkError``,
    Elasticsearch: "failed to map segment from shared object"). The fix adds ``exec``; it is a
    suggestion when ``noexec`` is written out (someone chose it). The long syntax cannot say
    ``exec``, so there it is reported only.

DF104 tmpfs-hides-image-files
    A tmpfs on ``/tmp`` hides what the program needs there: files the image puts in /tmp
    (``COPY``/``ADD``/``RUN`` in the stages that make the image, ``WORKDIR /tmp``), a
    ``-javaagent:/tmp/...``, or uploads larger than the tmpfs (PHP's upload limits; uploads are
    written to /tmp first). Reported only: remove the tmpfs, move the files, or size it.

DF105 tmp-left-alone
    A note: no tmpfs is added on ``/tmp`` because one would break the program, for the reasons
    DF104 lists (the image's Dockerfile is the service's ``build:``, or an image the repository
    builds: see ``dockfix rule DF105`` and rewriter/detectors/image.py). Nothing to fix.

DF106 tmpfs-above-limit
    The tmpfs on ``/tmp`` is as large as the memory limit or larger (``size=64m`` under a
    ``20M`` limit). Its pages count against the limit, so filling /tmp gets the container
    OOM-killed before it ever sees ENOSPC. Plainly broken, so the fix (safe) lowers the size
    to a quarter of the limit.

The size dockfix writes is the profile's, capped at a quarter of the memory limit (mem_limit
``128m`` gives ``size=32m``), because tmpfs pages are RAM the container's limit pays for. When
that quarter is below 16m (a memory limit under 64m), no tmpfs is added: a /tmp that small fails
the programs that use it, so DF101 is a note and a bare /tmp (DF102) keeps no automatic fix.

Settings: ``tmpfs-size`` (``none`` turns DF101 and DF102 off) and ``tmpfs-mode`` in the profile.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from rewriter.edits import Applicability
from rewriter.errors import ConfigError
from rewriter.model import Container, Report, Severity
from rewriter.profiles import Option, size_option
from rewriter.settings import Found, TmpfsSpec, mount, tmpfs
from rewriter.sizes import MIB, ByteSize
from transforms.base import Context, Rule, report
from transforms.memory import memory_budget, shown

MISSING = Rule("DF101", "tmpfs-missing", "no tmpfs on /tmp", Severity.WARNING, __name__)
UNBOUNDED = Rule("DF102", "tmpfs-unbounded", "tmpfs on /tmp has no size", Severity.WARNING, __name__)
NOEXEC = Rule("DF103", "tmpfs-noexec-native", "JVM with a noexec tmpfs on /tmp", Severity.WARNING, __name__)
HIDES = Rule("DF104", "tmpfs-hides-image-files", "tmpfs on /tmp hides what the program needs there",
             Severity.WARNING, __name__)
LEFT_ALONE = Rule("DF105", "tmp-left-alone", "no tmpfs added: the program needs its /tmp", Severity.INFO, __name__)
ABOVE = Rule("DF106", "tmpfs-above-limit", "tmpfs on /tmp as large as the memory limit", Severity.ERROR,
             __name__)
RULES = (MISSING, UNBOUNDED, NOEXEC, HIDES, LEFT_ALONE, ABOVE)


def _mode(value: object, key: str, where: str, path: str) -> int:
    text = str(value)
    if not isinstance(value, str) or not re.fullmatch(r"0?[0-7]{3,4}", text):
        raise ConfigError(f"{where}: {key} '{value}' must be an octal mode written as a string, e.g. \"1777\"",
                          path=path)
    return int(text, 8)


SIZE = Option("tmpfs-size", size_option(), (("prod", "64m"), ("dev", "256m")), not_for=("tool",),
              doc="the size of the tmpfs added on /tmp (none: DF101 and DF102 off)")
MODE = Option("tmpfs-mode", _mode, (("prod", "1777"), ("dev", "1777")), unset="1777", off=0o1777,
              doc="the mode of that tmpfs, an octal string")
OPTIONS = (SIZE, MODE)

TARGET = "/tmp"
TMP = tmpfs(TARGET)
# Below this a /tmp is too small to be useful (an upload, a sort spill, a package's scratch
# files): a quarter of the memory limit smaller than this means no tmpfs is added at all.
FLOOR = ByteSize.mib(16)


def adds(ctx: Context) -> bool:
    """Whether the profile's own rules add a tmpfs on /tmp where there is none (DF101): a
    Dockerfile's ``/etc/fstab`` tmpfs is then carried by it, not moved."""
    return ctx.profile.get(SIZE) is not None and ctx.wants(MISSING.code)


def quarter(limit: ByteSize) -> ByteSize:
    """A quarter of the memory limit in whole MiB: the most of it a /tmp tmpfs may take."""
    return ByteSize.mib(limit.bytes // 4 // MIB)


def capped(size: ByteSize, limit: ByteSize | None) -> ByteSize | None:
    """The profile's size at most a quarter of the limit; None when that is below :data:`FLOOR`."""
    if limit is None or size <= quarter(limit):
        return size
    return quarter(limit) if quarter(limit) >= FLOOR else None


def _why_capped(size: ByteSize, want: ByteSize | None, budget: tuple[ByteSize, str] | None) -> str:
    if budget is None or want is None or want == size:
        return ""
    return f", capped at a quarter of {budget[1]}"


def needs_own_tmp(container: Container, ctx: Context, size: ByteSize | None) -> str:
    """Why a tmpfs (of ``size``) on /tmp would break the program, or '' when it would not."""
    facts = ctx.workload(container)
    if facts.tmp_agent:
        return f"{facts.tmp_agent} loads an agent from /tmp, which a tmpfs would hide"
    linked = ctx.linked_build(container)
    if linked is not None:
        from rewriter.detectors.image import tmp_contents  # lazy: start-up

        built, how = linked
        contents = tmp_contents(built)
        if contents:
            via = "" if how == "its build" else f"; the image is built from {built.display}: {how}"
            return f"{contents}, which a tmpfs would hide{via}"
    if facts.scratch_tmp:
        effect = facts.scratch_effect or "fails once they outgrow it; give /tmp a tmpfs you size, or keep it on disk"
        return f"{facts.scratch_tmp} ({facts.evidence}): a {shown(container, size) if size else 'small'} tmpfs there {effect}"
    if facts.upload is not None and size is not None and facts.upload > size:
        return (f"uploads of up to {shown(container, facts.upload)} ({facts.upload_source}) are written to /tmp "
                f"first, more than a {shown(container, size)} tmpfs holds; give /tmp a tmpfs at least that large "
                f"(it counts against the memory limit), or keep it on disk")
    return ""


def spec_of(found: Found[TmpfsSpec]) -> TmpfsSpec:
    """A tmpfs as found (a surface always reads one, though its size may be unreadable)."""
    assert found.value is not None
    return found.value


def _mounts(container: Container) -> list[Found[TmpfsSpec]]:
    return container.find(TMP)


def on_disk(container: Container) -> bool:
    """Whether /tmp is a volume or bind mount already."""
    return bool(container.find(mount(TARGET)))


def _too_big(found: Found[TmpfsSpec], limit: ByteSize | None) -> ByteSize | None:
    """The size of a /tmp tmpfs that is not below the memory limit (DF106), else None."""
    parsed = spec_of(found).size
    if parsed is None or limit is None or parsed < limit or quarter(limit).bytes == 0:
        return None
    return parsed


def planned_tmpfs(container: Container, ctx: Context) -> tuple[ByteSize, str] | None:
    """The size of the /tmp tmpfs once this module's fixes are made, and where it comes from;
    None without one (GOMEMLIMIT leaves room for it: tmpfs pages count against the limit)."""
    profile = ctx.profile
    if not container.supports(TMP):
        return None
    budget = memory_budget(container, ctx)
    limit = budget[0] if budget is not None else None
    mounts = _mounts(container)
    for found in mounts:
        spec = spec_of(found)
        size = spec.option("size")
        parsed = spec.size
        if parsed is not None:
            if budget is not None and _too_big(found, limit) is not None and ctx.wants(ABOVE.code):
                cap = quarter(budget[0])
                return cap, f"tmpfs /tmp {shown(container, cap)} (a quarter of {budget[1]})"
            return parsed, f"tmpfs /tmp {size}"
    wanted = profile.get(SIZE)
    if wanted is not None and (
            (mounts and ctx.wants(UNBOUNDED.code))
            or (not mounts and not on_disk(container) and ctx.wants(MISSING.code)
                and not needs_own_tmp(container, ctx, capped(wanted, limit)))):
        want = capped(wanted, limit)
        if want is not None:
            why = _why_capped(wanted, want, budget)
            return want, f"tmpfs /tmp {shown(container, want)} ({profile.described}{why})"
    return None


def check(container: Container, ctx: Context) -> Iterator[Report]:
    profile = ctx.profile
    if not container.supports(TMP):
        return  # the surface cannot say (or read) a tmpfs here
    size = profile.get(SIZE)
    budget = memory_budget(container, ctx)
    limit = budget[0] if budget is not None else None
    mounts = _mounts(container)
    if mounts:
        yield from _existing(container, ctx, mounts)
    if not mounts:
        if size is None or on_disk(container):
            return
        want = capped(size, limit)
        why_not = needs_own_tmp(container, ctx, want or size)
        if why_not:
            yield report(container, LEFT_ALONE, f"no tmpfs added on '{TARGET}': {why_not}", None, None, "")
            return
        if want is None:
            assert budget is not None
            yield report(
                container, MISSING,
                f"no tmpfs on '{TARGET}', and none added: tmpfs pages count against the memory limit "
                f"and a quarter of {budget[1]} is {shown(container, quarter(budget[0]))}, below the "
                f"{shown(container, FLOOR)} a useful /tmp needs; raise the limit to add one",
                None, None, "").replace(severity=Severity.INFO)
            return
        native = ctx.workload(container).native_tmp
        new = TmpfsSpec(TARGET, want, profile.get(MODE), ("exec",) if native else ())
        options = container.formatted(TMP, new)
        extra = f"; exec because {native}" if native else ""
        yield report(
            container, MISSING,
            f"no tmpfs on '{TARGET}'; writes to /tmp go to the writable layer with no bound on disk use "
            f"({profile.described}: tmpfs '{TARGET}:{options}'{_why_capped(size, want, budget)}{extra})",
            None, lambda: container.set(TMP, new),
            f"add tmpfs '{TARGET}:{options}'")
        return
    for found in mounts:
        if spec_of(found).option("size") is not None:
            yield from _above_limit(container, found, budget)
            continue
        if size is None:
            continue
        want = capped(size, limit)
        message = (f"tmpfs '{TARGET}' has no size; tmpfs defaults to half the host's RAM and counts against "
                   f"the memory limit ({profile.described}: {shown(container, size)}{_why_capped(size, want, budget)})")
        if want is None:
            assert budget is not None
            yield report(
                container, UNBOUNDED,
                f"{message}; no size is added: a quarter of {budget[1]} is below the {shown(container, FLOOR)} a "
                f"useful /tmp needs, so set one by hand or raise the limit",
                found.span, None, "")
            continue
        sized = spec_of(found).replace(size=want)
        yield report(
            container, UNBOUNDED, message,
            found.span, functools.partial(container.set, TMP, sized, found),
            f"set the size of tmpfs '{TARGET}' to {shown(container, want)}")


def _above_limit(container: Container, found: Found[TmpfsSpec],
                 budget: tuple[ByteSize, str] | None) -> Iterator[Report]:
    """DF106: a /tmp tmpfs not below the memory limit is lowered to a quarter of the limit."""
    too_big = _too_big(found, budget[0] if budget is not None else None)
    if too_big is None or budget is None:
        return
    cap = quarter(budget[0])
    spec = spec_of(found)
    yield report(
        container, ABOVE,
        f"tmpfs '{TARGET}' size '{spec.option('size')}' is not below the memory limit ({budget[1]}); "
        f"tmpfs pages count against the limit, so a full /tmp gets the container OOM-killed "
        f"(a quarter of the limit: {shown(container, cap)})",
        found.span, lambda: container.set(TMP, spec.replace(size=cap), found),
        f"set the size of tmpfs '{TARGET}' to {shown(container, cap)}")


def _existing(container: Container, ctx: Context, mounts: list[Found[TmpfsSpec]]) -> Iterator[Report]:
    """DF103 and DF104 on a tmpfs /tmp the file already has."""
    facts = ctx.workload(container)
    for found in mounts:
        spec = spec_of(found)
        size = spec.size if spec.option("size") else None
        hides = needs_own_tmp(container, ctx, size)
        if hides:
            yield report(container, HIDES, f"tmpfs '{TARGET}' breaks the program: {hides}",
                         found.span, None, "")
        if not facts.native_tmp or spec.option("exec") is not None:
            continue
        message = f"tmpfs '{TARGET}' is mounted noexec, but {facts.native_tmp} ({facts.evidence})"
        if found.form == "long":
            yield report(container, NOEXEC, f"{message}; the long syntax cannot say exec, so write it as "
                         f"'{TARGET}:...,exec' under tmpfs", found.span, None, "")
            continue
        explicit = spec.option("noexec") is not None
        exec_ = spec.without_flag("noexec").with_flag("exec")
        yield report(
            container, NOEXEC, message + ("; noexec is written out, so this is a suggestion" if explicit else ""),
            found.span, functools.partial(container.set, TMP, exec_, found),
            f"mount tmpfs '{TARGET}' with exec", Applicability.UNSAFE if explicit else Applicability.SAFE)
