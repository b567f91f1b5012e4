"""Python: docker-py ``<client>.containers.run(...)`` / ``.create(...)`` calls and testcontainers
``DockerContainer(...)`` chains.

libcst is only a view here: it finds the calls and gives their positions; every change is a span
edit on the file's text, laid out like the code around it (a new keyword argument goes on its own
line when the call has one argument per line, inline otherwise). libcst is imported only when the
file mentions one of :data:`MARKERS`, so a run on Compose files or plain Python never pays for it.

docker-py (runtime-facts section 7): ``tmpfs={"/tmp": "size=64m,mode=1777"}``,
``ulimits=[docker.types.Ulimit(name="nofile", soft=65536, hard=65536)]`` (``Ulimit`` is
keyword-only; ``import docker`` is added when the module has no way to name it),
``mem_limit="512m"``, ``memswap_limit``, ``pids_limit=512`` (an int) and ``environment``.

testcontainers 4.15 has ``with_tmpfs_mount(path, options)`` (the second argument is the option
string, verbatim) and ``with_env(key, value)``; it has no ``with_*`` call for ulimits, memory or
pids. Its constructor forwards unknown keyword arguments to docker-py, so those go there.
``with_kwargs`` *replaces* what the constructor got: when the chain calls it, settings are added to
its last call instead; ``maybe_emulate_amd64()`` calls ``with_kwargs`` itself, so a chain that
uses it is not given keyword settings at all.

The resolved model the oracle compares: each call's positional and keyword arguments as source
text, each chain's calls, the module's top-level imports, and the rest of the module's code with
those calls cut out.
"""

from __future__ import annotations

from dataclasses import dataclass

from rewriter.edits import Edit, Fix, Intent, apply_edits
from rewriter.model import BuildSpec, Mount, Setting, Span, TmpfsMount, Ulimit, parse_tmpfs_options
from rewriter.settings import (Codec, Codecs, Key, V, as_cpus, as_text, docker_size, mount_triple, same, ulimit_pair,
                               whole)
from rewriter.sizes import ByteSize
from rewriter.source import SourceFile
from rewriter.surfaces.docker_settings import DockerSettings, tmpfs_codec
from rewriter.surfaces.python_cst import Module, Node, imports_of, quote_style, ulimit_name
# the container classes call the CST helpers by the private names they had in this module
from rewriter.surfaces.python_cst import Module as _Module
from rewriter.surfaces.python_cst import append_item as _append_item
from rewriter.surfaces.python_cst import call_model as _call_model
from rewriter.surfaces.python_cst import delete_item as _delete_item
from rewriter.surfaces.python_cst import int_value as _int_value
from rewriter.surfaces.python_cst import literal as _literal
from rewriter.surfaces.python_cst import quoted as _q
from rewriter.surfaces.python_cst import read_args as _read_args
from rewriter.surfaces.python_cst import string_value as _string_value
from rewriter.yamlpatch import Refusal

MARKERS = ("containers.run", "containers.create", "DockerContainer")


@dataclass
class PyFile:
    src: SourceFile
    containers: list[SdkCall | TcChain]
    imports: dict[str, int]
    code: str
    import_at: int  # where an added import line goes
    docker_name: str  # how the module names docker.types.Ulimit ("" when it cannot)

    def model(self) -> dict[str, object]:
        return {"calls": [c.model() for c in self.containers if isinstance(c, SdkCall)],
                "chains": [c.model() for c in self.containers if isinstance(c, TcChain)],
                "imports": dict(self.imports), "code": self.code}


