"""``--write-to override``: write a profile's settings into ``compose.<profile>.yaml``.

The base file stays as the team wrote it; ``docker compose -f compose.yaml -f compose.prod.yaml``
gives the hardened stack. Facts come from the two files merged the way Compose merges them
(compose-go ``override/merge.go``): a mapping key in the override wins (``mem_limit``, each
``ulimits.*`` entry), ``tmpfs`` and ``volumes`` lists are appended, ``volumes`` unique by target.
Every change is written into the override file, which is created when it does not exist, so a
setting the base already satisfies is never repeated. The merge rules live in
:mod:`rewriter.compose_merge`; :mod:`rewriter.surfaces.compose_extends` lays a service over the one
it ``extends`` with the same :class:`OverlayService`.
"""

from __future__ import annotations

import re

from rewriter import compose_merge as merge
from rewriter.edits import Edit, Fix, Intent
from rewriter.model import BuildSpec, Mount, Setting, Span, TmpfsMount, Ulimit
from rewriter.source import display_path
from rewriter.surfaces import compose
from rewriter.surfaces.compose import ComposeService
from rewriter.yamlpatch import Patcher, Plan, Refusal
from rewriter.yamlstyle import Style, detect_style
from rewriter.yamlview import is_mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rewriter.compose_merge import Layer
    from rewriter.runfacts import ServiceRun
    from rewriter.settings import Found, Key, V
    from rewriter.yamlview import YamlDocument

YAML_NAME_RE = re.compile(r"^(?P<stem>.+)(?P<ext>\.ya?ml)$", re.IGNORECASE)


def override_name(base_name: str, profile: str) -> str | None:
    """``<stem>.<profile>.<ext>`` beside any Compose file: ``compose.yaml`` -> ``compose.prod.yaml``,
    ``docker-compose-tls.yml`` -> ``docker-compose-tls.prod.yml``, ``compose.override.yaml`` ->
    ``compose.override.prod.yaml``. None for a name without a ``.yml``/``.yaml`` extension."""
    m = YAML_NAME_RE.match(base_name)
    if not m:
        return None
    return f"{m.group('stem')}.{profile}{m.group('ext')}"


def base_name_of(name: str, profile: str) -> str | None:
    """The Compose file whose override ``name`` would be (``compose.prod.yaml`` -> ``compose.yaml``
    for the prod profile), or None when the name is not an override's name."""
    m = YAML_NAME_RE.match(name)
    suffix = f".{profile}"
    if not m or not m.group("stem").endswith(suffix) or len(m.group("stem")) == len(suffix):
        return None
    return m.group("stem")[: -len(suffix)] + m.group("ext")


