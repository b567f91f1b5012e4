"""What the repository says about a Kubernetes manifest's images: which ones it builds, and how.

A manifest names images; the repository may build them. A container whose image a Compose
service builds (``build:`` with the same ``image:``; Compose tags the build with it), or a
``skaffold.yaml`` artifact builds (``image`` with its ``context`` and ``docker.dockerfile``), gets
that build's Dockerfile, stages and Go facts, as a Compose service that only names the image does
(rewriter/detectors/image.py ``link_image`` takes the builds found here as its siblings). A
``ko://`` image, or a skaffold artifact built with ``ko``, is a Go program: ko builds nothing else;
its Go version is the ``go`` line of the ``go.mod`` whose ``module`` the import path is in.

Compose and skaffold files are looked for in the manifest's directory and each one above it up to
the repository root (at most :data:`SEARCH_LEVELS`), read by the repository rule
(rewriter/safefs.py) and parsed once per run.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

from rewriter import deps
from rewriter.errors import DockfixError
from rewriter.golang import split_image
from rewriter.model import BuildSpec
from rewriter.project import _COMPOSE_NAMES, compose_services, read_text, stat_key

SEARCH_LEVELS = 4
SKAFFOLD_NAMES = ("skaffold.yaml", "skaffold.yml")
KO_PREFIX = "ko://"

TYPE_CHECKING = False
if TYPE_CHECKING:
    Builder = tuple[str, str | None, BuildSpec | None]


def _directories(manifest_path: str) -> list[tuple[str, str]]:
    """(directory, root) from the manifest's own up to the repository root."""
    from rewriter.safefs import inside, root_of_file  # lazy: start-up

    if manifest_path in ("", "-"):
        return []
    root = root_of_file(manifest_path)
    directory = os.path.dirname(os.path.abspath(manifest_path))
    out: list[tuple[str, str]] = []
    for _ in range(SEARCH_LEVELS + 1):
        if not inside(directory, root):
            break
        out.append((directory, root))
        parent = os.path.dirname(directory)
        if directory == root or parent == directory:
            break
        directory = parent
    return out


@functools.lru_cache(maxsize=64)
def _compose_builds(path: str, root: str, mtime: int, size: int) -> tuple[tuple[str, str, BuildSpec], ...]:
    """(service, image, build as written) of each Compose service with both ``build`` and ``image``."""
    out = []
    for service in compose_services(path, root, mtime, size):
        spec, image = service.build(), service.image()
        if spec is not None and image and "$" not in image:
            out.append((service.name, image, spec))
    return tuple(out)


def _models(path: str, root: str) -> list[object]:
    """The resolved model of each document of a YAML file the repository names (read by the
    repository rule); none when it cannot be read or parsed: the facts it would give stay unknown."""
    from rewriter.source import SourceFile  # lazy: start-up
    from rewriter.yamlview import parse_yaml_all  # lazy: start-up

    text = read_text(path, root)
    if text is None:
        return []
    try:
        return [doc.model() for doc in parse_yaml_all(SourceFile.from_text(path, text))]
    except DockfixError:
        return []


@functools.lru_cache(maxsize=64)
def _skaffold_builds(path: str, root: str, mtime: int, size: int) -> tuple[tuple[str, BuildSpec | None], ...]:
    """(image, build) of each skaffold artifact: a Dockerfile build, or None for ko (Go)."""
    out: list[tuple[str, BuildSpec | None]] = []
    for model in _models(path, root):
        build = model.get("build") if isinstance(model, dict) else None
        artifacts = build.get("artifacts") if isinstance(build, dict) else None
        for artifact in artifacts if isinstance(artifacts, list) else []:
            if not isinstance(artifact, dict) or not isinstance(artifact.get("image"), str):
                continue
            image = str(artifact["image"])
            if "ko" in artifact:
                out.append((image, None))
                continue
            context = artifact.get("context")
            docker = artifact.get("docker")
            dockerfile = docker.get("dockerfile") if isinstance(docker, dict) else None
            target = docker.get("target") if isinstance(docker, dict) else None
            out.append((image, BuildSpec(context=str(context) if isinstance(context, str) else ".",
                                         dockerfile=str(dockerfile) if isinstance(dockerfile, str) else None,
                                         target=str(target) if isinstance(target, str) else None)))
    return tuple(out)


def builders(manifest_path: str) -> tuple[Builder, ...]:
    """The repository's image builds near a manifest as (label, image, build), the build's
    context made relative to the manifest's directory; a ko artifact's build is None."""
    out: list[Builder] = []
    here = os.path.dirname(os.path.abspath(manifest_path)) if manifest_path not in ("", "-") else ""
    for directory, root in _directories(manifest_path):
        for name in _COMPOSE_NAMES:
            key = stat_key(os.path.join(directory, name), root)
            if key is None:
                continue
            shown = os.path.relpath(key[0], here)
            for service, image, spec in _compose_builds(*key):
                out.append((f"service '{service}' of {shown}", image, _relative(spec, directory, here)))
        for name in SKAFFOLD_NAMES:
            key = stat_key(os.path.join(directory, name), root)
            if key is None:
                continue
            shown = os.path.relpath(key[0], here)
            for image, maybe in _skaffold_builds(*key):
                out.append((f"an artifact of {shown}", image,
                            _relative(maybe, directory, here) if maybe is not None else None))
    return tuple(out)


