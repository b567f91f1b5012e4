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

    Nothing is added when /tmp is already a volume or bind mount.

DF102 tmpfs-unbounded
    A tmpfs on ``/tmp`` has no ``size``. The kernel default is half of the host's RAM, not of the
    container's limit, so a runaway writer is OOM-killed instead of getting ENOSPC. The fix adds
    the profile's size and keeps every other option (``/tmp:rw,noexec`` ->
    ``/tmp:rw,noexec,size=64m``).

Settings: ``tmpfs-size`` (``none`` turns the rule off) and ``tmpfs-mode`` in the profile.
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.model import Container, Report, Severity, format_tmpfs_options
from transforms.base import Context, Rule, report

MISSING = Rule("DF101", "tmpfs-missing", "no tmpfs on /tmp", Severity.WARNING, __name__)
UNBOUNDED = Rule("DF102", "tmpfs-unbounded", "tmpfs on /tmp has no size", Severity.WARNING, __name__)
RULES = (MISSING, UNBOUNDED)

TARGET = "/tmp"


def check(container: Container, ctx: Context) -> Iterator[Report]:
    profile = ctx.profile
    size = profile.tmpfs_size
    if size is None:
        return
    mounts = [m for m in container.tmpfs() if m.target.rstrip("/") == TARGET]
    if not mounts:
        if TARGET in container.volume_targets():
            return
        options = f"size={size.docker()},mode={profile.tmpfs_mode:o}"
        yield report(
            container, MISSING,
            f"no tmpfs on '{TARGET}'; writes to /tmp go to the writable layer with no bound on disk use "
            f"({profile.described}: tmpfs '{TARGET}:{options}')",
            None, lambda: container.add_tmpfs(TARGET, options),
            f"add tmpfs '{TARGET}:{options}'")
        return
    for mount in mounts:
        if mount.option("size") is not None:
            continue
        options = format_tmpfs_options(mount.options + (("size", size.docker()),))
        yield report(
            container, UNBOUNDED,
            f"tmpfs '{TARGET}' has no size; tmpfs defaults to half the host's RAM and counts against "
            f"the memory limit ({profile.described}: {size.docker()})",
            mount.setting.span, lambda m=mount, o=options: container.set_tmpfs_options(m, o),  # type: ignore[misc]
            f"set the size of tmpfs '{TARGET}' to {size.docker()}")