class OverlayService(compose.ComposeSettings):
    """A service seen through base + override; every change goes into the override file."""

    def __init__(self, name: str, base: compose.ComposeSettings, over: ComposeService | None,
                 over_file: compose.ComposeFile, base_name: str, style: Style,
                 origin: str | None = None) -> None:
        self.name = name
        self.base = base
        self.over = over
        self.over_file = over_file
        self.scope = f"services.{name}"
        self.label = f"service '{name}'"
        self.span = over.span if over is not None else _services_span(over_file)
        self._origin = origin or f"set in {base_name}"
        self._style = style

    @property
    def orphan(self) -> str:
        """Why the service cannot be read: the base is an overlay whose own base file was not
        found (DF901, :func:`rewriter.compose_project.override_in_project`)."""
        return self.base.orphan

    def reports_here(self, code: str) -> bool:
        """The override is the last file Compose merges: every rule family takes effect here,
        unless what the service merges is unknown (an orphan overlay gets nothing, as in place)."""
        return not self.orphan

    def has_block(self, keys: tuple[str, ...]) -> bool:
        return (self.over is not None and self.over.has_block(keys)) or self.base.has_block(keys)

    # -- helpers ---------------------------------------------------------------------------------
    def _from_base(self, setting: Setting) -> Setting:
        origin = self._origin + (f", {setting.origin}" if setting.origin else "")
        return setting.replace(span=self.span, origin=origin)

    def _write(self, keys: tuple[str | int, ...], value: object, op: str = "set") -> Fix:
        if self.over is not None:
            plan = self._plan(self.over.patcher, self.over.base, self.over.node, keys, value, op)
            # a service that extends another in the same file waits while that one is being fixed
            # on the same key: next pass it sees the fixed value and needs no copy of its own
            claims = {f"{self.scope}/{keys[0]}"} | {f"{scope}/{keys[0]}" for scope in self._same_file_bases()}
            return Fix("", plan.edits, intents=plan.intents, claims=frozenset(claims), scope=self.scope)
        root = self.over_file.doc.root
        full = ("services", self.name) + keys
        if root is None:
            return self._create_file(full, value, op)
        if not is_mapping(root):
            raise Refusal("the override file is not a mapping")
        plan = self._plan(self.over_file.patcher, (), root, full, value, op)
        # Two fixes must not both create ``services:``, nor both create one service; fixes that
        # create different services go into the same pass (one claim for them all made the
        # passes grow with the number of services: 15 services did not settle in 16 passes).
        has_services = any(getattr(key, "value", None) == "services" for key, _ in root.value)
        claim = f"override/create-service/{self.name}" if has_services else "override/create-services"
        return Fix("", plan.edits, intents=plan.intents, claims=frozenset({claim}), scope=self.scope)

    @staticmethod
    def _plan(patcher: Patcher, base: tuple[str | int, ...], node: object, keys: tuple[str | int, ...],
              value: object, op: str) -> Plan:
        if op == "append":
            return patcher.append(base, node, keys, value)  # type: ignore[arg-type]
        return patcher.set(base, node, keys, value)

    def _create_file(self, full: tuple[str | int, ...], value: object, op: str) -> Fix:
        leaf: object = [value] if op == "append" else value
        for key in reversed(full[1:]):
            leaf = {key: leaf}
        text = Patcher(self.over_file.doc, self._style).render_document({str(full[0]): leaf})
        intent = Intent(op, full, value)
        return Fix("", (Edit(0, 0, text),), intents=(intent,), claims=frozenset({"override/create-file"}),
                   scope=self.scope)

    def _same_file_bases(self) -> list[str]:
        scopes: list[str] = []
        base: object = self.base
        while True:
            if isinstance(base, OverlayService):
                if base.over is not None and base.over_file is self.over_file:
                    scopes.append(base.scope)
                base = base.base
                continue
            if isinstance(base, ComposeService) and base.doc is self.over_file.doc:
                scopes.append(base.scope)
            return scopes

    # -- tmpfs -----------------------------------------------------------------------------------
    def _over_tmpfs(self) -> list[TmpfsMount]:
        return self.over.tmpfs() if self.over is not None else []

    def _layers(self) -> list[Layer]:
        """The service in the base (shown here, 'set in compose.yaml') and in the override."""
        layers: list[Layer] = [(self.base, self._from_base)]
        if self.over is not None:
            layers.append((self.over, merge.same))
        return layers

    def tmpfs(self) -> list[TmpfsMount]:
        return merge.tmpfs(self._layers())

    def add_tmpfs(self, target: str, options: str) -> Fix:
        return self._write(("tmpfs",), f"{target}:{options}", "append")

    def set_tmpfs_options(self, mount: TmpfsMount, options: str) -> Fix:
        if self.over is not None and mount in self._over_tmpfs():
            return self.over.set_tmpfs_options(mount, options)
        raise Refusal(f"tmpfs '{mount.target}' is {self._origin}; a list entry cannot be changed from here "
                      f"(Compose rejects a second '{mount.target}'), so fix it there")

    # -- mounts ----------------------------------------------------------------------------------
    def _over_mounts(self) -> list[Mount]:
        return self.over.mounts() if self.over is not None else []

    def mounts(self) -> list[Mount]:
        return merge.mounts(self._layers())

    def volume_targets(self) -> set[str]:
        return {m.target.rstrip("/") or "/" for m in self.mounts()}

    def add_mount(self, source: str, target: str, read_only: bool) -> Fix:
        value = f"{source}:{target}:ro" if read_only else f"{source}:{target}"
        return self._write(("volumes",), value, "append")

    def set_mount_read_only(self, mount: Mount) -> Fix:
        if self.over is not None and mount in self._over_mounts():
            return self.over.set_mount_read_only(mount)
        # volumes merge by target: an override entry at the same target replaces the base one
        return self.add_mount(mount.source, mount.target, True)

    # -- scalar settings: the override's value wins ----------------------------------------------
    def _pick(self, keys: tuple[str, ...]) -> Setting | None:
        return merge.pick(self._layers(), keys)

    def setting(self, keys: tuple[str, ...]) -> Setting | None:
        return self._pick(keys)

    def has(self, key: str) -> bool:
        return (self.over is not None and self.over.has(key)) or self.base.has(key)

    def ulimit(self, name: str) -> Ulimit | None:
        return merge.ulimit(self._layers(), name)

    def set_ulimit(self, name: str, soft: int, hard: int) -> Fix:
        if self.over is not None and self.over.ulimit(name) is not None:
            return self.over.set_ulimit(name, soft, hard)
        return self._write(("ulimits", name), {"soft": soft, "hard": hard})

    def memory_limits(self) -> list[Setting]:
        return merge.memory_limits(self._layers())

    def set_memory_limit(self, value: str, where: Setting | None) -> Fix:
        return self._write(tuple(where.keys) if where else self.new_limit_keys("memory"), value)

    def memswap_limit(self) -> Setting | None:
        return self._pick(("memswap_limit",))

    def set_memswap_limit(self, value: object) -> Fix:
        """As :meth:`ComposeService.set_memswap_limit`: next to an interpolated limit, the same
        expression (``${API_MEMORY:-1g}``, not ``1g``), so that the two follow the variable."""
        for limit in reversed(self.memory_limits()):
            value = self.limit_expression(limit.keys, value)
            break
        return self._write(("memswap_limit",), value)

    def limit_expression(self, keys: tuple[str | int, ...], value: object) -> object:
        """The expression of the file whose limit at ``keys`` wins (the override's, else the base's)."""
        for service, _ in reversed(self._layers()):
            if service.setting(tuple(str(k) for k in keys)) is not None:
                return service.limit_expression(keys, value)
        return value

    def pids_limits(self) -> list[Setting]:
        return merge.pids_limits(self._layers())

    def set_pids_limit(self, value: int, where: Setting | None) -> Fix:
        return self._write(tuple(where.keys) if where else self.new_limit_keys("pids"), value)


    # -- Go-facing settings: environment merges by variable, the override winning -----------------
    def image(self) -> str | None:
        return merge.image(self._layers())

    def build(self) -> BuildSpec | None:
        return merge.build(self._layers())

    def env(self) -> dict[str, Setting]:
        return merge.env(self._layers())

    def set_env(self, name: str, value: str) -> Fix:
        if self.over is not None and self.over.has("environment"):
            return self.over.set_env(name, value)
        return self._write(("environment", name), value)

    def remove_env(self, name: str) -> Fix:
        if self.over is not None and name in self.over.env():
            return self.over.remove_env(name)
        raise Refusal(f"'{name}' is set in the base file; an override cannot unset it, so remove it there")

    def cpu_limit(self) -> Setting | None:
        return merge.cpu_limit(self._layers())

    def file_doc(self) -> YamlDocument | None:
        return self.over.doc if self.over is not None else None

    def file_path(self) -> str:
        return str(self.over_file.src.path)

    def leaves(self) -> list[compose.ComposeSettings]:
        """The base's leaves, then the service of the file written to."""
        return self.base.leaves() + ([self.over] if self.over is not None else [])

    def run_facts(self) -> ServiceRun:
        return compose.service_run(self)

    def env_files(self, workdir: str | None = None) -> list[tuple[str, str]]:
        """The base's ``env_file`` entries, then this service's (Compose appends them; a later
        file wins). An ``extends: file:`` target's paths are relative to its own directory (Compose
        rebases them: compose-go's testdata ``subdir/compose-test-extends-imported.yaml`` loads
        ``./extra.env`` "relative to this file, not the extending one"); a service extended in the
        same file, and the base of an override file, share ``workdir``."""
        own = self.over.env_files(workdir) if self.over is not None else []
        same_file = self.over is not None and self.base.file_path() == self.over.doc.src.path
        return self.base.env_files(workdir if same_file else None) + own

    def command(self) -> tuple[str, ...]:
        """The override's command when it sets one (Compose replaces it whole), else the base's."""
        if self.over is not None and (self.over.has("command") or self.over.has("entrypoint")):
            return self.over.command()
        return self.base.command()


