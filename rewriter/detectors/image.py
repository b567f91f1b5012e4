"""What an image keeps in /tmp, and which Dockerfile in the repository builds an ``image:``.

A tmpfs mounted on ``/tmp`` hides whatever the image has there: an nginx template an entrypoint
renders, an agent jar, a directory the program runs in. The image's content is read from the
stages that end up in it (the final stage and the stages it is ``FROM``):

- ``COPY``/``ADD`` with a destination under ``/tmp``;
- ``RUN`` that names a path under ``/tmp`` and does not remove it again in the same
  instruction (``curl -o /tmp/x.tgz ... && rm /tmp/x.tgz`` leaves nothing behind);
- ``WORKDIR /tmp`` (the program runs there) and ``VOLUME /tmp`` (a volume is already there).

A service that only names an image still has a Dockerfile when the repository builds that image.
It is linked when the repository says so: another service in the same file builds the same image
name (Compose tags a built image with the service's ``image:``); ``Dockerfile.<name>``,
``<name>.Dockerfile`` or ``<name>/Dockerfile`` beside the Compose file, where ``<name>`` is the
image's last path component; or a ``docker build``/``docker buildx build`` with ``-t <image>`` in
a script, Makefile or GitHub workflow beside the Compose file or at the repository's root, or a
``docker buildx bake`` target with that tag in a ``docker-bake.hcl``/``docker-bake.json`` (and
their ``.override`` files) there.
"""

from __future__ import annotations

import functools
import os
import re

from rewriter import deps
from rewriter.detectors.facts import image_repository, repository_name
from rewriter.model import BuildSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rewriter.project import ImageBuild

TMP = "/tmp"
# Compiled on first use: most builds have no RUN, and few repositories have build scripts.
_TMP_PATH = functools.cache(lambda: re.compile(r"(?<![\w.$/-])/tmp(?:/[^\s;&|'\"`)>]*)?"))
_RM = functools.cache(lambda: re.compile(r"\brm\s+(?:-[a-zA-Z]+\s+)*([^;&|]*)"))
_BUILD = functools.cache(lambda: re.compile(r"\bdocker\s+(?:buildx\s+)?build\b"))


def _under_tmp(path: str) -> bool:
    path = path.strip("\"'")
    return path.rstrip("/") == TMP or path.startswith(TMP + "/")


def _run_leaves_files(text: str) -> str:
    """The first /tmp path a RUN writes and does not remove again; '' when none stays."""
    removed: list[str] = []
    for m in _RM().finditer(text):
        removed.extend(word.strip("\"'").rstrip("/") for word in m.group(1).split())
    for m in _TMP_PATH().finditer(text):
        path = m.group(0).rstrip("/")
        if path == TMP:
            continue  # "cd /tmp" or "-w /tmp": the directory itself is always there
        if any(path == r or path.startswith(r + "/") or (r.endswith("*") and path.startswith(r[:-1]))
               for r in removed):
            continue
        return path
    return ""


def tmp_contents(built: ImageBuild) -> str:
    """Why the image needs its own /tmp (``COPY default.conf.template /tmp/ (Dockerfile:7)``), or ''."""
    for n in reversed(built.chain):
        for ins in built.stages[n].instructions:
            where = f"{built.display}:{ins.start_line}"
            words = list(ins.value)
            if ins.cmd in ("COPY", "ADD") and len(words) >= 2 and _under_tmp(words[-1]):
                return f"{ins.cmd} {' '.join(words)} ({where}) puts files in /tmp"
            if ins.cmd == "WORKDIR" and words and _under_tmp(words[0]):
                return f"WORKDIR {words[0]} ({where}) runs the program in /tmp"
            if ins.cmd == "VOLUME" and any(_under_tmp(w) for w in words):
                return f"VOLUME {' '.join(words)} ({where}) makes /tmp a volume"
            if ins.cmd == "RUN":
                path = _run_leaves_files(" ".join(words + list(ins.heredocs)))
                if path:
                    return f"RUN ({where}) leaves {path} in the image"
    return ""


# -- linking an image: to the Dockerfile that builds it ---------------------------------------------


