"""Go facts that need no file: is an image a golang image, which Go its tag names.

Kept apart from :mod:`rewriter.project` (which reads Dockerfiles and go.mod files) so that a
Compose file whose services only name images never loads the project model.
"""

from __future__ import annotations

import functools
import re

from rewriter.record import Record

GoVersion = tuple[int, int]

_TAG_VERSION = functools.cache(lambda: re.compile(r"^(\d+)\.(\d+)"))  # first use: golang images only


class GoFacts(Record):
    """Whether an image is Go, and which Go version governs its runtime defaults."""

    __slots__ = ("is_go", "evidence", "version", "version_source", "note")

    def __init__(self, is_go: bool, evidence: str = "", version: GoVersion | None = None,
                 version_source: str = "", note: str = "") -> None:
        self.is_go = is_go
        self.evidence = evidence  # why: "stage 'build' uses golang:1.24 (Dockerfile:3)"
        self.version = version
        self.version_source = version_source  # "go.mod line 3" / "image golang:1.24 (Dockerfile:3)" / "config"
        self.note = note  # e.g. go.mod and image tag disagree

    def version_text(self) -> str:
        if self.version is None:
            return "unknown"
        return f"{self.version[0]}.{self.version[1]}"

    def described(self) -> str:
        """``Go 1.24 (go.mod line 3)``."""
        if self.version is None:
            return "Go (version unknown)"
        return f"Go {self.version_text()} ({self.version_source})"


def split_image(ref: str) -> tuple[str, str]:
    """(repository, tag) of an image reference; the digest is dropped, a missing tag is ''."""
    ref = ref.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, ""


def is_golang_image(ref: str) -> bool:
    repo, _ = split_image(ref)
    return repo.rsplit("/", 1)[-1] == "golang"


def tag_version(ref: str) -> GoVersion | None:
    _, tag = split_image(ref)
    m = _TAG_VERSION().match(tag)
    return (int(m.group(1)), int(m.group(2))) if m else None