def load(src: SourceFile) -> PyFile:
    if not any(marker in src.text for marker in MARKERS):
        return PyFile(src, [], {}, src.text, 0, "")
    import libcst as cst  # lazy: start-up

    mod = Module(src)
    calls: list[Node] = []
    ctors: list[Node] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("run", "create") and \
                    isinstance(func.value, cst.Attribute) and func.value.attr.value == "containers":
                calls.append(node)
            elif (isinstance(func, cst.Name) and func.value == "DockerContainer") or (
                    isinstance(func, cst.Attribute) and func.attr.value == "DockerContainer"):
                ctors.append(node)

    mod.module.visit(Finder())
    imports, import_spans, import_at = imports_of(mod)
    docker_name = ulimit_name(mod)
    pyfile = PyFile(src, [], imports, "", import_at, docker_name)
    quote = quote_style(src.text)
    containers: list[SdkCall | TcChain] = []
    for index, node in enumerate(calls):
        containers.append(SdkCall(pyfile, mod, node, index, quote))
    for index, node in enumerate(ctors):
        containers.append(TcChain(pyfile, mod, node, index, quote))
    containers.sort(key=lambda c: c.span.start)
    pyfile.containers = containers
    # calls become a marker; import lines go entirely (an added import is an intent of its own)
    cuts = sorted([(*c.outer, "\x00") for c in containers] + [(*s, "") for s in import_spans])
    out: list[str] = []
    pos = 0
    for start, end, mark in cuts:
        if start < pos:
            continue
        out.append(src.text[pos:start])
        out.append(mark)
        pos = end
    out.append(src.text[pos:])
    pyfile.code = "".join(out)
    return pyfile


# -- docker-py ---------------------------------------------------------------------------------


# How docker-py (and testcontainers' keyword settings) spell, parse and format each key
# (rewriter.settings): keyword arguments, sizes as docker-py's parse_bytes reads them (``"512m"``).
CODECS = Codecs({
    "memory": Codec("mem_limit=", docker_size, ByteSize.docker),
    "swap": Codec("memswap_limit=", docker_size, ByteSize.docker),
    "pids": Codec("pids_limit=", whole, same),
    "cpu": Codec("nano_cpus=", as_cpus, same),
    "ulimit": Codec("ulimits= {}", ulimit_pair, same),
    "tmpfs": tmpfs_codec("tmpfs=", ByteSize.parse_docker, ByteSize.docker),
    "mount": Codec("volumes=", mount_triple, same),
    "env": Codec("environment=", as_text, same),
})


