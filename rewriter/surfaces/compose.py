"""Compose files: each entry under ``services:`` is a container.

Facts are read from the resolved service (``<<`` merges and aliases expanded, so an inherited
``ulimits`` counts); changes go through :class:`~rewriter.yamlpatch.Patcher`, which writes span
edits in the file's own style and keeps everything inherited when it has to override a key.
"""

from __future__ import annotations

from rewriter.edits import Edit, Fix, Intent
from rewriter.errors import ParseError
from rewriter.model import BuildSpec, Mount, Setting, Span, TmpfsMount, Ulimit, parse_tmpfs_options
from rewriter.record import Record
from rewriter.runfacts import ServiceRun
from rewriter.settings import Codec, Codecs, as_cpus, as_text, docker_size, mount_triple, same, ulimit_pair, whole
from rewriter.sizes import ByteSize
from rewriter.source import SourceFile
from rewriter.surfaces.docker_settings import DockerSettings, tmpfs_codec
from rewriter.yamlpatch import Patcher, Plan, Refusal

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.settings import Key, V
from rewriter.yamlview import (
    Entry,
    Node,
    YamlDocument,
    anchor_of,
    is_flow,
    is_mapping,
    is_merge_key,
    is_scalar,
    item_is_alias,
    is_sequence,
    key_text,
    parse_yaml,
    resolved_entries,
    scalar_value,
    walk,
)

SERVICES = "services"

# The limits Compose keeps in two places: a service key and its ``deploy.resources`` twin.
# compose-go (2.0.1 and later) refuses distinct values once the twin's block exists, and a
# twin that is not written counts as 0: ``pids_limit: 512`` next to ``limits: {memory: 1g}`` is
# refused (measured with Docker Compose v2.40.3), so a new limit goes into an existing block.
TWINS = (("mem_limit", ("deploy", "resources", "limits", "memory")),
         ("cpus", ("deploy", "resources", "limits", "cpus")),
         ("pids_limit", ("deploy", "resources", "limits", "pids")),
         ("mem_reservation", ("deploy", "resources", "reservations", "memory")))
TWIN_OF = {"memory": TWINS[0], "pids": TWINS[2]}

# How Compose spells, parses and formats each key (rewriter.settings): sizes the go-units way
# (``512m``, or bytes), a new memory or pids limit named where it goes (see ComposeService.spelled).
CODECS = Codecs({
    "memory": Codec("mem_limit", docker_size, ByteSize.docker),
    "swap": Codec("memswap_limit", docker_size, ByteSize.docker),
    "pids": Codec("pids_limit", whole, same),
    "cpu": Codec("cpus", as_cpus, same),
    "ulimit": Codec("ulimits.{}", ulimit_pair, same),
    "tmpfs": tmpfs_codec("tmpfs", ByteSize.parse_docker, ByteSize.docker),
    "mount": Codec("volumes", mount_triple, same),
    "config-mount": Codec("volumes", mount_triple, same),
    "env": Codec("environment", as_text, same),
})


class ComposeFile(Record):
    __slots__ = ("doc", "patcher", "services")

    def __init__(self, doc: YamlDocument, patcher: Patcher, services: list[ComposeService]) -> None:
        self.doc = doc
        self.patcher = patcher
        self.services = services

    @property
    def src(self) -> SourceFile:
        return self.doc.src


def load(src: SourceFile) -> ComposeFile:
    doc = parse_yaml(src)
    patcher = Patcher(doc)
    root = doc.root
    services: list[ComposeService] = []
    if root is None:
        return ComposeFile(doc, patcher, services)
    if not is_mapping(root):
        line, col = root.start_mark.line + 1, root.start_mark.column + 1
        raise ParseError(f"a Compose file must be a mapping at the top level, not a {root.id}",
                         path=src.path, line=line, column=col)
    entry = resolved_entries(root).get(SERVICES)
    if entry is None or (is_scalar(entry.value) and scalar_value(entry.value) is None):
        return ComposeFile(doc, patcher, services)
    if not is_mapping(entry.value):
        raise ParseError("'services' must be a mapping of service names to definitions",
                         path=src.path, line=entry.value.start_mark.line + 1,
                         column=entry.value.start_mark.column + 1)
    for name, svc in resolved_entries(entry.value).items():
        if is_mapping(svc.value):
            services.append(ComposeService(doc, patcher, name, svc))
    return ComposeFile(doc, patcher, services)


