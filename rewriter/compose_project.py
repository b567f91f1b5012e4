"""The Compose project a file belongs to: which files Compose merges with it, and ``.env``.

Compose does not run a file, it runs a *project*: ``compose.yaml`` merged with
``compose.override.yaml`` (loaded by default), the files ``COMPOSE_FILE`` names, the ``-f`` chain a
user types. A setting in a later file wins, so a value written into one file without looking at the
others can be overridden (the fix does nothing) or can override (the fix lowers what the base
said). This module finds the chains a file is part of; :mod:`rewriter.compose_merge` reads a service
through them.

Chains, in this order (the first four are how Compose itself is told; the last two are how a
repository says it):

1. ``[tool.dockfix] compose-files = [["compose.yaml", "compose.full.yaml"]]``, paths relative to the
   config file;
2. ``COMPOSE_FILE`` (split on ``COMPOSE_PATH_SEPARATOR``, default ``:``) in the ``.env`` beside the
   file;
3. the default pair: the first of ``compose.yaml``, ``compose.yml``, ``docker-compose.yaml``,
   ``docker-compose.yml`` plus its ``*.override.y(a)ml``;
4. a header comment naming the chain, ``# docker compose -f compose.yaml -f compose.full.yaml up``;
5. an overlay by name: ``compose.<x>.yaml``, ``compose-<x>.yaml`` (and the ``docker-compose``
   forms) whose services all have neither ``image`` nor ``build`` (Compose would refuse the file
   alone) is merged onto the base file of its family.

Interpolation: ``${VAR}``, ``$VAR``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?msg}``,
``${VAR?msg}``, ``${VAR:+alt}``, ``${VAR+alt}`` and ``$$`` are read as compose-go reads them, with
the variables of the project's ``.env`` only. Compose lets the process environment win over
``.env``; dockfix deliberately does not read it, so the same repository gives the same findings
and the same pull request on every machine and CI runner. ``env_file:`` is not an interpolation
source (it sets the container's environment), and Compose does not read it for ``${}`` either.

Everything here is a few ``stat``/``read`` calls on small files beside the one being checked, so
format-on-save (``dockfix apply -``) stays cheap; YAML is parsed only for sibling files whose names
say they may be overlays.
"""

from __future__ import annotations

import functools
import os
import re

from rewriter import deps, safefs
from rewriter.discovery import include_entries
from rewriter.discovery import includes as includes
from rewriter.errors import DockfixError
from rewriter.interpolation import MAX_PROJECT_FILE_BYTES as MAX_PROJECT_FILE_BYTES
from rewriter.interpolation import Interpolated as Interpolated
from rewriter.interpolation import dotenv as dotenv
from rewriter.interpolation import has_variables as has_variables
from rewriter.interpolation import interpolate as interpolate
from rewriter.interpolation import parse_dotenv as parse_dotenv
from rewriter.interpolation import read_text
from rewriter.source import SourceFile

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.compose_merge import Layer
    from rewriter.model import Container
    from rewriter.surfaces import Loaded
    from rewriter.surfaces.compose import ComposeSettings

    Services = dict[str, ComposeSettings]  # a file's services by name

BASE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
_FAMILY = functools.cache(lambda: re.compile(
    r"^(?P<stem>docker-compose|compose)(?P<sep>[.-])(?P<variant>[^/]+?)\.(?P<ext>ya?ml)$"))
_HEADER_CHAIN = functools.cache(lambda: re.compile(
    r"docker[ -]compose((?:\s+(?:-f|--file)(?:\s+|=)\S+)+)"))
_HEADER_FILE = functools.cache(lambda: re.compile(r"(?:-f|--file)(?:\s+|=)(\S+)"))
MAX_HEADER_LINES = 30  # the comment block a file opens with


# -- chains -------------------------------------------------------------------------------------


def _maybe_family(name: str) -> bool:
    """A cheap test before the regex: format-on-save of a lone compose.yaml compiles none."""
    return name.startswith(("compose", "docker-compose")) and name.endswith((".yml", ".yaml")) \
        and name not in BASE_NAMES


