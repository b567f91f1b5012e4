"""One module per file kind. Each finds the containers in a document and turns wanted settings
into span edits. This module is the only place that maps a kind name to its surface; surfaces
are imported lazily so that a Compose-only run never pays for libcst or a Dockerfile parser.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rewriter.errors import DockfixError
from rewriter.model import Container, Span
from rewriter.source import SourceFile

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.surfaces.dockerfile import DockerfileImage

KINDS = ("compose", "compose-override", "dockerfile", "shell", "python", "kubernetes")


class Loaded:
    __slots__ = ("build_model", "containers", "images", "scopes", "notes", "_model")

    def __init__(self, build_model: Callable[[], object], containers: list[Container],
                 images: list[DockerfileImage] | None = None, scopes: dict[str, Span] | None = None,
                 notes: tuple[tuple[str, str], ...] = ()) -> None:
        self.build_model = build_model  # the resolved model the oracle compares
        self.containers = containers
        self.images = images if images is not None else []  # Dockerfiles (DockerfileImage)
        self.scopes = scopes if scopes is not None else {}  # suppression anchors beyond containers
        self.notes = notes  # (code, message) about the whole file, at its first line (a Helm template)
        self._model: list[object] = []

    def make_model(self) -> object:
        """The resolved model, built on first use and kept."""
        if not self._model:
            self._model.append(self.build_model())
        return self._model[0]


# The fix loop parses each new text twice: the oracle checks it, then the next pass analyses it.
# The last parse is kept (keyed by everything it depends on) so the second costs nothing.
_last: list[tuple[tuple[str, ...], Loaded]] = []


def load(kind: str, src: SourceFile, companion: SourceFile | None = None) -> Loaded:
    """``companion`` is the base Compose file when ``kind`` is ``compose-override``. The file is
    read alone, as the oracle does; the engine reads a Compose file's services through the other
    files of its project (:func:`rewriter.compose_project.in_project`), a layer above this one."""
    key = (kind, os.environ.get("DOCKFIX_YAML_BACKEND", ""), src.path, src.text,
           companion.path if companion else "", companion.text if companion else "")
    if _last and _last[0][0] == key:
        loaded = _last[0][1]
    else:
        loaded = _load(kind, src, companion)
        _last[:] = [(key, loaded)]
    return loaded


def _load(kind: str, src: SourceFile, companion: SourceFile | None) -> Loaded:
    if kind == "compose":
        from rewriter.surfaces import compose  # lazy: start-up

        loaded = compose.load(src)
        containers: list[Container] = list(loaded.services)
        if "extends" in src.text:
            from rewriter.surfaces.compose_extends import with_extends  # lazy: start-up

            containers = list(with_extends(loaded))
        return Loaded(loaded.doc.model, containers)
    if kind == "dockerfile":
        from rewriter.surfaces import dockerfile  # lazy: start-up

        image = dockerfile.load(src)
        model = {"instructions": [ins.model() for ins in image.instructions]}
        return Loaded(lambda: model, [], [image], {ins.scope: ins.span for ins in image.instructions})
    if kind == "compose-override":
        from rewriter.surfaces import compose, compose_override  # lazy: start-up
        from rewriter.surfaces.compose_extends import with_extends  # lazy: start-up

        if companion is None:
            raise DockfixError("an override file needs its base Compose file", path=src.path)
        base = compose.load(companion)
        over = compose.load(src)
        services = compose_override.overlay(over, base, with_extends(base))
        return Loaded(over.doc.model, list(services))
    if kind == "shell":
        from rewriter.surfaces import shell  # lazy: start-up

        script = shell.load(src)
        return Loaded(script.model, list(script.containers))
    if kind == "python":
        from rewriter.surfaces import python_sdk  # lazy: start-up

        module = python_sdk.load(src)
        return Loaded(module.model, list(module.containers))
    if kind == "kubernetes":
        from rewriter.surfaces import kubernetes  # lazy: start-up

        manifests = kubernetes.load(src)
        notes = ((kubernetes.HELM_CODE, kubernetes.HELM_NOTE),) if manifests.helm else ()
        return Loaded(manifests.model, list(manifests.containers), notes=notes)
    raise DockfixError(f"unsupported file kind '{kind}'", path=src.path)


def resolved_model(kind: str, src: SourceFile) -> object:
    """Parse ``src`` and return only its resolved model (the oracle's view). An override file is
    modelled as the Compose file it is."""
    if kind == "dockerfile":
        from rewriter.surfaces import dockerfile  # lazy: start-up

        return dockerfile.resolved_model(src)
    return load("compose" if kind == "compose-override" else kind, src).make_model()
