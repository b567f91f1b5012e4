"""One module per file kind. Each finds the containers in a document and turns wanted settings
into span edits. This module is the only place that maps a kind name to its surface; surfaces
are imported lazily so that a Compose-only run never pays for libcst or a Dockerfile parser.
"""

from __future__ import annotations

from dataclasses import dataclass

from rewriter.errors import DockfixError
from rewriter.model import Container
from rewriter.source import SourceFile

KINDS = ("compose", "compose-override", "shell", "python")


@dataclass
class Loaded:
    model: object  # the resolved model the oracle compares
    containers: list[Container]


def load(kind: str, src: SourceFile, companion: SourceFile | None = None) -> Loaded:
    """``companion`` is the base Compose file when ``kind`` is ``compose-override``."""
    if kind == "compose":
        from rewriter.surfaces import compose

        loaded = compose.load(src)
        return Loaded(loaded.doc.model(), list(loaded.services))
    if kind == "compose-override":
        from rewriter.surfaces import compose_override

        if companion is None:
            raise DockfixError("an override file needs its base Compose file", path=src.path)
        over, services = compose_override.load(src, companion)
        return Loaded(over.doc.model(), list(services))
    if kind == "shell":
        from rewriter.surfaces import shell

        script = shell.load(src)
        return Loaded(script.model(), list(script.containers))
    if kind == "python":
        from rewriter.surfaces import python_sdk

        module = python_sdk.load(src)
        return Loaded(module.model(), list(module.containers))
    raise DockfixError(f"unsupported file kind '{kind}'", path=src.path)


def resolved_model(kind: str, src: SourceFile) -> object:
    """Parse ``src`` and return only its resolved model (the oracle's view)."""
    if kind in ("compose", "compose-override"):
        from rewriter.yamlview import parse_yaml

        return parse_yaml(src).model()
    if kind in ("shell", "python"):
        return load(kind, src).model
    raise DockfixError(f"unsupported file kind '{kind}'", path=src.path)