class _Base(DockerSettings):
    """What docker-py calls and testcontainers chains share."""

    CODECS = CODECS

    def limit_twins(self) -> list[tuple[Setting, str, Setting | None]]:
        return []  # only Compose keeps a limit in two places

    def build(self) -> BuildSpec | None:
        return None  # docker-py and testcontainers run an image; they do not build one

    def command(self) -> tuple[str, ...]:
        """A literal ``command=`` string or list of strings (detectors read flags from it)."""
        arg = self._kwarg("command")
        if arg is None:
            return ()
        text = _string_value(self.mod, arg.value)
        if text is not None:
            return tuple(text.split())
        elements = getattr(arg.value, "elements", None)
        if not isinstance(elements, (list, tuple)):
            return ()
        words = [_string_value(self.mod, e.value) for e in elements]
        return tuple(w for w in words if w is not None)

    pyfile: PyFile
    mod: _Module
    quote: str
    scope: str
    label: str
    span: Span
    outer: tuple[int, int]
    path: tuple[str | int, ...]  # model path of the call whose kwargs hold the settings

    def volume_targets(self) -> set[str]:
        raise NotImplementedError

    @property
    def name(self) -> str:
        arg = self._kwarg("name")
        return (_string_value(self.mod, arg.value) or "") if arg is not None else ""

    def mounts(self) -> list[Mount]:
        return [Mount("", t, False, Setting("volumes", t, self.span, ("kwargs", "volumes")), "short")
                for t in sorted(self.volume_targets())]

    def add_mount(self, source: str, target: str, read_only: bool) -> Fix:
        raise Refusal("config mounts are written to Compose files only; add it to 'volumes=' by hand "
                      "with an absolute host path")

    def set_mount_read_only(self, mount: Mount) -> Fix:
        raise Refusal("set the mount's mode to 'ro' by hand")

    def _kw_call(self) -> Node:
        raise NotImplementedError

    def _kwarg(self, name: str) -> Node | None:
        call = self._kw_call()
        if call is None:
            return None
        return _read_args(self.mod, call).keywords.get(name)

    def _setting(self, name: str) -> Setting | None:
        arg = self._kwarg(name)
        if arg is None:
            return None
        start, end = self.mod.span(arg.value)
        return Setting(name, _literal(self.mod, arg.value), Span(start, end), (name,))

    def _fix(self, edits: tuple[Edit, ...], intents: tuple[Intent, ...], claim: str) -> Fix:
        return Fix(message="", edits=edits, intents=intents,
                   claims=frozenset({f"{self.scope}/{claim}"}), scope=self.scope)

    def _writable(self) -> Node:
        call = self._kw_call()
        if call is None:
            raise Refusal(self._why_not())
        args = _read_args(self.mod, call)
        if any(s.startswith("**") for s in args.star):
            raise Refusal(f"the call passes {', '.join(args.star)}, which may already set it")
        return call

    def _why_not(self) -> str:
        return "no call to add it to"

    def _set_kwarg(self, name: str, rendered: str, extra: tuple[Edit, ...] = (),
                   extra_intents: tuple[Intent, ...] = ()) -> Fix:
        """Add keyword ``name=rendered``, or replace the value of an existing one."""
        call = self._writable()
        arg = self._kwarg(name)
        if arg is not None:
            start, end = self.mod.span(arg.value)
            edit = Edit(start, end, rendered)
        else:
            open_end = self._open_paren(call)
            edit = _append_item(self.mod, open_end, [(a, a.comma) for a in call.args],
                                f"{name}={rendered}")
        intent = Intent("set", self.path + ("kwargs", name), rendered)
        return self._fix((edit, *extra), (intent, *extra_intents), name)

    def _edit_kwarg(self, name: str, edit: Edit) -> Fix:
        """An edit inside the value of keyword ``name``; the intent is its new source text."""
        self._writable()
        arg = self._kwarg(name)
        assert arg is not None
        start, end = self.mod.span(arg.value)
        new = apply_edits(self.mod.src.text[start:end],
                          [Edit(edit.start - start, edit.end - start, edit.content)])
        return self._fix((edit,), (Intent("set", self.path + ("kwargs", name), new),), name)

    def _open_paren(self, call: Node) -> int:
        _, func_end = self.mod.span(call.func)
        return self.mod.src.text.index("(", func_end) + 1

    # -- tmpfs ---------------------------------------------------------------------------------
    def _tmpfs_dict(self) -> Node | None:
        arg = self._kwarg("tmpfs")
        if arg is None:
            return None
        if not isinstance(arg.value, (self.mod.cst.Dict, self.mod.cst.List)):
            raise Refusal(f"tmpfs is '{self.mod.code(arg.value)}', which cannot be read")
        return arg.value

    def _sdk_tmpfs(self) -> list[TmpfsMount]:
        cst = self.mod.cst
        arg = self._kwarg("tmpfs")
        if arg is None:
            return []
        mounts: list[TmpfsMount] = []
        value = arg.value
        if isinstance(value, cst.Dict):
            for i, el in enumerate(value.elements):
                if not isinstance(el, cst.DictElement):
                    continue
                target = _string_value(self.mod, el.key)
                opts = _string_value(self.mod, el.value)
                if target is None:
                    continue
                start, end = self.mod.span(el.value)
                setting = Setting("tmpfs", opts, Span(start, end), ("tmpfs", i))
                mounts.append(TmpfsMount(target, parse_tmpfs_options(opts or ""), setting, "dict"))
        elif isinstance(value, cst.List):
            for i, el in enumerate(value.elements):
                text = _string_value(self.mod, el.value)
                if text is None:
                    continue
                target, _, opts = text.partition(":")
                start, end = self.mod.span(el.value)
                mounts.append(TmpfsMount(target, parse_tmpfs_options(opts),
                                         Setting("tmpfs", text, Span(start, end), ("tmpfs", i)), "list"))
        return mounts  # anything else cannot be read: supports() says so

    def _sdk_add_tmpfs(self, target: str, options: str) -> Fix:
        cst = self.mod.cst
        container = self._tmpfs_dict()
        if container is None:
            rendered = "{" + f"{_q(target, self.quote)}: {_q(options, self.quote)}" + "}"
            return self._set_kwarg("tmpfs", rendered)
        start, _ = self.mod.span(container)
        items = [(el, el.comma) for el in container.elements]
        if isinstance(container, cst.Dict):
            item = f"{_q(target, self.quote)}: {_q(options, self.quote)}"
        else:
            item = _q(f"{target}:{options}", self.quote)
        return self._edit_kwarg("tmpfs", _append_item(self.mod, start + 1, items, item))

    def _sdk_set_tmpfs(self, mount: TmpfsMount, options: str) -> Fix:
        span = mount.setting.span
        value = options if mount.form == "dict" else f"{mount.target}:{options}"
        return self._edit_kwarg("tmpfs", Edit(span.start, span.end, _q(value, self.quote)))

    def _sdk_volume_targets(self) -> set[str]:
        cst = self.mod.cst
        targets: set[str] = set()
        arg = self._kwarg("volumes")
        if arg is None:
            return targets
        value = arg.value
        if isinstance(value, cst.Dict):
            for el in value.elements:
                if isinstance(el, cst.DictElement) and isinstance(el.value, cst.Dict):
                    for sub in el.value.elements:
                        if isinstance(sub, cst.DictElement) and _string_value(self.mod, sub.key) == "bind":
                            bind = _string_value(self.mod, sub.value)
                            if bind:
                                targets.add(bind.rstrip("/") or "/")
        elif isinstance(value, cst.List):
            for el in value.elements:
                text = _string_value(self.mod, el.value)
                if text and len(text.split(":")) >= 2:
                    targets.add(text.split(":")[1].rstrip("/") or "/")
        return targets

    # -- ulimits -------------------------------------------------------------------------------
    def _ulimit_items(self) -> list[tuple[Node, dict[str, Node]]]:
        """The ``ulimits=[...]`` items as (node, {field: value node})."""
        cst = self.mod.cst
        arg = self._kwarg("ulimits")
        if arg is None:
            return []
        if not isinstance(arg.value, cst.List):
            raise Refusal(f"ulimits is '{self.mod.code(arg.value)}', which cannot be read")
        items: list[tuple[Node, dict[str, Node]]] = []
        for el in arg.value.elements:
            node = el.value
            fields: dict[str, Node] = {}
            if isinstance(node, cst.Call):
                fields = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
            elif isinstance(node, cst.Dict):
                for d in node.elements:
                    if isinstance(d, cst.DictElement):
                        key = _string_value(self.mod, d.key)
                        if key:
                            fields[key] = d.value
            items.append((node, fields))
        return items

    def supports(self, key: Key[V]) -> bool:
        """Not a ulimit when ``ulimits=`` is not a list (a variable, a call): what it sets is
        unknown, so nothing is read or added."""
        if key.kind == "ulimit":
            arg = self._kwarg("ulimits")
            if arg is not None and not isinstance(arg.value, self.mod.cst.List):
                return False
        return super().supports(key)

    def ulimit(self, name: str) -> Ulimit | None:
        items = self._ulimit_items()
        for i, (node, fields) in enumerate(items):
            if "name" in fields and _string_value(self.mod, fields["name"]) == name:
                soft = _int_value(self.mod, fields["soft"]) if "soft" in fields else None
                hard = _int_value(self.mod, fields["hard"]) if "hard" in fields else None
                start, end = self.mod.span(node)
                return Ulimit(name, soft, hard, Setting("ulimits", name, Span(start, end), ("ulimits", i)), "pair")
        return None

    def set_ulimit(self, name: str, soft: int, hard: int) -> Fix:
        current = self.ulimit(name)
        items = self._ulimit_items()
        if current is not None:
            node, fields = items[int(current.setting.keys[1])]
            if "soft" not in fields or "hard" not in fields:
                raise Refusal("the ulimit has no soft or hard value to change")
            edits = []
            for key, value in (("soft", soft), ("hard", hard)):
                start, end = self.mod.span(fields[key])
                edits.append(Edit(start, end, str(value)))
            arg = self._kwarg("ulimits")
            assert arg is not None
            a_start, a_end = self.mod.span(arg.value)
            new = apply_edits(self.mod.src.text[a_start:a_end],
                              [Edit(e.start - a_start, e.end - a_start, e.content) for e in edits])
            self._writable()
            return self._fix(tuple(edits), (Intent("set", self.path + ("kwargs", "ulimits"), new),), "ulimits")
        extra: tuple[Edit, ...] = ()
        extra_intents: tuple[Intent, ...] = ()
        ulimit = self.pyfile.docker_name
        claims = frozenset[str]()
        if not ulimit:
            ulimit = "docker.types.Ulimit"
            nl = self.mod.src.newline
            at = self.pyfile.import_at
            text = self.mod.src.text
            prefix = nl if at == len(text) and text and not text.endswith("\n") else ""
            extra = (Edit(at, at, f"{prefix}import docker{nl}"),)
            extra_intents = (Intent("set", ("imports", "import docker"), 1),)
            claims = frozenset({"module/import docker"})
        q = self.quote
        item = f"{ulimit}(name={_q(name, q)}, soft={soft}, hard={hard})"
        if self._kwarg("ulimits") is None:
            fix = self._set_kwarg("ulimits", f"[{item}]", extra, extra_intents)
        else:
            arg = self._kwarg("ulimits")
            assert arg is not None
            start, _ = self.mod.span(arg.value)
            edit = _append_item(self.mod, start + 1, [(el, el.comma) for el in arg.value.elements], item)
            fix = self._edit_kwarg("ulimits", edit)
            if extra:
                fix = Fix("", fix.edits + extra, intents=fix.intents + extra_intents,
                          claims=fix.claims, scope=fix.scope)
        if claims:
            fix = Fix("", fix.edits, intents=fix.intents, claims=fix.claims | claims, scope=fix.scope)
        return fix

    # -- memory, pids, cpus ----------------------------------------------------------------------
    def memory_limits(self) -> list[Setting]:
        found = self._setting("mem_limit")
        return [found] if found else []

    def set_memory_limit(self, value: str, where: Setting | None) -> Fix:
        return self._set_kwarg("mem_limit", _q(value, self.quote))

    def memswap_limit(self) -> Setting | None:
        return self._setting("memswap_limit")

    def set_memswap_limit(self, value: object) -> Fix:
        rendered = str(value) if isinstance(value, int) else _q(str(value), self.quote)
        return self._set_kwarg("memswap_limit", rendered)

    def pids_limits(self) -> list[Setting]:
        found = self._setting("pids_limit")
        return [found] if found else []

    def set_pids_limit(self, value: int, where: Setting | None) -> Fix:
        return self._set_kwarg("pids_limit", str(int(value)))

    def cpu_limit(self) -> Setting | None:
        found = self._setting("nano_cpus")
        if found is None or not isinstance(found.value, int):
            return found
        return Setting("nano_cpus", found.value / 1e9, found.span, found.keys)


