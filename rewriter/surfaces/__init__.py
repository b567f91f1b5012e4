"""One module per file kind. Each finds the containers in a document and turns wanted settings
into span edits. This module is the only place that maps a kind name to its surface; surfaces
are imported lazily so that a Compose-only run never pays for libcst or a Dockerfile parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rewriter.errors import DockfixError
from rewriter.model import Container, Span
from rewriter.source import SourceFile

KINDS = ("compose", "compose-override", "dockerfile", "shell", "python")


@dataclass
class Loaded:
    make_model: Callable[[], object]  # the resolved model the oracle compares, built on demand
    containers: list[Container]
    images: list[object] = field(default_factory=list)  # Dockerfiles (DockerfileImage)
    scopes: dict[str, Span] = field(default_factory=dict)  # suppression anchors beyond containers


def load(kind: str, src: SourceFile, companion: SourceFile | None = None) -> Loaded:
    """``companion`` is the base Compose file when ``kind`` is ``compose-override``."""
    if kind == "compose":
        from rewriter.surfaces import compose

        loaded = compose.load(src)
        containers: list[Container] = list(loaded.services)
        if "extends" in src.text:
            from rewriter.surfaces.compose_override import with_extends

            containers = with_extends(loaded)  # type: ignore[assignment]
        return Loaded(loaded.doc.model, containers)
    if kind == "dockerfile":
        from rewriter.surfaces import dockerfile

        image = dockerfile.load(src)
        model = {"instructions": [ins.model() for ins in image.instructions]}
        return Loaded(lambda: model, [], [image], {ins.scope: ins.span for ins in image.instructions})
    if kind == "compose-override":
        from rewriter.surfaces import compose_override

        if companion is None:
            raise DockfixError("an override file needs its base Compose file", path=src.path)
        over, services = compose_override.load(src, companion)
        return Loaded(over.doc.model, list(services))
    if kind == "shell":
        from rewriter.surfaces import shell

        script = shell.load(src)
        return Loaded(script.model, list(script.containers))
    if kind == "python":
        from rewriter.surfaces import python_sdk

        module = python_sdk.load(src)
        return Loaded(module.model, list(module.containers))
    raise DockfixError(f"unsupported file kind '{kind}'", path=src.path)


def resolved_model(kind: str, src: SourceFile) -> object:
    """Parse ``src`` and return only its resolved model (the oracle's view)."""
    if kind in ("compose", "compose-override"):
        from rewriter.yamlview import parse_yaml

        return parse_yaml(src).model()
    if kind == "dockerfile":
        from rewriter.surfaces import dockerfile

        return dockerfile.resolved_model(src)
    if kind in ("shell", "python"):
        return load(kind, src).make_model()
    raise DockfixError(f"unsupported file kind '{kind}'", path=src.path)