def _root() -> str:
    """The repository root of the file being checked: every file of its project is read inside
    it, the way :mod:`rewriter.safefs` reads every path a repository names."""
    return safefs.root_of_file(_current[0] or os.getcwd())


def _exists(path: str) -> bool:
    deps.touch(path)
    if not os.path.lexists(path):
        return False
    return safefs.is_regular(path, _root())


_current: list[str] = [""]  # the file being checked: it exists, and is no dependency of itself


def default_base(directory: str, stem: str | None = None) -> str | None:
    """The file ``docker compose`` picks in ``directory`` (of one family when ``stem`` is given)."""
    for name in BASE_NAMES:
        if stem is not None and not name.startswith(stem + "."):
            continue
        path = os.path.join(directory, name)
        if path == _current[0] or _exists(path):
            return path
    return None


def _override_of(base: str) -> str | None:
    directory, name = os.path.split(base)
    stem = name.rsplit(".", 1)[0]
    for ext in ("yml", "yaml") if name.endswith(".yml") else ("yaml", "yml"):
        path = os.path.join(directory, f"{stem}.override.{ext}")
        if path == _current[0] or _exists(path):
            return path
    return None


def _compose_file_chain(directory: str, env: dict[str, str]) -> tuple[str, ...] | None:
    value = env.get("COMPOSE_FILE")
    if not value:
        return None
    separator = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
    files = [os.path.normpath(os.path.join(directory, p.strip())) for p in value.split(separator) if p.strip()]
    return tuple(files) if len(files) > 1 else None


def header_chain(text: str, directory: str) -> tuple[str, ...] | None:
    """A ``docker compose -f a -f b`` in the comments a file opens with, as paths."""
    if "-f" not in text and "--file" not in text:
        return None
    lines = []
    for line in text.splitlines()[:MAX_HEADER_LINES]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        lines.append(stripped.lstrip("#"))
    m = _HEADER_CHAIN().search(" ".join(lines))
    if m is None:
        return None
    files = [os.path.normpath(os.path.join(directory, f.strip("'\"`")))
             for f in _HEADER_FILE().findall(m.group(1))]
    return tuple(files) if len(files) > 1 else None


def _read(path: str, root: str | None = None) -> str | None:
    """A file of the project, or None (see :func:`rewriter.interpolation.read_text`)."""
    return read_text(path, root or _root())


_partial_memo: dict[str, bool] = {}


def is_partial_overlay(text: str) -> bool:
    """Whether a Compose file only makes sense merged onto another: it has services and none of
    them has ``image``, ``build`` or ``extends`` (Compose refuses such a file on its own).
    Kept per text: every file of a directory asks about the same siblings, on every pass."""
    found = _partial_memo.get(text)
    if found is None:
        found = _partial_overlay(text)
        if len(_partial_memo) > 64:
            _partial_memo.clear()
        _partial_memo[text] = found
    return found


def _partial_overlay(text: str) -> bool:
    from rewriter.surfaces import compose  # lazy: start-up

    try:
        loaded = compose.load(SourceFile.from_text("overlay.yaml", text))
    except (DockfixError, RecursionError):
        return False
    if not loaded.services:
        return False
    return not any(s.has("image") or s.has("build") or s.has("extends") for s in loaded.services)