class ComposeSettings(DockerSettings):
    """Typed settings of a Compose service, in one file or seen through several."""

    CODECS = CODECS

    name: str  # the service's name
    scope: str
    label: str
    span: Span

    # -- what the merge rules, the project model and the run facts read (rewriter.compose_merge.Service)
    if TYPE_CHECKING:
        def image(self) -> str | None: ...
        def build(self) -> BuildSpec | None: ...
        def run_facts(self) -> ServiceRun: ...
        def setting(self, keys: tuple[str, ...]) -> Setting | None: ...
        def has(self, key: str) -> bool: ...  # whether the service writes ``key`` at all
        def has_block(self, keys: tuple[str, ...]) -> bool: ...
        def command(self) -> tuple[str, ...]: ...
        def limit_expression(self, keys: tuple[str | int, ...], value: object) -> object: ...

    def profile_groups(self) -> tuple[str, ...]:
        """The ``profiles:`` groups of the definition in this file (the run facts read them);
        a view over several files that does not read them answers ``()``."""
        return ()

    def file_doc(self) -> YamlDocument | None:
        """The document of the file being checked that holds this service (its other services
        may wait for it), or None when the service is not written there."""
        return None

    def file_path(self) -> str:
        """The Compose file this service is written in ('' for a view over several files)."""
        return ""

    def leaves(self) -> list[ComposeSettings]:
        """The services of single files this one is read through: itself, or the base and the
        extending service of an ``extends`` (and theirs), or what an unresolved one wraps."""
        return [self]

    def new_limit_keys(self, concern: str) -> tuple[str, ...]:
        """Where a memory or pids limit the service lacks is written: the service key, or its
        twin when the deploy block the twin lives in exists (in any file merged)."""
        own, twin = TWIN_OF[concern]
        return twin if self.has_block(twin[:-1]) else (own,)

    def limit_twins(self) -> list[tuple[Setting, str, Setting | None]]:
        """Each service-level limit whose ``deploy.resources`` block exists and whose twin
        compose-go reads as a distinct value: the setting, the twin's key and the twin (None when
        not written, which Compose takes as 0). Interpolated values are known only when Compose
        reads the file, so they are left out."""
        out: list[tuple[Setting, str, Setting | None]] = []
        for own, twin in TWINS:
            setting = self.setting((own,))
            if setting is None or not self.has_block(twin[:-1]):
                continue
            other = self.setting(twin)
            if other is not None and _same_limit(own, setting.value, other.value):
                continue
            if any(isinstance(s.value, str) and "$" in s.value for s in (setting, other) if s is not None):
                continue
            out.append((setting, ".".join(twin), other))
        return out

    def spelled(self, key: Key[V]) -> str:
        """How a new setting is named here; a new memory or pids limit where it goes
        (``deploy.resources.limits.pids`` beside a deploy limits block)."""
        if key.kind in TWIN_OF:
            return ".".join(self.new_limit_keys(key.kind))
        return self.CODECS.spelled(key)


