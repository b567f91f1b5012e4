"""A service seen through every file of its Compose project: the project model's merged service.

It reads each setting through :mod:`rewriter.compose_merge` (Compose's merge rules, below the
surfaces) and writes through the Compose surface, so it sits above both, in the project-model
layer beside :mod:`rewriter.compose_project`, which builds it.
"""

from __future__ import annotations

from rewriter.compose_merge import (FAMILIES, build, cpu_limit, defines, env, image, memory_limits, mounts, pick,
                                    pids_limits, tmpfs, ulimit)
from rewriter.model import Mount, Setting, TmpfsMount, Ulimit
from rewriter.settings import Found
from rewriter.surfaces.compose import TWIN_OF, ComposeSettings, service_run

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.compose_merge import Layer, Relabel
    from rewriter.edits import Fix
    from rewriter.model import BuildSpec, Container
    from rewriter.runfacts import ServiceRun
    from rewriter.settings import Key, V
    from rewriter.yamlview import YamlDocument


class ProjectService(ComposeSettings):
    """A service seen through every file of its Compose project; changes go into this file.

    ``layers`` are the service's definitions in merge order, ``here`` the index of the one in the
    file being checked. A rule family's findings are kept only in the file where its settings take
    effect (:meth:`reports_here`): the last file that sets one of them, else the file that defines
    the service. So an overlay never gets values that override (and lower) the base, and a base
    never gets a value an overlay overrides anyway.
    """

    def __init__(self, layers: list[Layer], here: int, labels: list[str], orphan: str = "",
                 workdirs: list[str | None] | None = None) -> None:
        self._layers = layers
        # each layer's project directory, the base of its relative paths (None: its file's own)
        self._workdirs = workdirs if workdirs is not None else [None] * len(layers)
        self._here = here
        self._labels = labels  # each layer's file, as shown in messages
        self._own = layers[here][0]
        own = self._own
        self.name = own.name
        self.scope = own.scope
        self.label = own.label
        self.span = own.span
        self._orphan = orphan

    @property
    def orphan(self) -> str:
        """Why this service cannot be read (an overlay without its base), or ''."""
        return self._orphan

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

    def command(self) -> tuple[str, ...]:
        """The last file's command that sets one (a later file wins)."""
        for service, _ in reversed(self._layers):
            found = service.command()
            if found:
                return found
        return ()

    def profile_groups(self) -> tuple[str, ...]:
        """This file's definition's ``profiles:`` (``job_reason`` reads them)."""
        return self._own.profile_groups()

    def file_doc(self) -> YamlDocument | None:
        return self._own.file_doc()

    # -- deploy limits and their service-level twins, on the merged service ----------------------
    def has_block(self, keys: tuple[str, ...]) -> bool:
        return any(service.has_block(keys) for service, _ in self._layers)

    def _at(self, keys: tuple[str, ...]) -> Setting:
        """A place to write at ``keys`` in this file (nothing is there yet)."""
        return Setting(".".join(keys), None, self.span, keys)

    def setting(self, keys: tuple[str, ...]) -> Setting | None:
        return pick(self._layers, keys)

    def limit_expression(self, keys: tuple[str | int, ...], value: object) -> object:
        """The expression of the file whose limit at ``keys`` wins: a ``memswap_limit`` an
        override adds beside the base's ``mem_limit: ${API_MEM:-768m}`` copies that expression
        (every layer answers, so the last one's literal would have won)."""
        for service, _ in reversed(self._layers):
            if service.setting(tuple(str(k) for k in keys)) is not None:
                return service.limit_expression(keys, value)
        return value

    def has(self, key: str) -> bool:
        return any(service.has(key) for service, _ in self._layers)

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

    def env_files(self, workdir: str | None = None) -> list[tuple[str, str]]:
        """Every layer's ``env_file`` entries in merge order (Compose appends them), each relative
        to its layer's project directory (``workdir`` is the caller's and not used: every layer
        has its own)."""
        out: list[tuple[str, str]] = []
        for (service, _), own in zip(self._layers, self._workdirs):
            out.extend(service.env_files(own))
        return out

    def run_facts(self) -> ServiceRun:
        return service_run(self)

    def set(self, key: Key[V], value: V | Found[V] | None, where: Found[V] | None = None) -> Fix:
        """Every change goes into this file's definition; a new memory or pids limit beside a
        ``deploy.resources.limits`` block any file of the project has."""
        if where is None and key.kind in TWIN_OF:
            keys = self.new_limit_keys(key.kind)
            where = Found(key, None, ".".join(keys), None, self.span, "", self._at(keys))
        return self._own.set(key, value, where)