def chains_for(path: str, text: str, declared: tuple[tuple[str, ...], ...] = ()) -> list[tuple[str, ...]]:
    """Every chain of files (absolute, in merge order) that ``path`` is part of; [] when it is
    used alone. ``text`` is the file's own content (standard input has no file to read)."""
    path = os.path.abspath(path)
    _current[0] = path
    directory = os.path.dirname(path)
    chains: list[tuple[str, ...]] = [c for c in declared if path in c]
    env = dotenv(directory)
    from_env = _compose_file_chain(directory, env)
    if from_env is not None and path in from_env:
        chains.append(from_env)
    base = default_base(directory)
    name = os.path.basename(path)
    if name in BASE_NAMES:
        override = _override_of(path)
        if override is not None:
            chains.append((path, override))
    own = header_chain(text, directory)
    if own is not None and path in own:
        chains.append(own)
    family = _FAMILY().match(name) if _maybe_family(name) else None
    if family is not None and family.group("variant") == "override":
        own_base = default_base(directory, family.group("stem"))
        if own_base is not None:
            chains.append((own_base, path))  # each base file with its own *.override.*
    if family is not None and family.group("variant") != "override":
        family_base = default_base(directory, family.group("stem")) or base
        if family_base is not None and family_base != path and is_partial_overlay(text):
            chains.append((family_base, path))
    elif name in BASE_NAMES:
        chains.extend(_overlays_of(path, directory))
    _includer_dirs.pop(path, None)  # both filled again by _includers when it is still included
    _project_dirs.pop(path, None)
    for includer in _includers(path):
        # an included file's services are overridden by the overlays of the file including it
        for chain in chains_for(includer, _read(includer) or "", declared):
            rest = chain[chain.index(includer) + 1:]
            if rest:
                chains.append((path,) + rest)
                # the overlays resolve their paths against the includer's project directory
                _remember_rest_workdir((path,) + rest, chain_workdirs(chain)[rest[0]])
        _remember_includer(path, includer)
        _current[0] = path
    unique: list[tuple[str, ...]] = []
    for chain in chains:
        if chain not in unique and all(p == path or _exists(p) for p in chain):
            unique.append(chain)
    return unique


_rest_workdirs: dict[tuple[str, ...], str] = {}


def _remember_rest_workdir(chain: tuple[str, ...], workdir: str) -> None:
    if len(_rest_workdirs) > 256:
        _rest_workdirs.clear()
    _rest_workdirs[chain] = workdir


_includer_dirs: dict[str, str] = {}
_project_dirs: dict[str, str] = {}  # an included file's ``project_directory``, when its include sets one


def _remember_project_dir(path: str, project_dir: str | None) -> None:
    if project_dir is None:
        _project_dirs.pop(path, None)
        return
    if len(_project_dirs) > 256:
        _project_dirs.clear()
    _project_dirs[path] = project_dir


def own_dir(path: str) -> str:
    """The project directory of a file read on its own: an included file's ``project_directory``
    when its include sets one, else its own directory."""
    return _project_dirs.get(path) or os.path.dirname(path)


def _remember_includer(path: str, includer: str) -> None:
    if len(_includer_dirs) > 256:
        _includer_dirs.clear()
    _includer_dirs[path] = os.path.dirname(includer)


def _read_env_from(service: ComposeSettings, dirs: tuple[str, ...]) -> None:
    """Make ``service`` (and every file it extends: its ``leaves()``) interpolate from the
    ``.env`` of ``dirs``, a later one winning: Compose interpolates an ``extends: file:`` target
    with the project's environment, not its own directory's ``.env`` (measured with Compose 2.40)."""
    from rewriter.surfaces.compose import ComposeService  # lazy: start-up (loaded with the file)

    for leaf in service.leaves():
        if isinstance(leaf, ComposeService):  # a service in one file reads its own .env
            leaf.dotenv_dirs = dirs


def _env_dirs(path: str, workdir: str | None) -> tuple[str, ...]:
    """The ``.env`` directories of the file at ``path`` whose project directory is ``workdir``:
    that directory's; for an included file its own, under the including project's (Compose: the
    including project's environment wins over the included file's ``.env``)."""
    own = workdir or own_dir(path)
    parent = _includer_dirs.get(path)
    return (own, parent) if parent is not None and parent != own else (own,)