def link_image(compose_path: str, image: str,
               siblings: tuple[tuple[str, str | None, BuildSpec | None], ...]) -> tuple[ImageBuild, str] | None:
    """The build of ``image`` in this repository and how the repository says so, or None.

    ``siblings`` are the other containers of the file as (label, image, build). Only a sibling
    links an image without a namespace (``nginx:1.27``): that is a Docker Hub official image, and
    a ``nginx/Dockerfile`` in the repository is more likely built under another name."""
    if not image or "$" in image or compose_path in ("", "-"):
        return None

    def resolve_build(path: str, spec: BuildSpec) -> ImageBuild | None:
        from rewriter.project import resolve_build as resolve  # lazy: start-up (only once something links)

        return resolve(path, spec)

    for label, other, spec in siblings:
        if spec is not None and other is not None and image_repository(other) == image_repository(image):
            built = resolve_build(compose_path, spec)
            if built is not None:
                return built, f"{label} builds {other}"
    if "/" not in image_repository(image):
        return None
    base = os.path.dirname(os.path.abspath(compose_path))
    name = repository_name(image)
    for candidate in (f"Dockerfile.{name}", f"{name}.Dockerfile", os.path.join(name, "Dockerfile")):
        spec = BuildSpec(context=os.path.dirname(candidate) or ".", dockerfile=os.path.basename(candidate))
        if os.path.isfile(os.path.join(base, candidate)):
            built = resolve_build(compose_path, spec)
            if built is not None:
                return built, f"{candidate} is named after the image"
        deps.touch(os.path.join(base, candidate))
    for script, context, dockerfile in build_commands(base) + bake_targets(base):
        if image_repository(image) in script[1]:
            spec = BuildSpec(context=os.path.relpath(context, base), dockerfile=dockerfile)
            built = resolve_build(compose_path, spec)
            if built is not None:
                return built, f"{os.path.relpath(script[0], base)} builds {script[1][0]}"
    return None


# -- docker buildx bake ------------------------------------------------------------------------------

BAKE_FILES = ("docker-bake.json", "docker-bake.override.json", "docker-bake.hcl", "docker-bake.override.hcl")
# ``^[ \t]*``, not ``^\s*``: under (?m) ``\s*`` ran from every line start over all the blank lines
# after it, so 300 KB of newlines took minutes (quadratic); a blank line is its own line start anyway.
# A list stops at the next ``[`` too, so that unclosed ``tags = [`` lines do not each scan to the end.
_HCL_TARGET = functools.cache(lambda: re.compile(r'(?m)^[ \t]*target\s+"([^"]+)"\s*\{'))
_HCL_STRING = functools.cache(lambda: re.compile(r'(?m)^[ \t]*(context|dockerfile)\s*=\s*"([^"]*)"'))
_HCL_LIST = functools.cache(lambda: re.compile(r'(?m)^[ \t]*(tags|inherits)\s*=\s*\[([^\][]*)\]'))


def _hcl_targets(text: str) -> dict[str, dict[str, object]]:
    """``target "name" { context = "..." dockerfile = "..." tags = [...] inherits = [...] }``
    blocks of a bake HCL file, literal strings only (a ``${VAR}`` value is left out: bake
    would read it from the environment, which dockfix does not).

    One pass: the next target is looked for after the end of the last one's body, so no
    character is scanned twice (each of 70,000 unclosed ``target "a" {`` lines used to scan to the
    end of the file)."""
    out: dict[str, dict[str, object]] = {}
    pos = 0
    while (m := _HCL_TARGET().search(text, pos)) is not None:
        depth, i, quoted = 1, m.end(), False
        while i < len(text) and depth:
            ch = text[i]
            if ch == '"' and text[i - 1] != "\\":
                quoted = not quoted
            elif not quoted:
                depth += {"{": 1, "}": -1}.get(ch, 0)
            i += 1
        pos = max(i, m.end())
        body = text[m.end():i - 1]
        fields: dict[str, object] = {}
        for key, value in _HCL_STRING().findall(body):
            if "${" not in value:
                fields[key] = value
        for key, items in _HCL_LIST().findall(body):
            fields[key] = [v for v in re.findall(r'"([^"]*)"', items) if "${" not in v]
        out[m.group(1)] = fields
    return out


def _json_targets(text: str) -> dict[str, dict[str, object]]:
    import json  # lazy: start-up

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # 200,000 ``[``: RecursionError, which failed the Compose file
        return {}
    targets = data.get("target") if isinstance(data, dict) else None
    return {k: v for k, v in targets.items() if isinstance(v, dict)} if isinstance(targets, dict) else {}


def _bake_field(targets: dict[str, dict[str, object]], name: str, key: str, depth: int = 0) -> object:
    """A target's field, else the one it inherits (the last parent that sets it wins, as in bake)."""
    target = targets.get(name, {})
    if key in target or depth > 8:
        return target.get(key)
    parents = target.get("inherits")
    for parent in reversed(parents if isinstance(parents, list) else []):
        found = _bake_field(targets, str(parent), key, depth + 1)
        if found is not None:
            return found
    return None


