"""How Compose merges one service over several files: the one place that knows it.

compose-go ``override/merge.go`` and ``override/uncity.go``: a scalar in a later file wins
(``mem_limit``, ``memswap_limit``, ``pids_limit``, ``image``), mappings merge key by key
(``deploy.resources.limits.*``, ``environment`` by variable, ``ulimits`` by name), ``tmpfs`` is
appended and kept unique by the whole entry (``/tmp:size=64m`` beside ``/tmp`` is an error, not a
merge), ``volumes`` are unique by target (the later one wins).

Both ``--write-to override`` (:mod:`rewriter.surfaces.compose_override`: base + the profile's
override file, ``extends``) and the project model (:class:`ProjectService`: every file of a
Compose project) read services through these functions.
"""

from __future__ import annotations

from rewriter.model import Mount, Setting, Span, TmpfsMount, Ulimit

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rewriter.edits import Fix
    from rewriter.model import BuildSpec, Container

    Relabel = Callable[[Setting], Setting]
    Layer = tuple[Container, Relabel]  # a service in one file, and how its settings are shown here


def pick(layers: Sequence[Layer], keys: tuple[str, ...]) -> Setting | None:
    """A scalar setting: the last file that sets it wins."""
    for service, relabel in reversed(layers):
        found = service.setting(keys)  # type: ignore[attr-defined]
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
    for service, _ in reversed(layers):
        found = service.image()
        if found is not None:
            return found
    return None


def build(layers: Sequence[Layer]) -> BuildSpec | None:
    for service, _ in reversed(layers):
        found = service.build()
        if found is not None:
            return found
    return None


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


def defines(service: Container, path: tuple[str, ...]) -> bool:
    """Whether ``service`` (in one file) writes the setting at ``path`` itself."""
    if path[0] == "environment":
        return path[1] in service.env()
    if path[0] == "ulimits":
        return service.ulimit(path[1]) is not None
    if len(path) == 1 and path[0] == "tmpfs":
        return bool(service.tmpfs())
    return service.setting(path) is not None  # type: ignore[attr-defined]