class SdkCall(_Base):
    """One docker-py ``containers.run``/``containers.create`` call; a Container."""

    def __init__(self, pyfile: PyFile, mod: _Module, call: Node, index: int, quote: str) -> None:
        self.pyfile = pyfile
        self.mod = mod
        self.call = call
        self.quote = quote
        self.path = ("calls", index)
        start, end = mod.span(call)
        self.outer = (start, end)
        func_start, func_end = mod.span(call.func)
        line, _ = mod.src.position(start)
        self.scope = f"call.{index + 1}"
        self.label = f"'{mod.code(call.func)}(...)' at line {line}"
        self.span = Span(func_start, func_end)

    def model(self) -> dict[str, object]:
        return {"func": self.mod.code(self.call.func), **_call_model(self.mod, self.call)}

    def _kw_call(self) -> Node:
        return self.call

    def supports(self, key: Key[V]) -> bool:
        """Not a tmpfs when ``tmpfs=`` is neither a dict nor a list (a variable, a call): what it
        mounts is unknown, so nothing is read, added or subtracted from the memory budget."""
        if key.kind == "tmpfs":
            arg = self._kwarg("tmpfs")
            if arg is not None and not isinstance(arg.value, (self.mod.cst.Dict, self.mod.cst.List)):
                return False
        return super().supports(key)

    def tmpfs(self) -> list[TmpfsMount]:
        return self._sdk_tmpfs()

    def volume_targets(self) -> set[str]:
        return self._sdk_volume_targets()

    def add_tmpfs(self, target: str, options: str) -> Fix:
        return self._sdk_add_tmpfs(target, options)

    def set_tmpfs_options(self, mount: TmpfsMount, options: str) -> Fix:
        return self._sdk_set_tmpfs(mount, options)

    def image(self) -> str | None:
        args = _read_args(self.mod, self.call)
        node = args.keywords["image"].value if "image" in args.keywords else (
            self.call.args[0].value if self.call.args and not self.call.args[0].star
            and self.call.args[0].keyword is None else None)
        if node is None:
            return None
        value = _literal(self.mod, node)
        return str(value)

    def _env_node(self) -> Node | None:
        arg = self._kwarg("environment")
        return None if arg is None else arg.value

    def env(self) -> dict[str, Setting]:
        cst = self.mod.cst
        node = self._env_node()
        out: dict[str, Setting] = {}
        if isinstance(node, cst.Dict):
            for i, el in enumerate(node.elements):
                if isinstance(el, cst.DictElement):
                    key = _string_value(self.mod, el.key)
                    if key is not None:
                        start, end = self.mod.span(el.value)
                        out[key] = Setting("environment", _literal(self.mod, el.value),
                                           Span(start, end), ("environment", i))
        elif isinstance(node, cst.List):
            for i, el in enumerate(node.elements):
                text = _string_value(self.mod, el.value)
                if text is not None:
                    key, _, value = text.partition("=")
                    start, end = self.mod.span(el.value)
                    out[key] = Setting("environment", value, Span(start, end), ("environment", i))
        return out

    def set_env(self, name: str, value: str) -> Fix:
        cst = self.mod.cst
        node = self._env_node()
        q = self.quote
        if node is None:
            return self._set_kwarg("environment", "{" + f"{_q(name, q)}: {_q(value, q)}" + "}")
        current = self.env().get(name)
        if isinstance(node, cst.Dict):
            if current is not None:
                span = current.span
                return self._edit_kwarg("environment", Edit(span.start, span.end, _q(value, q)))
            start, _ = self.mod.span(node)
            edit = _append_item(self.mod, start + 1, [(el, el.comma) for el in node.elements],
                                f"{_q(name, q)}: {_q(value, q)}")
            return self._edit_kwarg("environment", edit)
        if isinstance(node, cst.List):
            if current is not None:
                span = current.span
                return self._edit_kwarg("environment", Edit(span.start, span.end, _q(f"{name}={value}", q)))
            start, _ = self.mod.span(node)
            edit = _append_item(self.mod, start + 1, [(el, el.comma) for el in node.elements],
                                _q(f"{name}={value}", q))
            return self._edit_kwarg("environment", edit)
        raise Refusal(f"environment is '{self.mod.code(node)}', which cannot be changed safely")

    def remove_env(self, name: str) -> Fix:
        current = self.env().get(name)
        node = self._env_node()
        if current is None or node is None:
            raise Refusal(f"no variable '{name}' to remove")
        items = [(el, el.comma) for el in node.elements]
        return self._edit_kwarg("environment", _delete_item(self.mod, items, int(current.keys[1])))