def chain_workdirs(chain: tuple[str, ...]) -> dict[str, str]:
    """Each file of a ``-f`` chain with its project directory, the base Compose resolves the
    file's relative paths against (``env_file``, measured with Compose 2.40: ``docker compose -f
    compose.yaml -f deploy/overlay.yaml`` reads the overlay's ``env_file: app.env`` as
    ``./app.env``, not ``deploy/app.env``): the first file's directory. An included file's chain
    (the included file, then the overlays of the file including it) keeps the included file's own
    directory for it and the includer's project directory for the overlays."""
    first = own_dir(chain[0])
    rest = _rest_workdirs.get(chain)
    out = {p: (first if rest is None or i == 0 else rest) for i, p in enumerate(chain)}
    return out


MAX_INCLUDE_LEVELS = 2  # an including file sits beside the included one, or one or two levels up


def _includers(path: str) -> list[str]:
    """The base Compose files, in this directory or up to two above it, whose ``include:`` names
    ``path``."""
    from rewriter.surfaces import compose  # lazy: start-up

    from rewriter.roles import upward  # lazy: start-up

    out: list[str] = []
    for directory in upward(os.path.dirname(path), MAX_INCLUDE_LEVELS):
        base = default_base(directory)
        text = _read(base) if base is not None and base != path else None
        if base is None or text is None or "include" not in text:
            continue
        try:
            doc = compose.load(SourceFile.from_text(base, text)).doc
        except (DockfixError, RecursionError):
            continue
        named = dict(include_entries(doc, directory))
        if path in named:
            out.append(base)
            _remember_project_dir(path, named[path])
    return out


def _overlays_of(base: str, directory: str) -> list[tuple[str, ...]]:
    """Chains in which siblings name ``base`` as theirs: by a header comment or by being a
    partial overlay of its family."""
    out: list[tuple[str, ...]] = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    for name in names:
        m = _FAMILY().match(name) if _maybe_family(name) else None
        if m is None or m.group("variant") == "override":
            continue
        sibling = os.path.join(directory, name)
        text = _read(sibling)
        if text is None:
            continue
        hinted = header_chain(text, directory)
        if hinted is not None and base in hinted and sibling in hinted:
            out.append(hinted)
            continue
        family_base = default_base(directory, m.group("stem")) or default_base(directory)
        if family_base == base and is_partial_overlay(text):
            out.append((base, sibling))
    return out


def layers_of(path: str, chains: list[tuple[str, ...]]) -> tuple[list[str], list[str]]:
    """The files merged before ``path`` and after it, over all its chains, each once, in order.

    With alternative overlays (``compose.yaml`` + ``compose.dev.yaml`` or + ``compose.prod.yaml``)
    the base sees them all: a fix to the base must hold under every overlay that may follow it."""
    path = os.path.abspath(path)
    before: list[str] = []
    after: list[str] = []
    for chain in chains:
        at = chain.index(path)
        before.extend(p for p in chain[:at] if p not in before and p != path)
        after.extend(p for p in chain[at + 1:] if p not in after and p != path)
    return [p for p in before if p not in after], after


# -- the services of one file, seen through the project -----------------------------------------


def _label(path: str, directory: str) -> str:
    return os.path.relpath(path, directory).replace(os.sep, "/")


MAX_INCLUDE_DEPTH = 4


_other_memo: dict[tuple[str, int, str], Services | str] = {}


def _load_other(path: str, depth: int = 0) -> Services | str:
    """Another file of the project, parsed (with its ``extends`` resolved, and the services of the
    files its top-level ``include:`` brings in); an error message when it cannot be read. Kept
    per content: the fix loop reads the same siblings on every pass, and only reads them."""
    text = _read(path)
    key = (path, depth, text or "")
    found = _other_memo.get(key)
    if found is None:
        found = _parse_other(path, text, depth)
        if text is not None and "include" in text:
            return found  # what it includes may change on its own
        if len(_other_memo) > 32:
            _other_memo.clear()
        _other_memo[key] = found
    return found