class ComposeService(ComposeSettings):
    """One Compose service; implements :class:`rewriter.model.Container`."""

    def has_block(self, keys: tuple[str, ...]) -> bool:
        """Whether ``deploy.resources.limits`` (or another mapping) exists, even empty."""
        found = self._lookup(keys)
        return found is not None and is_mapping(found[0])

    def __init__(self, doc: YamlDocument, patcher: Patcher, name: str, entry: Entry) -> None:
        self.doc = doc
        self.patcher = patcher
        self.name = name
        self.node: Node = entry.value
        self.base: tuple[str | int, ...] = (SERVICES, name)
        self.scope = f"{SERVICES}.{name}"
        self.label = f"service '{name}'"
        self.span = Span(entry.key_node.start_mark.index, entry.key_node.end_mark.index)

    # -- reading -------------------------------------------------------------------------------
    def _lookup(self, keys: tuple[str | int, ...]) -> tuple[Node, Entry | None, str] | None:
        """Walk ``keys``; return (value node, last mapping entry, origin) or None if missing."""
        found = walk(self.node, keys)
        if found is None:
            return None
        node, entries = found
        origin = ""
        inherited = next((e for e in entries if e.inherited), None)
        if inherited is not None:
            anchor = anchor_of(inherited.owner, self.doc.text)
            line = inherited.owner.start_mark.line + 1
            origin = f"inherited from '&{anchor}'" if anchor else f"inherited from line {line}"
        return node, (entries[-1] if entries else None), origin

    def setting(self, keys: tuple[str | int, ...], display: str | None = None) -> Setting | None:
        found = self._lookup(keys)
        if found is None:
            return None
        node, _, origin = found
        value = scalar_value(node) if is_scalar(node) else None
        if is_scalar(node) and value is None:
            return None
        value, origin = self._interpolated(value, origin)
        span = Span(node.start_mark.index, self.patcher.content_end(node))
        name = display or ".".join(str(k) for k in keys)
        return Setting(name, value, span, keys, origin)

    # -- interpolation (rewriter.compose_project): values read as Compose reads them -------------
    def _interpolated(self, value: object, origin: str = "") -> tuple[object, str]:
        """``value`` after ``${VAR:-default}`` substitution from the project's ``.env``, and its
        origin saying so; unchanged when it has no variables. A value that cannot be known (a
        variable without a default that .env does not set) stays as written."""
        if not isinstance(value, str) or "$" not in value:
            return value, origin
        from rewriter.interpolation import has_variables, interpolate  # lazy: start-up

        if not has_variables(value):
            return value.replace("$$", "$"), origin
        result = interpolate(value, self._dotenv())
        said = f"interpolated from '{value}': {result.note}" if result.note else f"interpolated from '{value}'"
        origin = f"{origin}, {said}" if origin else said
        if result.value is None:
            return value, origin
        text = result.value
        if text.lstrip("-").isdigit():
            return int(text), origin
        return text, origin

    # The directories whose ``.env`` interpolates this service, a later one winning; () for this
    # file's own. Set by the project model (:func:`rewriter.compose_project.with_project`), as
    # Compose 2.40 reads them: a ``-f`` file and an ``extends: file:`` target take the project
    # directory's (the first file's), an included file its own under its includer's.
    dotenv_dirs: tuple[str, ...] = ()

    def _dotenv(self) -> dict[str, str]:
        import os  # lazy: start-up

        from rewriter.interpolation import dotenv  # lazy: start-up

        path = self.doc.src.path
        if path in ("", "-"):
            return {}
        dirs = self.dotenv_dirs or (os.path.dirname(os.path.abspath(path)),)
        if len(dirs) == 1:
            return dotenv(dirs[0])
        merged: dict[str, str] = {}
        for directory in dirs:
            merged.update(dotenv(directory))
        return merged

    def _refuse_interpolated(self, node: Node | None) -> None:
        """An operator sets an interpolated value through its variable: never replace it by a
        literal."""
        if node is None:
            return
        from rewriter.interpolation import has_variables  # lazy: start-up

        for scalar in _scalars(node):
            if isinstance(scalar.value, str) and has_variables(scalar.value):
                raise Refusal(f"'{scalar.value}' is interpolated, so whoever deploys sets it through its "
                              f"variable; change the default or the variable instead of a literal here")

    def has(self, key: str) -> bool:
        return key in resolved_entries(self.node)

    def profile_groups(self) -> tuple[str, ...]:
        found = self._lookup(("profiles",))
        if found is None or not is_sequence(found[0]):
            return ()
        return tuple(str(item.value) for item in found[0].value if is_scalar(item))

    def file_doc(self) -> YamlDocument | None:
        return self.doc

    def file_path(self) -> str:
        return str(self.doc.src.path)

    def extends(self) -> tuple[str, str | None] | None:
        """``extends:`` as (service, file or None): ``extends: web`` or ``{service: web, file: x.yaml}``."""
        found = self._lookup(("extends",))
        if found is None:
            return None
        node = found[0]
        if is_scalar(node) and isinstance(scalar_value(node), str):
            return str(node.value), None
        if is_mapping(node):
            entries = resolved_entries(node)
            service = entries.get("service")
            file = entries.get("file")
            if service is not None and is_scalar(service.value):
                name = str(service.value.value)
                path = str(file.value.value) if file is not None and is_scalar(file.value) else None
                return name, path
        return None

    # -- changing --------------------------------------------------------------------------------
    def _fix(self, plan: Plan, claim: str) -> Fix:
        reach = frozenset(
            f"{SERVICES}.{site[1]}" for site in plan.sites
            if len(site) > 1 and site[0] == SERVICES and site[1] != self.name
        )
        fallback = self._fix(plan.fallback, claim) if plan.fallback else None
        return Fix(message="", edits=plan.edits, intents=plan.intents,
                   claims=frozenset({f"{self.scope}/{claim}"}), scope=self.scope, reach=reach,
                   fallback=fallback)

    def _set(self, keys: tuple[str | int, ...], value: object) -> Fix:
        found = self._lookup(keys)
        self._refuse_interpolated(found[0] if found is not None else None)
        return self._fix(self.patcher.set(self.base, self.node, keys, value), str(keys[0]))

    # -- tmpfs -----------------------------------------------------------------------------------
    def tmpfs(self) -> list[TmpfsMount]:
        mounts: list[TmpfsMount] = []
        found = self._lookup(("tmpfs",))
        if found is not None:
            node, _, origin = found
            items = [node] if is_scalar(node) else (node.value if is_sequence(node) else [])
            for index, item in enumerate(items):
                if not is_scalar(item) or not isinstance(scalar_value(item), str):
                    continue
                text = str(item.value)
                shown, _ = self._interpolated(text)
                path, _, opts = str(shown).partition(":")
                keys: tuple[str | int, ...] = ("tmpfs",) if is_scalar(node) else ("tmpfs", index)
                span = Span(item.start_mark.index, item.end_mark.index)
                mounts.append(TmpfsMount(path, parse_tmpfs_options(opts),
                                         Setting("tmpfs", text, span, keys, origin), "short"))
        found = self._lookup(("volumes",))
        if found is not None and is_sequence(found[0]):
            for index, item in enumerate(found[0].value):
                if not is_mapping(item):
                    continue
                entries = resolved_entries(item)
                kind = entries.get("type")
                target = entries.get("target")
                if kind is None or target is None or scalar_value(kind.value) != "tmpfs":
                    continue
                options: list[tuple[str, str]] = []
                tmpfs_opts = entries.get("tmpfs")
                if tmpfs_opts is not None and is_mapping(tmpfs_opts.value):
                    for opt_name, opt in resolved_entries(tmpfs_opts.value).items():
                        if is_scalar(opt.value):
                            options.append((opt_name, str(opt.value.value)))
                span = Span(item.start_mark.index, self.patcher.content_end(item))
                mounts.append(TmpfsMount(str(target.value.value), tuple(options),
                                         Setting("volumes", str(target.value.value), span,
                                                 ("volumes", index), found[2]), "long"))
        return mounts

    def volume_targets(self) -> set[str]:
        """Container paths that volumes or bind mounts (not tmpfs) already occupy."""
        return {m.target.rstrip("/") or "/" for m in self.mounts()}

    def mounts(self) -> list[Mount]:
        found = self._lookup(("volumes",))
        out: list[Mount] = []
        if found is None or not is_sequence(found[0]):
            return out
        origin = found[2]
        for index, item in enumerate(found[0].value):
            span = Span(item.start_mark.index, self.patcher.content_end(item))
            if is_scalar(item) and isinstance(item.value, str):
                parts = item.value.split(":")
                if len(parts) == 1:  # anonymous volume: "/data"
                    source, target, mode = "", parts[0], ""
                else:
                    source, target, mode = parts[0], parts[1], ":".join(parts[2:])
                read_only = "ro" in mode.split(",")
                out.append(Mount(source, target, read_only,
                                 Setting("volumes", item.value, span, ("volumes", index), origin), "short"))
            elif is_mapping(item):
                entries = resolved_entries(item)
                type_entry = entries.get("type")
                target_entry = entries.get("target")
                if target_entry is None or not is_scalar(target_entry.value) or (
                        type_entry is not None and scalar_value(type_entry.value) == "tmpfs"):
                    continue
                src_entry = entries.get("source")
                ro_entry = entries.get("read_only")
                long_target = str(target_entry.value.value)
                out.append(Mount(
                    str(src_entry.value.value) if src_entry is not None and is_scalar(src_entry.value) else "",
                    long_target,
                    ro_entry is not None and scalar_value(ro_entry.value) is True,
                    Setting("volumes", long_target, span, ("volumes", index), origin), "long"))
        return out

    def add_mount(self, source: str, target: str, read_only: bool) -> Fix:
        value = f"{source}:{target}:ro" if read_only else f"{source}:{target}"
        return self._fix(self.patcher.append(self.base, self.node, ("volumes",), value), "volumes")

    def set_mount_read_only(self, mount: Mount) -> Fix:
        if mount.form == "long":
            return self._set(mount.setting.keys + ("read_only",), True)
        text = str(mount.setting.value)
        parts = text.split(":")
        if len(parts) == 2:
            new = text + ":ro"
        else:
            modes = [m for m in parts[2].split(",") if m not in ("rw", "")]
            new = ":".join(parts[:2] + [",".join(["ro"] + modes)] + parts[3:])
        return self._set(mount.setting.keys, new)

    def add_tmpfs(self, target: str, options: str) -> Fix:
        plan = self.patcher.append(self.base, self.node, ("tmpfs",), f"{target}:{options}")
        return self._fix(plan, "tmpfs")

    def set_tmpfs_options(self, mount: TmpfsMount, options: str) -> Fix:
        if mount.form == "short":
            return self._set(mount.setting.keys, f"{mount.target}:{options}")
        # long syntax: only the size is written, as tmpfs.size (bytes or a unit string)
        size = dict(parse_tmpfs_options(options)).get("size")
        if size is None:
            raise Refusal("nothing to change")
        return self._set(mount.setting.keys + ("tmpfs", "size"), size)

    # -- ulimits ---------------------------------------------------------------------------------
    def ulimit(self, name: str) -> Ulimit | None:
        found = self._lookup(("ulimits", name))
        if found is None:
            return None
        node, _, origin = found
        span = Span(node.start_mark.index, self.patcher.content_end(node))
        setting = Setting(f"ulimits.{name}", None, span, ("ulimits", name), origin)
        if is_scalar(node):
            value = _as_int(self._interpolated(scalar_value(node))[0])
            return Ulimit(name, value, value, setting, "single")
        if is_mapping(node):
            entries = resolved_entries(node)
            soft = _as_int(self._interpolated(scalar_value(entries["soft"].value))[0]) \
                if "soft" in entries and is_scalar(entries["soft"].value) else None
            hard = _as_int(self._interpolated(scalar_value(entries["hard"].value))[0]) \
                if "hard" in entries and is_scalar(entries["hard"].value) else None
            return Ulimit(name, soft, hard, setting, "pair")
        return Ulimit(name, None, None, setting, "pair")

    def set_ulimit(self, name: str, soft: int, hard: int) -> Fix:
        current = self.ulimit(name)
        if current is not None and current.form == "single" and soft == hard:
            return self._set(("ulimits", name), soft)
        return self._set(("ulimits", name), {"soft": soft, "hard": hard})

    # -- memory ----------------------------------------------------------------------------------
    def memory_limits(self) -> list[Setting]:
        found = [self.setting(("mem_limit",)),
                 self.setting(("deploy", "resources", "limits", "memory"))]
        return [s for s in found if s is not None]

    def set_memory_limit(self, value: str, where: Setting | None) -> Fix:
        return self._set(where.keys if where else self.new_limit_keys("memory"), value)

    def memswap_limit(self) -> Setting | None:
        return self.setting(("memswap_limit",))

    def set_memswap_limit(self, value: object) -> Fix:
        """Swap equal to the memory limit; when the limit is interpolated, the same expression, so
        that the two follow the variable together (a literal would fall below a raised limit, and
        Docker refuses a memswap_limit below mem_limit)."""
        for limit in reversed(self.memory_limits()):
            value = self.limit_expression(limit.keys, value)
            break
        return self._set(("memswap_limit",), value)

    def limit_expression(self, keys: tuple[str | int, ...], value: object) -> object:
        """The interpolated expression written at ``keys`` when it resolves to ``value`` (a
        ``memswap_limit`` copies it, here or in an override file), else ``value``."""
        limit = self.setting(tuple(str(k) for k in keys))
        found = self._lookup(keys)
        if limit is not None and limit.value == value and found is not None and is_scalar(found[0]) and \
                isinstance(found[0].value, str) and "$" in found[0].value:
            return found[0].value
        return value

    # -- pids ------------------------------------------------------------------------------------
    def pids_limits(self) -> list[Setting]:
        found = [self.setting(("pids_limit",)),
                 self.setting(("deploy", "resources", "limits", "pids"))]
        return [s for s in found if s is not None]

    def set_pids_limit(self, value: int, where: Setting | None) -> Fix:
        return self._set(where.keys if where else self.new_limit_keys("pids"), value)

    # -- image, build and environment (Go runtime settings) ------------------------------------
    def image(self) -> str | None:
        found = self.setting(("image",))
        return str(found.value) if found is not None and found.value is not None else None

    def build(self) -> BuildSpec | None:
        """The service's ``build:`` (string or mapping), as written; None without one."""
        found = self._lookup(("build",))
        if found is None:
            return None
        node = found[0]
        if is_scalar(node):
            value = scalar_value(node)
            return BuildSpec(context=str(value)) if isinstance(value, str) else None
        if not is_mapping(node):
            return None
        entries = resolved_entries(node)

        def text(key: str) -> str | None:
            entry = entries.get(key)
            if entry is None or not is_scalar(entry.value):
                return None
            value = scalar_value(entry.value)
            return None if value is None else str(value)

        args: list[tuple[str, str | None]] = []
        raw_args = entries.get("args")
        if raw_args is not None and is_mapping(raw_args.value):
            for name, arg in resolved_entries(raw_args.value).items():
                value = scalar_value(arg.value) if is_scalar(arg.value) else None
                args.append((name, None if value is None else _env_text(value)))
        elif raw_args is not None and is_sequence(raw_args.value):
            for item in raw_args.value.value:
                if is_scalar(item):
                    name, sep, arg_text = str(item.value).partition("=")
                    args.append((name, arg_text if sep else None))
        return BuildSpec(context=text("context") or ".", dockerfile=text("dockerfile"),
                         dockerfile_inline=text("dockerfile_inline"), target=text("target"),
                         args=tuple(args))

    def _environment(self) -> tuple[Node, str] | None:
        found = self._lookup(("environment",))
        if found is None or not (is_sequence(found[0]) or is_mapping(found[0])):
            return None
        return found[0], found[2]

    def env(self) -> dict[str, Setting]:
        """Environment variables as written (``K=V`` items or a mapping); a bare ``K`` is None."""
        out: dict[str, Setting] = {}
        found = self._environment()
        if found is None:
            return out
        node, origin = found
        if is_sequence(node):
            for index, item in enumerate(node.value):
                if not is_scalar(item):
                    continue
                name, sep, text = str(item.value).partition("=")
                span = Span(item.start_mark.index, item.end_mark.index)
                shown, said = self._interpolated(text, origin) if sep else (None, origin)
                out.setdefault(name, Setting(f"environment {name}", None if shown is None else str(shown), span,
                                             ("environment", index), said))
            return out
        for name, entry in resolved_entries(node).items():
            value = scalar_value(entry.value) if is_scalar(entry.value) else None
            span = Span(entry.value.start_mark.index, self.patcher.content_end(entry.value))
            if value is None:
                span = Span(entry.key_node.start_mark.index, entry.key_node.end_mark.index)
            shown, said = self._interpolated(value, origin or ("inherited" if entry.inherited else ""))
            out[name] = Setting(f"environment {name}", None if shown is None else _env_text(shown),
                                span, ("environment", name), said)
        return out

    def set_env(self, name: str, value: str) -> Fix:
        """Add or replace ``name`` in the form in use: a ``K=V`` item or a mapping entry."""
        found = self._environment()
        if found is not None and is_sequence(found[0]):
            current = self.env().get(name)
            item = f"{name}={value}"
            if current is not None:
                index = current.keys[1]
                assert isinstance(index, int)
                self._refuse_interpolated(found[0].value[index])
                plan = self.patcher.replace_item(self.base, self.node, ("environment",), index, item)
            else:
                plan = self.patcher.append(self.base, self.node, ("environment",), item)
            return self._fix(plan, "environment")
        return self._set(("environment", name), value)

    def remove_env(self, name: str) -> Fix:
        """Remove one variable (its whole line in block style); a shared list stays shared."""
        found = self._environment()
        current = self.env().get(name)
        if found is None or current is None:
            raise Refusal(f"'{name}' is not set here")
        node = found[0]
        key = current.keys[1]
        sites = self.patcher.sites_of(node, self.base + ("environment",))
        edit = self._delete_entry(node, key)
        intents = tuple(Intent("delete", site + (key,)) for site in sites)
        reach = frozenset(f"{SERVICES}.{site[1]}" for site in sites
                          if len(site) > 1 and site[0] == SERVICES and site[1] != self.name)
        return Fix(message="", edits=(edit,), intents=intents,
                   claims=frozenset({f"{self.scope}/environment"}), scope=self.scope, reach=reach)

    def _delete_entry(self, node: Node, key: str | int) -> Edit:
        text = self.doc.text
        if is_sequence(node):
            assert isinstance(key, int)
            if item_is_alias(node, key):
                raise Refusal("the variable comes from an alias")
            items = node.value
            starts = [i.start_mark.index for i in items]
            ends = [self.patcher.content_end(i) for i in items]
        else:
            pairs = [(k, v) for k, v in node.value if not is_merge_key(k)]
            names = [key_text(k) for k, _ in pairs]
            if key not in names:
                raise Refusal(f"'{key}' comes from a merged mapping")
            key = names.index(str(key))
            starts = [k.start_mark.index for k, _ in pairs]
            ends = [_pair_end(text, k, v, self.patcher.content_end) for k, v in pairs]
            if len(pairs) != len(node.value):
                raise Refusal("the environment mapping also merges others")
        if len(starts) == 1:
            raise Refusal("it is the only variable; remove 'environment' by hand")
        if is_flow(node):
            if key < len(starts) - 1:
                return Edit(starts[key], starts[key + 1], "")
            return Edit(ends[key - 1], ends[key], "")
        line_start = text.rfind("\n", 0, starts[key]) + 1
        lead = text[line_start:starts[key]]
        if lead.strip() not in ("", "-"):
            raise Refusal("the variable shares its line with another")
        nl = text.find("\n", ends[key])
        end = len(text) if nl == -1 else nl + 1
        if text[ends[key]:end].strip() and not text[ends[key]:end].strip().startswith("#"):
            raise Refusal("the variable shares its line with another")
        return Edit(line_start, end, "")

    def command(self) -> tuple[str, ...]:
        """``entrypoint`` then ``command`` words; a string is split on blanks (detectors search
        the words for flags, so quoting does not matter to them)."""
        words: list[str] = []
        for key in ("entrypoint", "command"):
            found = self._lookup((key,))
            if found is None:
                continue
            node = found[0]
            if is_scalar(node) and isinstance(scalar_value(node), str):
                words.extend(str(node.value).split())
            elif is_sequence(node):
                words.extend(str(item.value) for item in node.value if is_scalar(item))
        return tuple(words)

    def env_files(self, workdir: str | None = None) -> list[tuple[str, str]]:
        """``env_file`` entries as (path as written, absolute path): part of the container's
        environment, below ``environment`` (which wins, as in Compose). A string, a list of
        strings or of ``{path: ...}``; an interpolated path is skipped (dockfix does not guess).

        A relative path is relative to ``workdir``, the project directory Compose resolves this
        file's paths against (:func:`rewriter.compose_project.with_project`: the first ``-f``
        file's directory for every file of a chain), else this file's directory (a file used
        alone, an ``extends: file:`` target, an included file)."""
        import os  # lazy: start-up

        found = self._lookup(("env_file",))
        path = self.doc.src.path
        if found is None or path in ("", "-"):
            return []
        node = found[0]
        items = [node] if is_scalar(node) else list(node.value) if is_sequence(node) else []
        base = workdir or os.path.dirname(os.path.abspath(path))
        out: list[tuple[str, str]] = []
        for item in items:
            if is_mapping(item):
                entry = resolved_entries(item).get("path")
                item = entry.value if entry is not None else None
            if item is None or not is_scalar(item) or not isinstance(scalar_value(item), str):
                continue
            text = str(item.value)
            if text and "$" not in text:
                out.append((text, os.path.normpath(os.path.join(base, text))))
        return out

    def cpu_limit(self) -> Setting | None:
        """The CPU limit docker compose applies: ``deploy.resources.limits.cpus`` over ``cpus``."""
        deploy = self.setting(("deploy", "resources", "limits", "cpus"))
        return deploy if deploy is not None else self.setting(("cpus",))

    def run_facts(self) -> ServiceRun:
        """How the service runs, as written (transforms/project.py decides whether it is a job)."""
        return service_run(self)