class ProjectService:
    """A service seen through every file of its Compose project; changes go into this file.

    ``layers`` are the service's definitions in merge order, ``here`` the index of the one in the
    file being checked. A rule family's findings are kept only in the file where its settings take
    effect (:meth:`reports_here`): the last file that sets one of them, else the file that defines
    the service. So an overlay never gets values that override (and lower) the base, and a base
    never gets a value an overlay overrides anyway.
    """

    def __init__(self, layers: list[Layer], here: int, labels: list[str], orphan: str = "") -> None:
        self._layers = layers
        self._here = here
        self._labels = labels  # each layer's file, as shown in messages
        self._own = layers[here][0]
        own = self._own
        self.name = own.name
        self.scope = own.scope
        self.label = own.label
        self.span = own.span
        self.orphan = orphan  # why this service cannot be read (an overlay without its base)

    # what the project adds to a container
    def reports_here(self, code: str) -> bool:
        if self.orphan:
            return False
        later = [service for service, _ in self._layers[self._here + 1:]]
        paths = FAMILIES.get(code[:3], ())
        if any(defines(service, path) for service in later for path in paths):
            return False
        if self._here == 0:
            return True
        return any(defines(self._own, path) for path in paths)

    def files(self) -> list[str]:
        return list(self._labels)

    def __getattr__(self, name: str) -> object:
        """Changes (``set_*``, ``add_*``, ``remove_*``) and private helpers go to this file's
        definition; any other fact a surface offers is read from the last file that has it (a
        later file wins, as for ``image`` or ``command``)."""
        found = getattr(self._own, name)
        if name.startswith(("_", "set_", "add_", "remove_")) or name in ("extends", "setting_name") \
                or not callable(found):
            return found
        layers = self._layers

        def merged(*args: object, **kwargs: object) -> object:
            result: object = None
            for service, relabel in reversed(layers):
                method = getattr(service, name, None)
                result = method(*args, **kwargs) if callable(method) else None
                if result is not None and result != [] and result != {} and result != ():
                    return _relabelled(result, relabel)
            return result
        return merged

    def setting_name(self, concern: str) -> str:
        from rewriter.surfaces.compose import TWIN_OF

        if concern in TWIN_OF:
            return ".".join(self.new_limit_keys(concern))
        return self._own.setting_name(concern)

    # -- deploy limits and their service-level twins, on the merged service ----------------------
    def has_block(self, keys: tuple[str, ...]) -> bool:
        return any(service.has_block(keys) for service, _ in self._layers)  # type: ignore[attr-defined]

    def new_limit_keys(self, concern: str) -> tuple[str, ...]:
        """Where a missing limit goes: beside a ``deploy.resources.limits`` block any file of the
        project has (Compose refuses a service-level limit against the block's missing twin)."""
        from rewriter.surfaces.compose import ComposeService

        return ComposeService.new_limit_keys(self, concern)  # type: ignore[arg-type]

    def limit_twins(self) -> list[tuple[Setting, str, Setting | None]]:
        from rewriter.surfaces.compose import ComposeService

        return ComposeService.limit_twins(self)  # type: ignore[arg-type]

    def set_memory_limit(self, value: str, where: Setting | None) -> Fix:
        return self._own.set_memory_limit(value, where or self._at(self.new_limit_keys("memory")))

    def set_pids_limit(self, value: int, where: Setting | None) -> Fix:
        return self._own.set_pids_limit(value, where or self._at(self.new_limit_keys("pids")))

    def _at(self, keys: tuple[str, ...]) -> Setting:
        """A place to write at ``keys`` in this file (nothing is there yet)."""
        return Setting(".".join(keys), None, self.span, keys)

    def setting(self, keys: tuple[str, ...]) -> Setting | None:
        return pick(self._layers, keys)

    def has(self, key: str) -> bool:
        return any(service.has(key) for service, _ in self._layers)  # type: ignore[attr-defined]

    def tmpfs(self) -> list[TmpfsMount]:
        return tmpfs(self._layers)

    def mounts(self) -> list[Mount]:
        return mounts(self._layers)

    def volume_targets(self) -> set[str]:
        return {m.target.rstrip("/") or "/" for m in self.mounts()}

    def ulimit(self, name: str) -> Ulimit | None:
        return ulimit(self._layers, name)

    def memory_limits(self) -> list[Setting]:
        return memory_limits(self._layers)

    def memswap_limit(self) -> Setting | None:
        return pick(self._layers, ("memswap_limit",))

    def pids_limits(self) -> list[Setting]:
        return pids_limits(self._layers)

    def image(self) -> str | None:
        return image(self._layers)

    def build(self) -> BuildSpec | None:
        return build(self._layers)

    def env(self) -> dict[str, Setting]:
        return env(self._layers)

    def cpu_limit(self) -> Setting | None:
        return cpu_limit(self._layers)

    def one_off(self) -> tuple[str, bool]:
        from rewriter.surfaces.compose import job_reason

        own = self._own
        doc = getattr(own, "doc", None) or getattr(getattr(own, "over", None), "doc", None)
        return job_reason(self, doc), False


def _relabelled(value: object, relabel: Relabel) -> object:
    """A fact read from another file, with every setting in it shown here (its span is in that
    file's text, not this one's)."""
    if isinstance(value, Setting):
        return relabel(value)
    if isinstance(value, list):
        return [_relabelled(v, relabel) for v in value]
    if isinstance(value, tuple):
        return tuple(_relabelled(v, relabel) for v in value)
    if isinstance(value, dict):
        return {k: _relabelled(v, relabel) for k, v in value.items()}
    setting = getattr(value, "setting", None)
    if isinstance(setting, Setting) and hasattr(value, "replace"):
        return value.replace(setting=relabel(setting))
    return value


def relabeller(span: Span, origin: str) -> Relabel:
    """Show a setting from another file at ``span`` here, saying where it is set."""
    def relabel(setting: Setting) -> Setting:
        return setting.replace(span=span, origin=origin + (f", {setting.origin}" if setting.origin else ""))
    return relabel


def same(setting: Setting) -> Setting:
    return setting