def _parse_other(path: str, text: str | None, depth: int) -> Services | str:
    from rewriter.surfaces import compose  # lazy: start-up
    from rewriter.surfaces.compose_extends import with_extends  # lazy: start-up

    if text is None:
        return f"{os.path.basename(path)} cannot be read"
    try:
        loaded = compose.load(SourceFile.from_text(path, text))
    except (DockfixError, RecursionError) as err:
        why = err.message if isinstance(err, DockfixError) else err
        return f"{os.path.basename(path)} cannot be parsed ({why})"
    services = {s.name: s for s in with_extends(loaded)}
    if depth < MAX_INCLUDE_DEPTH and "include" in text:
        for included, project_dir in include_entries(loaded.doc, os.path.dirname(path)):
            _remember_project_dir(included, project_dir)
            found = _load_other(included, depth + 1)
            if isinstance(found, dict):
                for name, service in found.items():
                    services.setdefault(name, service)
    return services


def _partial(service: ComposeSettings) -> bool:
    return not (service.has("image") or service.has("build") or service.has("extends"))


def in_project(loaded: Loaded, src: SourceFile, project: tuple[tuple[str, ...], ...]) -> Loaded:
    """``loaded`` (a Compose file read alone) with its services read through the other files of
    its project (``project``: the ``-f`` chains the config declares)."""
    from rewriter.surfaces import Loaded  # lazy: start-up (the surfaces registry, on use)
    from rewriter.surfaces.compose import ComposeSettings  # lazy: start-up (loaded with the file)

    services: list[ComposeSettings] = []
    for container in loaded.containers:
        assert isinstance(container, ComposeSettings)  # a Compose file's containers are its services
        services.append(container)
    containers = with_project(src.path, src.text, services, project)
    return Loaded(loaded.make_model, list(containers), loaded.images, loaded.scopes)


def override_in_project(loaded: Loaded, base: SourceFile, project: tuple[tuple[str, ...], ...]) -> Loaded:
    """``loaded`` (an override file read over ``base``, ``--write-to override``) with ``base``'s
    services read through the files Compose merges *before* it: the override of an overlay
    (``compose.override.yaml`` -> ``compose.override.prod.yaml``) is used as ``-f compose.yaml -f
    compose.override.yaml -f compose.override.prod.yaml``, so its settings are decided on that merged
    service. Read alone, the overlay's worker had no memory limit and got ``mem_limit: 512m`` beside
    the base's ``deploy.resources.limits.memory: 256M``, and Compose refused the project ("can't set
    distinct values on 'mem_limit' and 'deploy.resources.limits.memory'"). The files merged after
    ``base`` are not read: the override comes last. An overlay whose base is not found keeps its
    DF901 note and gets nothing, as in place."""
    import copy  # lazy: start-up (a project of several files)

    from rewriter.surfaces import Loaded  # lazy: start-up (the surfaces registry, on use)
    from rewriter.surfaces.compose_override import OverlayService, UnresolvedExtends  # lazy: start-up

    containers = list(loaded.containers)
    wrapped: list[OverlayService] = []
    for container in containers:
        inner = container.service if isinstance(container, UnresolvedExtends) else container  # it wraps its service
        assert isinstance(inner, OverlayService)  # an override file's containers overlay the base's services
        wrapped.append(inner)
    bases = [c.base for c in wrapped]
    merged = with_project(base.path, base.text, bases, project, later=False)
    if all(m is b for m, b in zip(merged, bases)):
        return loaded
    out: list[Container] = []
    for container, inner, was, now in zip(containers, wrapped, bases, merged):
        if now is not was:  # a copy: the surface keeps its last parse (rewriter.surfaces.load)
            rebased = copy.copy(inner)
            rebased.base = now
            if isinstance(container, UnresolvedExtends):  # the same refusal, over the rebased service
                outer = copy.copy(container)
                outer.service = rebased
                container = outer
            else:
                container = rebased
        out.append(container)
    return Loaded(loaded.make_model, out, loaded.images, loaded.scopes)