# -- testcontainers -----------------------------------------------------------------------------


class TcChain(_Base):
    """``DockerContainer(...)`` and the ``.with_*()`` calls chained on it; a Container."""

    def __init__(self, pyfile: PyFile, mod: _Module, ctor: Node, index: int, quote: str) -> None:
        cst = mod.cst
        self.pyfile = pyfile
        self.mod = mod
        self.ctor = ctor
        self.quote = quote
        self.index = index
        chain: list[Node] = []
        node = ctor
        while True:
            parent = mod.parents.get(node)
            if not isinstance(parent, cst.Attribute) or parent.value is not node:
                break
            grand = mod.parents.get(parent)
            if not isinstance(grand, cst.Call) or grand.func is not parent:
                break
            chain.append(grand)
            node = grand
        self.chain = chain
        self.last = node
        self.outer = mod.span(node)
        line, _ = mod.src.position(self.outer[0])
        self.scope = f"chain.{index + 1}"
        self.label = f"'DockerContainer(...)' at line {line}"
        start, end = mod.span(ctor.func)
        self.span = Span(start, end)
        self.path = ("chains", index, "ctor")
        self._kw_target: Node | None = ctor
        self._refuse = ""
        for k, call in enumerate(chain):
            method = call.func.attr.value
            if method == "with_kwargs":
                self._kw_target, self.path = call, ("chains", index, "calls", k)
                self._refuse = ""
            elif method == "maybe_emulate_amd64":
                self._refuse = ("the chain calls maybe_emulate_amd64(), whose with_kwargs() would "
                                "drop keyword settings")

    def model(self) -> dict[str, object]:
        return {"ctor": _call_model(self.mod, self.ctor),
                "calls": [{"method": c.func.attr.value, **_call_model(self.mod, c)} for c in self.chain]}

    def _kw_call(self) -> Node:
        return None if self._refuse else self._kw_target

    def _why_not(self) -> str:
        return self._refuse or "no call to add it to"

    def _calls(self, method: str) -> list[tuple[int, Node]]:
        return [(k, c) for k, c in enumerate(self.chain) if c.func.attr.value == method]

    def _append_call(self, method: str, args: list[str], claim: str) -> Fix:
        text = self.mod.src.text
        _, end = self.outer
        rendered = f".{method}({', '.join(args)})"
        content = rendered
        if self.chain:
            attr = self.last.func
            prev_end = self.mod.span(attr.value)[1]
            name_start = self.mod.span(attr.attr)[0]
            if "\n" in text[prev_end:name_start]:
                dot = text.rfind(".", prev_end, name_start)
                line_start = text.rfind("\n", 0, dot) + 1
                if not text[line_start:dot].strip():
                    content = f"{self.mod.src.newline}{text[line_start:dot]}{rendered}"
        intent = Intent("append", ("chains", self.index, "calls"),
                        {"method": method, "args": args, "star": [], "kwargs": {}})
        return self._fix((Edit(end, end, content),), (intent,), claim)

    def tmpfs(self) -> list[TmpfsMount]:
        mounts: list[TmpfsMount] = []
        for k, call in self._calls("with_tmpfs_mount"):
            args = _read_args(self.mod, call)
            values = list(call.args)
            if not values or values[0].keyword is not None:
                continue
            target = _string_value(self.mod, values[0].value)
            if target is None:
                continue
            size_node = values[1].value if len(values) > 1 else args.keywords["size"].value \
                if "size" in args.keywords else None
            opts = _string_value(self.mod, size_node) if size_node is not None else ""
            start, end = self.mod.span(size_node if size_node is not None else call)
            mounts.append(TmpfsMount(target, parse_tmpfs_options(opts or ""),
                                     Setting("with_tmpfs_mount", opts, Span(start, end), ("calls", k)),
                                     "call" if size_node is not None else "call-nosize"))
        return mounts

    def volume_targets(self) -> set[str]:
        targets: set[str] = set()
        for _, call in self._calls("with_volume_mapping"):
            if len(call.args) >= 2:
                target = _string_value(self.mod, call.args[1].value)
                if target:
                    targets.add(target.rstrip("/") or "/")
        return targets

    def add_tmpfs(self, target: str, options: str) -> Fix:
        q = self.quote
        return self._append_call("with_tmpfs_mount", [_q(target, q), _q(options, q)], "tmpfs")

    def set_tmpfs_options(self, mount: TmpfsMount, options: str) -> Fix:
        k = int(mount.setting.keys[1])
        call = self.chain[k]
        q = self.quote
        if mount.form == "call":
            span = mount.setting.span
            edit = Edit(span.start, span.end, _q(options, q))
        else:
            open_end = self.mod.src.text.index("(", self.mod.span(call.func)[1]) + 1
            edit = _append_item(self.mod, open_end, [(a, a.comma) for a in call.args], _q(options, q))
        args = _read_args(self.mod, call)
        new_args = list(args.positional)
        if mount.form == "call" and len(new_args) >= 2:
            new_args[1] = _q(options, q)
            intent = Intent("set", ("chains", self.index, "calls", k, "args"), new_args)
        elif mount.form == "call":
            intent = Intent("set", ("chains", self.index, "calls", k, "kwargs", "size"), _q(options, q))
        else:
            intent = Intent("set", ("chains", self.index, "calls", k, "args"), new_args + [_q(options, q)])
        return self._fix((edit,), (intent,), "tmpfs")

    def image(self) -> str | None:
        if self.ctor.args and self.ctor.args[0].keyword is None and not self.ctor.args[0].star:
            return str(_literal(self.mod, self.ctor.args[0].value))
        args = _read_args(self.mod, self.ctor)
        return str(_literal(self.mod, args.keywords["image"].value)) if "image" in args.keywords else None

    def env(self) -> dict[str, Setting]:
        cst = self.mod.cst
        out: dict[str, Setting] = {}
        ctor_env = _read_args(self.mod, self.ctor).keywords.get("env")
        if ctor_env is not None and isinstance(ctor_env.value, cst.Dict):
            for i, el in enumerate(ctor_env.value.elements):
                if isinstance(el, cst.DictElement):
                    key = _string_value(self.mod, el.key)
                    if key is not None:
                        start, end = self.mod.span(el.value)
                        out[key] = Setting("env", _literal(self.mod, el.value), Span(start, end), ("env", i))
        for k, call in enumerate(self.chain):
            method = call.func.attr.value
            if method == "with_env" and len(call.args) >= 2:
                key = _string_value(self.mod, call.args[0].value)
                if key is not None:
                    start, end = self.mod.span(call.args[1].value)
                    out[key] = Setting("with_env", _literal(self.mod, call.args[1].value),
                                       Span(start, end), ("calls", k))
            elif method == "with_envs":
                for arg in call.args:
                    if arg.keyword is not None:
                        start, end = self.mod.span(arg.value)
                        out[arg.keyword.value] = Setting("with_envs", _literal(self.mod, arg.value),
                                                         Span(start, end), ("calls", k))
        return out

    def set_env(self, name: str, value: str) -> Fix:
        q = self.quote
        current = self.env().get(name)
        if current is not None and current.key == "with_env":
            k = int(current.keys[1])
            call = self.chain[k]
            args = _read_args(self.mod, call).positional
            new_args = [args[0], _q(value, q), *args[2:]]
            span = current.span
            return self._fix((Edit(span.start, span.end, _q(value, q)),),
                             (Intent("set", ("chains", self.index, "calls", k, "args"), new_args),), "env")
        if current is not None:
            raise Refusal(f"{name} is set through {current.key}, which is left as it is")
        return self._append_call("with_env", [_q(name, q), _q(value, q)], "env")

    def remove_env(self, name: str) -> Fix:
        current = self.env().get(name)
        if current is None:
            raise Refusal(f"no variable '{name}' to remove")
        if current.key != "with_env":
            raise Refusal(f"{name} is set through {current.key}, which is left as it is")
        k = int(current.keys[1])
        call = self.chain[k]
        attr = call.func
        start = self.mod.span(attr.value)[1]
        _, end = self.mod.span(call)
        text = self.mod.src.text
        dot = text.find(".", start)
        dot_line = text.rfind("\n", 0, dot) + 1
        if dot_line > start and not text[dot_line:dot].strip():
            nl = text.find("\n", end)
            if nl != -1 and not text[end:nl].strip():
                start, end = dot_line, nl + 1
            else:
                start = dot_line
        return self._fix((Edit(start, end, ""),),
                         (Intent("delete", ("chains", self.index, "calls", k)),), "env")
