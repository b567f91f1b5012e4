"""Compose ``extends``: a service seen through the service it extends, merged the way Compose
merges them (compose-go ``loader/extends.go`` applies the same rules as for a second file).

The merge itself is :mod:`rewriter.compose_merge`'s, through an
:class:`~rewriter.surfaces.compose_override.OverlayService` (the extended service as the base
layer, the extending one as the layer written to). This module finds what is extended: a service
of the same file or of the file ``extends: file:`` names, read by the repository rule
(:mod:`rewriter.safefs`) once per run, following chains up to :data:`MAX_EXTENDS` deep; a service
whose ``extends`` cannot be resolved is an
:class:`~rewriter.surfaces.compose_override.UnresolvedExtends`, checked but never written.
"""

from __future__ import annotations

import functools

from rewriter.source import SourceFile
from rewriter.surfaces import compose
from rewriter.surfaces.compose import ComposeService
from rewriter.surfaces.compose_override import OverlayService, UnresolvedExtends


MAX_EXTENDS = 8


def with_extends(file: compose.ComposeFile) -> list[compose.ComposeSettings]:
    """The file's services, with each ``extends`` user seen through the service it extends
    (merged the way Compose merges them, as for an override file)."""
    if "extends" not in file.src.text:
        return list(file.services)
    named = _by_name(file)
    return [_extended(svc, file, named, 0) for svc in file.services]


def _by_name(file: compose.ComposeFile) -> dict[str, ComposeService]:
    """The file's services by name (the first of a repeated name, as Compose reads it)."""
    named: dict[str, ComposeService] = {}
    for svc in file.services:
        named.setdefault(svc.name, svc)
    return named


def _extended(svc: ComposeService, file: compose.ComposeFile, named: dict[str, ComposeService],
              depth: int) -> ComposeService | OverlayService | UnresolvedExtends:
    spec = svc.extends()
    if spec is None:
        return svc
    base_name, base_file = spec
    where = f"service '{base_name}'" + (f" in {base_file}" if base_file else "")
    if depth >= MAX_EXTENDS:
        return UnresolvedExtends(svc, f"'extends' nests deeper than {MAX_EXTENDS} levels")
    source, source_named = file, named
    if base_file is not None:
        loaded = _extends_file(file.src.path, base_file)
        if isinstance(loaded, str):
            return UnresolvedExtends(svc, f"it extends {where}, which {loaded}")
        source, source_named = loaded
    found = source_named.get(base_name)
    if found is None or found is svc:
        return UnresolvedExtends(svc, f"it extends {where}, which does not exist")
    base = _extended(found, source, source_named, depth + 1)
    if isinstance(base, UnresolvedExtends):
        return UnresolvedExtends(svc, f"it extends {where}, which cannot be resolved")
    assert isinstance(base, (ComposeService, OverlayService))
    return OverlayService(svc.name, base, svc, file, base_name, file.patcher.style,
                          origin=f"inherited through 'extends' from {where}")


def _extends_file(path: str, name: str) -> tuple[compose.ComposeFile, dict[str, ComposeService]] | str:
    """The Compose file an ``extends: file:`` names, relative to ``path``'s directory, or why it
    cannot be used: it is read by the repository rule (:mod:`rewriter.safefs`: inside the
    repository root, no link, a regular file, at most 10 MB), so ``/dev/zero``, ``/dev/stdin``,
    ``/etc/passwd`` and ``../outside.yaml`` are refused before anything is read."""
    import os  # lazy: start-up

    from rewriter import deps, safefs  # lazy: start-up

    here = os.path.dirname(os.path.abspath(path)) if path not in ("", "-") else os.getcwd()
    full = os.path.normpath(os.path.join(here, name))
    root = safefs.root_for(here)
    if not safefs.inside(full, root):
        return f"is outside the repository ({root}); dockfix reads nothing outside it"
    deps.touch(full)
    try:
        st = os.lstat(full)
    except OSError as err:
        return f"cannot be read ({err.strerror})"
    return _load_extends(full, root, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _load_extends(path: str, root: str, dev: int, ino: int, mtime: int,
                  size: int) -> tuple[compose.ComposeFile, dict[str, ComposeService]] | str:
    """One read and parse per file and run, however many services extend it, with its services
    by name (keyed by the file's identity: 100 services extending a 450 KB file ran for over
    300 s, growing past 750 MB, when each one parsed it again; 6 s and 46 MB now, most of it
    parsing that file once)."""
    from rewriter import safefs  # lazy: start-up
    from rewriter.errors import DockfixError  # lazy: start-up

    try:
        loaded = compose.load(SourceFile.from_bytes(path, safefs.read_bytes(path, root)))
        return loaded, _by_name(loaded)
    except OSError as err:  # safefs.Refused says why in words: "is a FIFO, not a regular file"
        return f"cannot be read ({err.strerror})"
    except DockfixError as err:
        return f"cannot be read ({err.message})"
