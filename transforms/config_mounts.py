"""config mounts: profile-specific configuration files, mounted read-only.

A profile lists mounts in ``[[tool.dockfix.profiles.NAME.config-mounts]]`` with ``source``,
``target`` and ``services`` (globs over service names, default every service). ``{profile}`` and
``{service}`` in ``source`` expand, so one entry serves every service::

    [[tool.dockfix.profiles.edge.config-mounts]]
    services = ["api", "worker-*"]
    source = "./config/{profile}/{service}.yaml"
    target = "/etc/app/config.yaml"

Config mounts are written to Compose files (and override files), the surfaces that support
``config_mount`` (rewriter/settings.py): in ``docker run -v`` and in docker-py a relative source
is read as a volume name, so those surfaces are left to you. A Kubernetes pod mounts volumes, not
files of the repository: the file has to become a ConfigMap first, an object dockfix cannot
invent (its name, its namespace, how it is deployed), so a container without a mount at the
target gets DF601 naming what to add (a ``configMap`` volume, a read-only ``volumeMount`` with
``subPath``), with no fix; a mount already at the target is taken as the config (its source is a
volume name, not a path to compare).

DF601 config-mount-missing
    The service does not mount the profile's config file. The fix adds a read-only bind mount
    (``./config/edge/api.yaml:/etc/app/config.yaml:ro``).

DF602 config-mount-conflict
    Something else (another bind mount, a volume or a tmpfs) is already mounted at the target.
    Reported only: two mounts at one target are rejected by compose-go 2.6.2 and later, and the
    tool cannot tell which one you want.

DF603 config-mount-writable
    The config file is mounted, but writable. Configuration should be read-only in the
    container; the fix adds ``:ro`` (or ``read_only: true`` in the long syntax).

DF604 config-mount-source-missing
    The source file does not exist next to the Compose file. A missing bind source makes
    ``docker compose up`` fail (long syntax) or creates an empty directory in its place.
    A source outside the repository (``/etc/app.yaml``, ``../../secrets``, or a link that
    leads out) is reported as outside instead, as a note: dockfix does not look there, so
    whether such a path exists is never revealed.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator

from rewriter import deps
from rewriter.errors import ConfigError
from rewriter.model import Container, Report, Severity
from rewriter.profiles import Option
from rewriter.record import Record
from rewriter.settings import MountSpec, config_mount, mount, tmpfs
from transforms.base import Context, Rule, report

MISSING = Rule("DF601", "config-mount-missing", "profile config file not mounted", Severity.WARNING, __name__)
CONFLICT = Rule("DF602", "config-mount-conflict", "another mount is at the config target", Severity.ERROR, __name__)
WRITABLE = Rule("DF603", "config-mount-writable", "config file mounted writable", Severity.WARNING, __name__)
NO_SOURCE = Rule("DF604", "config-mount-source-missing", "config file does not exist", Severity.WARNING, __name__)
RULES = (MISSING, CONFLICT, WRITABLE, NO_SOURCE)


class ConfigMount(Record):
    __slots__ = ("source", "target", "services")

    def __init__(self, source: str, target: str, services: tuple[str, ...] = ("*",)) -> None:
        self.source = source
        self.target = target
        self.services = services


def _mounts(value: object, key: str, where: str, path: str) -> tuple[ConfigMount, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: {key} must be an array of tables", path=path)
    out = []
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: {key}[{n}] must be a table", path=path)
        unknown = set(item) - {"source", "target", "services"}
        if unknown:
            raise ConfigError(f"{where}: {key}[{n}]: unknown key '{sorted(unknown)[0]}'", path=path)
        source, target = item.get("source"), item.get("target")
        if not isinstance(source, str) or not isinstance(target, str) or not target.startswith("/"):
            raise ConfigError(f"{where}: {key}[{n}] needs 'source' and an absolute 'target'", path=path)
        services = item.get("services", ["*"])
        if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
            raise ConfigError(f"{where}: {key}[{n}].services must be a list of globs", path=path)
        out.append(ConfigMount(source, target, tuple(services)))
    return tuple(out)


MOUNTS = Option("config-mounts", _mounts, (), unset=[], off=(), not_for=("tool",),
                doc="files mounted read-only into matching services (an array of tables)")
OPTIONS = (MOUNTS,)


def _norm(path: str) -> str:
    return os.path.normpath(path) if path else path


def check(container: Container, ctx: Context) -> Iterator[Report]:
    if not container.name or not ctx.profile.get(MOUNTS):
        return
    if not container.supports(config_mount()):
        # a relative bind source in `docker run -v` or docker-py is a volume name (nothing to
        # say); a pod mounts volumes, not files (the surface says what to add instead)
        yield from _unsupported(container, ctx)
        return
    for source, target, where in _wanted(container, ctx):
        if ctx.directory and not source.startswith("$"):
            from rewriter.safefs import exists_inside, root_for  # lazy: start-up

            on_disk = os.path.normpath(source if os.path.isabs(source) else os.path.join(ctx.directory, source))
            root = root_for(ctx.directory)
            exists = exists_inside(on_disk, root)
            if exists is None:
                # whether a path outside the repository exists is not told, either way; a note
                # (it does not fail the run): the file may well be on the host that runs it
                yield report(container, NO_SOURCE,
                             f"config file '{source}' for '{target}' is outside the repository; dockfix "
                             f"does not look outside it, so whether it exists is not checked ({where})",
                             None, None, "").replace(severity=Severity.INFO)
            else:
                deps.touch(on_disk)
                if not exists:
                    yield report(container, NO_SOURCE,
                                 f"config file '{source}' for '{target}' does not exist ({where})",
                                 None, None, "")
        same_target = [m for m in container.find(mount()) if m.value is not None
                       and _norm(m.value.target) == _norm(target)]
        tmpfs_there = [t for t in container.find(tmpfs()) if t.value is not None
                       and _norm(t.value.target) == _norm(target)]
        if tmpfs_there:
            yield report(container, CONFLICT,
                         f"a tmpfs is already mounted at '{target}', where the config file goes ({where})",
                         tmpfs_there[0].span, None, "")
            continue
        if not same_target:
            yield report(container, MISSING,
                         f"config file not mounted at '{target}' ({where})",
                         None, functools.partial(container.set, mount(target), MountSpec(source, target, True)),
                         f"mount '{source}' read-only at '{target}'")
            continue
        found = same_target[0]
        spec = found.value
        assert spec is not None
        if _norm(spec.source) != _norm(source):
            yield report(container, CONFLICT,
                         f"'{spec.source or 'an anonymous volume'}' is already mounted at '{target}', "
                         f"where the config file goes ({where})",
                         found.span, None, "")
        elif not spec.read_only:
            yield report(container, WRITABLE,
                         f"config file '{source}' is mounted writable at '{target}'; configuration should be "
                         f"read-only in the container ({where})",
                         found.span, functools.partial(container.set, mount(spec.target), spec.replace(read_only=True), found),
                         f"mount '{source}' read-only")


def _wanted(container: Container, ctx: Context) -> Iterator[tuple[str, str, str]]:
    """(source, target, how the profile asks for it) of each config mount for this container."""
    import fnmatch  # lazy: start-up (here: only profiles with config mounts need it)

    profile = ctx.profile
    for wanted in profile.get(MOUNTS):
        if any(fnmatch.fnmatchcase(container.name, glob) for glob in wanted.services):
            source = wanted.source.replace("{profile}", profile.name).replace("{service}", container.name)
            yield source, wanted.target, f"{profile.described}: '{source}:{wanted.target}:ro'"


def _unsupported(container: Container, ctx: Context) -> Iterator[Report]:
    """DF601 with no fix where the surface cannot bind a file but says what to add instead; a
    mount already at the target is taken as the config, a tmpfs there is DF602."""
    instead = container.unsupported(config_mount())
    if not instead:
        return
    for source, target, where in _wanted(container, ctx):
        tmpfs_there = [t for t in container.find(tmpfs(target)) if t.value is not None]
        if tmpfs_there:
            yield report(container, CONFLICT,
                         f"a tmpfs is already mounted at '{target}', where the config file goes ({where})",
                         tmpfs_there[0].span, None, "")
        elif not container.find(mount(target)):
            yield report(container, MISSING, f"config file '{source}' is not mounted at '{target}' ({where}); "
                         f"{instead}", None, None, "")