def service_run(service: ComposeSettings) -> ServiceRun:
    """The run facts of a Compose service (this file's, an override's or a project's merged one,
    read through its ``setting``, ``has`` and ``profile_groups``); the file it is written in
    (``file_doc``) says whether another service there waits for it."""
    name = service.name
    command = service.setting(("command",))
    restart = service.setting(("restart",))
    policy = None if restart is None else "no" if restart.value is False else str(restart.value)
    doc = service.file_doc()
    return ServiceRun(name, policy, bool(service.has("ports") or service.has("expose")), service.profile_groups(),
                      command.value if command is not None and isinstance(command.value, str) else None,
                      doc is not None and name in completed_dependants(doc))


_dependants_memo: list[tuple[YamlDocument, set[str]]] = []


def completed_dependants(doc: YamlDocument) -> set[str]:
    """Services that another service of ``doc`` waits for until they exit successfully."""
    if _dependants_memo and _dependants_memo[0][0] is doc:
        return _dependants_memo[0][1]
    out: set[str] = set()
    root = doc.root
    if "service_completed_successfully" in doc.text and root is not None and is_mapping(root):
        services = resolved_entries(root).get(SERVICES)
        if services is not None and is_mapping(services.value):
            for entry in resolved_entries(services.value).values():
                if not is_mapping(entry.value):
                    continue
                depends = resolved_entries(entry.value).get("depends_on")
                if depends is None or not is_mapping(depends.value):
                    continue
                for target, spec in resolved_entries(depends.value).items():
                    if is_mapping(spec.value):
                        condition = resolved_entries(spec.value).get("condition")
                        if condition is not None and is_scalar(condition.value) and \
                                condition.value.value == "service_completed_successfully":
                            out.add(target)
    _dependants_memo[:] = [(doc, out)]
    return out


def _scalars(node: Node) -> list[Node]:
    """Every scalar in ``node`` (itself when it is one)."""
    if is_scalar(node):
        return [node]
    if is_sequence(node):
        return [s for item in node.value for s in _scalars(item)]
    if is_mapping(node):
        return [s for _, value in node.value for s in _scalars(value)]
    return []


def _pair_end(text: str, key: Node, value: Node, content_end: object) -> int:
    if is_scalar(value) and value.value == "" and value.style is None:
        return text.index(":", key.end_mark.index) + 1
    assert callable(content_end)
    end = content_end(value)
    assert isinstance(end, int)
    return end


def _env_text(value: object) -> str:
    """How Compose turns a YAML value into an environment string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _same_limit(key: str, a: object, b: object) -> bool:
    """Whether compose-go reads two spellings of one limit as equal (``512m`` and ``536870912``,
    ``1.5`` and ``"1.5"``)."""
    if key == "cpus":
        try:
            return float(a) == float(b)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return a == b
    if key == "pids_limit":
        return a == b
    x, y = docker_size(a), docker_size(b)
    return x == y if x is not None and y is not None else a == b


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


__all__ = ["ComposeFile", "ComposeService", "load"]