@functools.lru_cache(maxsize=32)
def bake_targets(directory: str) -> tuple[tuple[tuple[str, tuple[str, ...]], str, str | None], ...]:
    """``docker buildx bake`` targets beside ``directory``'s Compose file and at the repository's
    root that tag an image: ((bake file, tags), context, dockerfile), as ``build_commands``.
    bake's defaults: context ``.`` (the bake file's directory) and ``Dockerfile`` in it."""
    from rewriter.interpolation import read_text  # lazy: start-up

    found = []
    for root, repository in _roots(directory):
        for name in BAKE_FILES:
            path = os.path.join(root, name)
            deps.touch(path)
            if not os.path.isfile(path):
                continue
            text = read_text(path, repository)
            if text is None:
                continue
            targets = _json_targets(text) if name.endswith(".json") else _hcl_targets(text)
            for target in targets:
                tags = _bake_field(targets, target, "tags")
                context = _bake_field(targets, target, "context")
                dockerfile = _bake_field(targets, target, "dockerfile")
                if not isinstance(tags, list) or not tags:
                    continue
                context = context if isinstance(context, str) and "$" not in context else "."
                context_dir = os.path.normpath(os.path.join(root, context))
                found.append(((path, tuple(image_repository(str(t)) for t in tags)), context_dir,
                              dockerfile if isinstance(dockerfile, str) else None))
    return tuple(found)


def _roots(directory: str) -> list[tuple[str, str]]:
    """(directory, repository root) for the Compose file's directory and the repository's root
    (at most three levels up, and never above the root of :mod:`rewriter.safefs`: outside a git
    checkout the climb used to reach the directories above the repository and read their
    ``docker-bake.hcl`` and scripts)."""
    from rewriter.safefs import inside, root_for  # lazy: start-up

    root = root_for(directory)
    roots = [(directory, root)]
    up = directory
    for _ in range(3):
        if up == root or os.path.isdir(os.path.join(up, ".git")):
            break
        parent = os.path.dirname(up)
        if parent == up or not inside(parent, root):
            break
        up = parent
    if up != directory:
        roots.append((up, root))
    return roots


def _script_files(directory: str) -> list[tuple[str, str, str]]:
    """(script, the directory its relative paths start from, the repository root) beside a
    Compose file and at the root."""
    out: list[tuple[str, str, str]] = []
    for root, repository in _roots(directory):
        for sub in ("", "scripts", os.path.join(".github", "workflows")):
            folder = os.path.join(root, sub)
            deps.touch(folder)
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            for name in names:
                if (name in ("Makefile", "makefile", "GNUmakefile") or name.endswith((".sh", ".mk", ".bash"))
                        or (sub.endswith("workflows") and name.endswith((".yml", ".yaml")))):
                    out.append((os.path.join(folder, name), root, repository))  # scripts run from the root
    return out


MAX_SCRIPT_BYTES = 256 * 1024  # the part of a script searched for ``docker build -t``


@functools.lru_cache(maxsize=32)
def build_commands(directory: str) -> tuple[tuple[tuple[str, tuple[str, ...]], str, str | None], ...]:
    """``docker build`` commands near ``directory``: ((script, tags), context, dockerfile)."""
    from rewriter import safefs  # lazy: start-up

    found = []
    for path, start, repository in _script_files(directory):
        deps.touch(path)
        try:  # by the repository rule: a script linked to /dev/stdin, or a FIFO, blocked for ever
            text = safefs.read_head(path, MAX_SCRIPT_BYTES, repository).decode("utf-8", "replace")
        except OSError:
            continue
        if "build" not in text:
            continue
        for line in text.replace("\\\n", " ").splitlines():
            m = _BUILD().search(line)
            if m is None:
                continue
            words = line[m.end():].split("&&")[0].split(";")[0].split()
            tags: list[str] = []
            dockerfile: str | None = None
            context = ""
            i = 0
            while i < len(words):
                word = words[i].strip("\"'")
                if word in ("-t", "--tag", "-f", "--file") and i + 1 < len(words):
                    value = words[i + 1].strip("\"'")
                    if word in ("-t", "--tag"):
                        tags.append(image_repository(value))
                    else:
                        dockerfile = value
                    i += 2
                    continue
                if word.startswith(("--tag=", "--file=")):
                    key, _, value = word.partition("=")
                    if key == "--tag":
                        tags.append(image_repository(value))
                    else:
                        dockerfile = value
                elif not word.startswith("-"):
                    context = word
                i += 1
            if tags and context and "$" not in context:
                context_dir = os.path.normpath(os.path.join(start, context))
                relative = (os.path.relpath(os.path.normpath(os.path.join(start, dockerfile)), context_dir)
                            if dockerfile else None)
                found.append(((path, tuple(tags)), context_dir, relative))
    return tuple(found)
