"""Go workloads: whether a container runs Go, and which Go version governs its runtime defaults.

A detector over the project model: service -> build (:class:`rewriter.project.ImageBuild`) ->
stages -> ``go.mod`` or image. A service is Go when a stage its image needs (the target stage,
or the last, the stages it is ``FROM`` and every stage it copies from) uses a ``golang`` image or
runs ``go build``/``go install``. Its Go version is the ``go`` line of ``go.mod`` in the build
context, which governs the GODEBUG defaults such as container-aware GOMAXPROCS, or else the
golang image's tag (``ARG`` defaults and ``build.args`` resolved). A service without a build is
Go when its image is a ``golang`` image. ``[tool.dockfix.services.NAME] go`` and ``go-version``
in the config come last and win.

Unlike the detectors of :func:`rewriter.detectors.detect` (which read the image name, the
environment and the command, and return :class:`~rewriter.detectors.WorkloadFacts`), this one
reads the build, so it returns its own record (:class:`rewriter.golang.GoFacts`). It is on the
path of every Compose run: the project model is imported only for a service that has a build.
"""

from __future__ import annotations

import functools
import os
import re

from rewriter.golang import GoFacts, GoVersion, is_golang_image, tag_version

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.profiles import ServiceConfig
    from rewriter.project import ImageBuild, Stage
    from rewriter.surfaces.dockerfile import Instruction

# Compiled on first use: a Compose file without a build needs neither.
_GO_BUILD = functools.cache(lambda: re.compile(r"(?:^|[\s;&|(])go\s+(?:build|install)\b"))
_GO_LINE = functools.cache(lambda: re.compile(
    r"^go[ \t]+(\d+)\.(\d+)(?:\.\d+)?(?:[ \t]*//.*)?[ \t]*\r?$", re.MULTILINE))


def detect(image: str | None, built: ImageBuild | None, config: ServiceConfig | None) -> GoFacts:
    """Whether the container runs Go and which version: its build, else its image, then the
    config (``go = false`` turns detection off, ``go = true`` and ``go-version`` supply facts)."""
    facts = of_build(built) if built is not None else GoFacts(False)
    if not facts.is_go and image is not None and built is None and is_golang_image(image):
        version = tag_version(image)
        facts = GoFacts(True, f"image {image}", version, f"image {image}" if version else "")
    if config is not None:
        if config.go is False:
            return GoFacts(False)
        if config.go and not facts.is_go:
            facts = GoFacts(True, "marked go = true in the config")
        if config.go_version is not None and facts.is_go:
            facts = GoFacts(True, facts.evidence, config.go_version, "go-version in the config")
    return facts


def of_build(built: ImageBuild) -> GoFacts:
    """The Go facts of an image build: its stages, and the go.mod of its context."""
    go_mod = None
    mod = read_go_mod(built.context, built.root) if built.context and built.root else None
    if mod is not None:
        where = os.path.relpath(os.path.join(built.context, "go.mod"),
                                os.path.dirname(built.path) if built.path else built.context)
        go_mod = (mod[0], mod[1], where if built.path else "go.mod")
    return go_facts(built.stages, built.used, built.display, go_mod)


def go_mod_version(text: str) -> tuple[GoVersion, int] | None:
    """The ``go`` line of a go.mod: (version, line number)."""
    m = _GO_LINE().search(text)
    if not m:
        return None
    return (int(m.group(1)), int(m.group(2))), text.count("\n", 0, m.start()) + 1


def runs_go_build(ins: Instruction) -> bool:
    if ins.cmd != "RUN":
        return False
    return any(_GO_BUILD().search(part) for part in ins.value + ins.heredocs)


def go_facts(stages: tuple[Stage, ...], used: tuple[int, ...], display: str,
             go_mod: tuple[GoVersion, int, str] | None) -> GoFacts:
    """Decide whether the image is Go and which version governs its runtime defaults."""
    evidence = ""
    tag: tuple[GoVersion, str] | None = None
    for n in used:
        stage = stages[n]
        if is_golang_image(stage.resolved):
            if not evidence:
                evidence = f"{stage.label} uses {stage.resolved} ({display}:{stage.line})"
            version = tag_version(stage.resolved)
            if version is not None and (tag is None or version > tag[0]):
                tag = (version, f"image {stage.resolved}, {display}:{stage.line}")
        for ins in stage.instructions:
            if not evidence and runs_go_build(ins):
                evidence = f"{stage.label} runs go build ({display}:{ins.start_line})"
    if not evidence:
        return GoFacts(False)
    if go_mod is not None:
        version, line, where = go_mod
        note = ""
        if tag is not None and tag[0] != version:
            note = (f"go.mod says go {version[0]}.{version[1]} and the image is "
                    f"{tag[0][0]}.{tag[0][1]}; the go.mod line governs the runtime defaults")
        return GoFacts(True, evidence, version, f"'go {version[0]}.{version[1]}' in {where} line {line}", note)
    if tag is not None:
        return GoFacts(True, evidence, tag[0], tag[1])
    return GoFacts(True, evidence)


@functools.lru_cache(maxsize=256)
def _go_mod_cached(path: str, root: str, mtime: int, size: int) -> tuple[GoVersion, int] | None:
    from rewriter.project import read_text  # lazy: start-up

    text = read_text(path, root)
    return None if text is None else go_mod_version(text)


def read_go_mod(context: str, root: str) -> tuple[GoVersion, int] | None:
    """The ``go`` line of ``context/go.mod``, read once per run (by path, size and time) and only
    inside ``root``, the repository of the file that names the build."""
    from rewriter.project import stat_key  # lazy: start-up

    key = stat_key(os.path.join(context, "go.mod"), root)
    return None if key is None else _go_mod_cached(*key)
