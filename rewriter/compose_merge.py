"""How Compose merges one service over several files: the one place that knows it.

compose-go ``override/merge.go`` and ``override/uncity.go``: a scalar in a later file wins
(``mem_limit``, ``memswap_limit``, ``pids_limit``, ``image``), mappings merge key by key
(``deploy.resources.limits.*``, ``environment`` by variable, ``ulimits`` by name), ``tmpfs`` is
appended and kept unique by the whole entry (``/tmp:size=64m`` beside ``/tmp`` is an error, not a
merge), ``volumes`` are unique by target (the later one wins).

``--write-to override`` (:mod:`rewriter.surfaces.compose_override`: base + the profile's override
file), ``extends`` (:mod:`rewriter.surfaces.compose_extends`: a service over the one it extends)
and the project model (:class:`rewriter.compose_service.ProjectService`: every file of a Compose
project) read services through these functions.
"""

from __future__ import annotations

from rewriter.model import Mount, Setting, Span, TmpfsMount, Ulimit

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rewriter.edits import Fix
    from rewriter.model import BuildSpec, Container
    from rewriter.runfacts import ServiceRun
    from rewriter.yamlview import YamlDocument
    from typing import Protocol

    class Service(Container, Protocol):
        """A Compose service in one file (rewriter.surfaces.compose, .compose_override): the
        Container, and the readers the merge rules read it through (spelled Compose's way)."""

        def setting(self, keys: tuple[str, ...]) -> Setting | None: ...
        def has(self, key: str) -> bool: ...
        def has_block(self, keys: tuple[str, ...]) -> bool: ...
        def tmpfs(self) -> list[TmpfsMount]: ...
        def mounts(self) -> list[Mount]: ...
        def env(self) -> dict[str, Setting]: ...
        def ulimit(self, name: str) -> Ulimit | None: ...
        def run_facts(self) -> ServiceRun: ...
        def profile_groups(self) -> tuple[str, ...]: ...
        def file_doc(self) -> YamlDocument | None: ...
        def limit_expression(self, keys: tuple[str | int, ...], value: object) -> object: ...

    Relabel = Callable[[Setting], Setting]
    Layer = tuple[Service, Relabel]  # a service in one file, and how its settings are shown here


def pick(layers: Sequence[Layer], keys: tuple[str, ...]) -> Setting | None:
    """A scalar setting: the last file that sets it wins."""
    for service, relabel in reversed(layers):
        found = service.setting(keys)
        if found is not None:
            return relabel(found)
    return None


def tmpfs(layers: Sequence[Layer]) -> list[TmpfsMount]:
    """All layers' tmpfs entries, appended; an identical entry is kept once."""
    out: list[TmpfsMount] = []
    seen: set[tuple[str, str]] = set()
    for service, relabel in layers:
        for mount in service.tmpfs():
            ident = (mount.form, str(mount.setting.value) if mount.form == "short" else mount.target)
            if ident in seen:
                continue
            seen.add(ident)
            out.append(mount.replace(setting=relabel(mount.setting)))
    return out


def mounts(layers: Sequence[Layer]) -> list[Mount]:
    """Volumes and binds unique by target: a later file's entry replaces an earlier one."""
    by_target: dict[str, Mount] = {}
    for service, relabel in layers:
        for mount in service.mounts():
            key = mount.target.rstrip("/") or "/"
            by_target.pop(key, None)
            by_target[key] = mount.replace(setting=relabel(mount.setting))
    return list(by_target.values())


def env(layers: Sequence[Layer]) -> dict[str, Setting]:
    """Environment variables merged by name, the later file winning."""
    merged: dict[str, Setting] = {}
    for service, relabel in layers:
        for name, setting in service.env().items():
            merged[name] = relabel(setting)
    return merged


def ulimit(layers: Sequence[Layer], name: str) -> Ulimit | None:
    """One ulimit: the later file's entry replaces the earlier one."""
    for service, relabel in reversed(layers):
        found = service.ulimit(name)
        if found is not None:
            return found.replace(setting=relabel(found.setting))
    return None


def image(layers: Sequence[Layer]) -> str | None:
    """The image: a scalar, so the last file that sets it wins."""
    return next((found for service, _ in reversed(layers) if (found := service.image()) is not None), None)


def build(layers: Sequence[Layer]) -> BuildSpec | None:
    """The build of the last file that sets one (Compose merges build mappings key by key; a later
    file that sets only ``args`` is not merged with an earlier ``context`` here)."""
    return next((found for service, _ in reversed(layers) if (found := service.build()) is not None), None)


def memory_limits(layers: Sequence[Layer]) -> list[Setting]:
    found = [pick(layers, ("mem_limit",)), pick(layers, ("deploy", "resources", "limits", "memory"))]
    return [s for s in found if s is not None]


def pids_limits(layers: Sequence[Layer]) -> list[Setting]:
    found = [pick(layers, ("pids_limit",)), pick(layers, ("deploy", "resources", "limits", "pids"))]
    return [s for s in found if s is not None]


def cpu_limit(layers: Sequence[Layer]) -> Setting | None:
    return pick(layers, ("deploy", "resources", "limits", "cpus")) or pick(layers, ("cpus",))


# Which settings each rule family decides on: a later file that sets any of them overrides what an
# earlier file says, so that family's findings (and fixes) belong to the last file that sets one.
# GOMEMLIMIT follows the memory limit, so DF5 moves with it; a config mount (DF6) is one more
# volume target and stays with the service's definition.
FAMILIES: dict[str, tuple[tuple[str, ...], ...]] = {
    "DF1": (("tmpfs",),),
    "DF2": (("ulimits", "nofile"),),
    "DF3": (("mem_limit",), ("memswap_limit",), ("deploy", "resources", "limits", "memory")),
    "DF4": (("pids_limit",), ("deploy", "resources", "limits", "pids")),
    "DF5": (("mem_limit",), ("deploy", "resources", "limits", "memory"), ("environment", "GOMEMLIMIT"),
            ("environment", "GOMAXPROCS")),
}


def defines(service: Service, path: tuple[str, ...]) -> bool:
    """Whether ``service`` (in one file) writes the setting at ``path`` itself."""
    if path[0] == "environment":
        return path[1] in service.env()
    if path[0] == "ulimits":
        return service.ulimit(path[1]) is not None
    if len(path) == 1 and path[0] == "tmpfs":
        return bool(service.tmpfs())
    return service.setting(path) is not None


def relabeller(span: Span, origin: str) -> Relabel:
    """Show a setting from another file at ``span`` here, saying where it is set."""
    def relabel(setting: Setting) -> Setting:
        return setting.replace(span=span, origin=origin + (f", {setting.origin}" if setting.origin else ""))
    return relabel


def same(setting: Setting) -> Setting:
    return setting