def _relative(spec: BuildSpec, directory: str, here: str) -> BuildSpec:
    """``spec`` (relative to ``directory``) with its context relative to ``here`` instead."""
    if spec.dockerfile_inline is not None or "://" in spec.context:
        return spec
    context = os.path.relpath(os.path.normpath(os.path.join(directory, spec.context)), here)
    return spec.replace(context=context)


def unqualified(image: str, builds: tuple[Builder, ...]) -> str:
    """``image`` without its registry host when a build names it so: a manifest pulls
    ``registry.example.com/example/api:1.4``, Compose tags its build ``example/api:dev``."""
    first, _, rest = image.partition("/")
    if not rest or not ("." in first or ":" in first or first == "localhost"):
        return image
    repository = split_image(rest)[0]
    if any(other is not None and split_image(other)[0] == repository for _, other, _ in builds):
        return rest
    return image


def ko_built(manifest_path: str, image: str, around: tuple[Builder, ...] | None = None) -> str:
    """Why ``image`` is a ko build ('' when it is not): a ``ko://`` reference, or an image a
    skaffold artifact builds with ko."""
    if image.startswith(KO_PREFIX):
        return f"image '{image}' is built by ko, which builds Go programs"
    for label, other, spec in around if around is not None else builders(manifest_path):
        if spec is None and other is not None and split_image(other)[0] == split_image(image)[0]:
            return f"{label} builds '{other}' with ko, which builds Go programs"
    return ""


def ko_go_mod(manifest_path: str, image: str) -> tuple[str, str] | None:
    """The ``go.mod`` that governs a ``ko://`` import path, as (its path shown from the manifest,
    its text): the nearest one (the manifest's directory and those above it) whose ``module``
    contains the path; rewriter/detectors/go.py reads its ``go`` line."""
    wanted = image[len(KO_PREFIX):] if image.startswith(KO_PREFIX) else ""
    here = os.path.dirname(os.path.abspath(manifest_path)) if manifest_path not in ("", "-") else ""
    for directory, root in _directories(manifest_path):
        path = os.path.join(directory, "go.mod")
        key = stat_key(path, root)
        if key is None:
            continue
        text = read_text(path, root)
        if text is None:
            continue
        module = next((line.split()[1] for line in text.splitlines()
                       if line.startswith("module ") and len(line.split()) > 1), "")
        if wanted and module and not (wanted == module or wanted.startswith(module + "/")):
            continue
        return os.path.relpath(path, here), text
    deps.touch(here)
    return None


# -- kustomize: overlays patch a base -------------------------------------------------------------

# Which rule families a patch's setting decides, by code prefix (as compose_merge.FAMILIES does
# for Compose overlays): a family an overlay sets is left to the overlay.
PATCH_FAMILIES = {"memory": ("DF3", "DF5"), "cpu": ("DF5",), "env": ("DF5",), "tmp": ("DF1",)}


def in_kustomize(containers: Sequence[object], manifest_path: str) -> None:
    """Tell each container of a manifest what kustomize does with it (rewriter/kustomize.py): the
    kustomization that names the file as a patch (then nothing is fixed in it: a value there
    overrides the base), the rule families an overlay's patch decides for it (left to that
    overlay), or why what an overlay makes of it cannot be told (then nothing is fixed on it)."""
    from rewriter import kustomize  # lazy: start-up
    from rewriter.surfaces.kubernetes import KubernetesContainer  # lazy: start-up

    root = kustomize.in_kustomize(manifest_path)
    mine = [c for c in containers if isinstance(c, KubernetesContainer)]
    if not root or not mine:
        return
    everything = kustomize.index(root)
    here = os.path.dirname(os.path.abspath(manifest_path))
    patch = kustomize.patch_of(manifest_path, everything)
    if patch:
        for container in mine:
            container.patch_of = os.path.relpath(patch, here)
        return
    workloads: dict[tuple[str, str], object] = {}
    for container in mine:
        workloads.setdefault((container.workload.kind, container.workload.name), container.workload.doc.model())
    listed = [(kind, name, model) for (kind, name), model in workloads.items() if isinstance(model, dict)]
    decided: dict[tuple[str, str, str], dict[str, str]] = {}
    uncertain: dict[tuple[str, str, str], str] = {}
    for chain in kustomize.chains(manifest_path, everything):
        build = f"the build of {os.path.relpath(chain[-1].directory, root) or '.'}"
        for key, effect in kustomize.effects(kustomize.applied(chain, everything), listed).items():
            if effect.uncertain:
                uncertain.setdefault(key, f"{effect.uncertain}, in {build}")
            for what, label in effect.labels.items():
                for family in PATCH_FAMILIES[what]:
                    decided.setdefault(key, {}).setdefault(family, f"{label}, in {build}")
    for container in mine:
        key = (container.workload.kind, container.workload.name, container.name)
        container.overlays = decided.get(key, {})
        container.uncertain = uncertain.get(key, "")


__all__ = ["builders", "in_kustomize", "ko_built", "ko_go_mod", "unqualified"]