class UnresolvedExtends(compose.ComposeSettings):
    """A service whose ``extends`` cannot be read: its own settings are checked, but nothing is
    written, because what it inherits is unknown (a local key could clash with it). Every fact is
    the service's own; ``set`` refuses."""

    def __init__(self, service: ComposeService | OverlayService, reason: str) -> None:
        self.service = service
        self.reason = reason
        self.name = service.name
        self.scope = service.scope
        self.label = service.label
        self.span = service.span

    # -- what the Compose merge rules and the project model read (rewriter.compose_merge.Service) --
    def setting(self, keys: tuple[str, ...]) -> Setting | None:
        return self.service.setting(keys)

    def has(self, key: str) -> bool:
        return self.service.has(key)

    def has_block(self, keys: tuple[str, ...]) -> bool:
        return self.service.has_block(keys)

    def tmpfs(self) -> list[TmpfsMount]:
        return self.service.tmpfs()

    def mounts(self) -> list[Mount]:
        return self.service.mounts()

    def env(self) -> dict[str, Setting]:
        return self.service.env()

    def ulimit(self, name: str) -> Ulimit | None:
        return self.service.ulimit(name)

    def memory_limits(self) -> list[Setting]:
        return self.service.memory_limits()

    def memswap_limit(self) -> Setting | None:
        return self.service.memswap_limit()

    def pids_limits(self) -> list[Setting]:
        return self.service.pids_limits()

    def cpu_limit(self) -> Setting | None:
        return self.service.cpu_limit()

    def limit_twins(self) -> list[tuple[Setting, str, Setting | None]]:
        return self.service.limit_twins()

    def image(self) -> str | None:
        return self.service.image()

    def build(self) -> BuildSpec | None:
        return self.service.build()

    def command(self) -> tuple[str, ...]:
        return self.service.command()

    def run_facts(self) -> ServiceRun:
        return self.service.run_facts()

    def env_files(self, workdir: str | None = None) -> list[tuple[str, str]]:
        return self.service.env_files(workdir)

    def profile_groups(self) -> tuple[str, ...]:
        return self.service.profile_groups()

    def file_doc(self) -> YamlDocument | None:
        return self.service.file_doc()

    def file_path(self) -> str:
        """The file of the service it wraps when that is one file's service; '' for an
        ``extends`` overlay (as its ``doc``, which it forwarded, was none)."""
        return self.service.file_path() if isinstance(self.service, ComposeService) else ""

    def leaves(self) -> list[compose.ComposeSettings]:
        return self.service.leaves()

    def limit_expression(self, keys: tuple[str | int, ...], value: object) -> object:
        return self.service.limit_expression(keys, value)

    # -- typed settings: read through, never written --------------------------------------------
    def find(self, key: Key[V]) -> list[Found[V]]:
        return self.service.find(key)

    def get(self, key: Key[V]) -> Found[V] | None:
        return self.service.get(key)

    def set(self, key: Key[V], value: V | Found[V] | None, where: Found[V] | None = None) -> Fix:
        raise Refusal(self.reason)

    def supports(self, key: Key[V]) -> bool:
        return self.service.supports(key)

    def unsupported(self, key: Key[V]) -> str:
        return self.service.unsupported(key)

    def spelled(self, key: Key[V]) -> str:
        return self.service.spelled(key)

    def formatted(self, key: Key[V], value: V) -> str:
        return self.service.formatted(key, value)