def with_project(path: str, text: str, containers: list[ComposeSettings],
                 declared: tuple[tuple[str, ...], ...] = (), later: bool = True) -> list[ComposeSettings]:
    """``containers`` (the services of the Compose file at ``path``) each seen through the other
    files of its project, or unchanged when the file is used alone; without ``later``, only
    through the files merged before it (the base of an override file)."""
    if path in ("", "-") or not containers:
        return containers
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    chains = chains_for(path, text, declared)
    name = os.path.basename(path)
    if not chains:
        for container in containers:
            _read_env_from(container, _env_dirs(path, None))
        if own_dir(path) != directory:  # an included file whose include names its project_directory
            from rewriter.compose_merge import same  # lazy: start-up (a project of several files)
            from rewriter.compose_service import ProjectService  # lazy: start-up

            return [ProjectService([(c, same)], 0, [name], "", [own_dir(path)])
                    for c in containers]
        family = _FAMILY().match(name) if _maybe_family(name) else None
        if family is None:
            return containers
        if all(_partial(c) for c in containers):
            from rewriter.compose_merge import same  # lazy: start-up (a project of several files)
            from rewriter.compose_service import ProjectService  # lazy: start-up

            why = (f"it has neither 'image' nor 'build', so {name} is an overlay; dockfix found no base "
                   f"file for it (name the files in [tool.dockfix] compose-files)")
            return [ProjectService([(c, same)], 0, [name], orphan=why) for c in containers]
        return containers
    from rewriter.compose_merge import relabeller, same  # lazy: start-up (a project of several files)
    from rewriter.compose_service import ProjectService  # lazy: start-up


    before, after = layers_of(path, chains)
    if not later:
        after = []
    others = {p: _load_other(p) for p in before + after}
    broken = [v for v in others.values() if isinstance(v, str)]
    workdirs: dict[str, str] = {}
    for chain in chains:
        for p, workdir in chain_workdirs(chain).items():
            workdirs.setdefault(p, workdir)

    def workdir_of(service: ComposeSettings, p: str) -> str | None:
        # a service an -f file brings in through its own include: keeps its file's directory,
        # and reads its .env under the including project's
        if service.file_path() == p:
            _read_env_from(service, _env_dirs(p, workdirs.get(p)))
            return workdirs.get(p)
        own = own_dir(os.path.abspath(service.file_path()))
        parent = workdirs.get(p) or os.path.dirname(p)
        _read_env_from(service, (own, parent) if own != parent else (own,))
        return own

    out: list[ComposeSettings] = []
    for container in containers:
        layers: list[Layer] = []
        labels: list[str] = []
        dirs: list[str | None] = []
        span = container.span
        for p in before:
            found = others[p]
            if isinstance(found, dict) and container.name in found:
                layers.append((found[container.name], relabeller(span, f"set in {_label(p, directory)}")))
                labels.append(_label(p, directory))
                dirs.append(workdir_of(found[container.name], p))
        here = len(layers)
        layers.append((container, same))
        labels.append(name)
        dirs.append(workdirs.get(path))
        _read_env_from(container, _env_dirs(path, workdirs.get(path)))
        for p in after:
            found = others[p]
            if isinstance(found, dict) and container.name in found:
                layers.append((found[container.name], relabeller(span, f"set in {_label(p, directory)}")))
                labels.append(_label(p, directory))
                dirs.append(workdir_of(found[container.name], p))
        orphan = ""
        if broken:
            orphan = f"the project's {broken[0]}, so what the service merges is unknown"
        elif here == 0 and before and _partial(container):
            orphan = (f"it has neither 'image' nor 'build' and no earlier file of its project "
                      f"({', '.join(_label(p, directory) for p in before)}) defines it")
        if len(layers) == 1 and not orphan and dirs[0] in (None, directory):
            out.append(container)
            continue
        # one layer too when the file's paths resolve elsewhere (a service only an overlay in
        # another directory defines)
        out.append(ProjectService(layers, here, labels, orphan, dirs))
    return out