def _services_span(over_file: compose.ComposeFile) -> Span:
    root = over_file.doc.root
    if root is not None and is_mapping(root):
        for key, _ in root.value:
            if key.value == "services":
                return Span(key.start_mark.index, key.end_mark.index)
    return Span(0, 0)


def overlay(over: compose.ComposeFile, base: compose.ComposeFile,
            base_services: list[compose.ComposeSettings]) -> list[OverlayService | UnresolvedExtends]:
    """The services of the override file ``over`` laid over ``base``'s, each written into ``over``.

    ``base_services`` are the base file's services as Compose reads them before the override
    (:func:`rewriter.surfaces.compose_extends.with_extends`): a base service that extends another is
    seen merged with it, so what it inherits (a bare /tmp tmpfs, mem_limit 1g) is neither repeated
    nor contradicted."""
    base_src, src = base.src, over.src
    style = detect_style(base.doc) if base.doc.root is not None else Style(newline=base_src.newline)
    if not src.text:
        style = style.replace(newline=base_src.newline)
    over_services = {s.name: s for s in over.services}
    name = display_path(base_src.path).rsplit("/", 1)[-1]
    services: list[OverlayService | UnresolvedExtends] = []
    for s in base_services:
        if isinstance(s, UnresolvedExtends):
            inner = s.service
            services.append(UnresolvedExtends(
                OverlayService(inner.name, inner, over_services.get(inner.name), over, name, style), s.reason))
            continue
        assert isinstance(s, (ComposeService, OverlayService))
        services.append(OverlayService(s.name, s, over_services.get(s.name), over, name, style))
    return services


