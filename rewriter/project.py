"""The project model: which Dockerfile and stages a Compose service is built from.

A Compose service with ``build:`` names a context directory, a Dockerfile in it, an optional
``target`` stage and build ``args``. The image is the target stage (or the last one) plus what
it copies from other stages (``COPY --from``, ``RUN --mount=...,from=``) and the stages it is
based on (``FROM <stage>``), with ``ARG`` defaults resolved in ``FROM`` and overridden by
``build.args``. What runs in the image is for the detectors (rewriter/detectors: Go from the
stages and the context's go.mod, JVM and the others from the bases and ``ENV``).

Every file is read once per run (cached by path, size and modification time); a file that
cannot be read or parsed just leaves the facts unknown.
"""

from __future__ import annotations

import functools
import os
import re

from rewriter import deps
from rewriter.errors import DockfixError
from rewriter.model import BuildSpec, Container
from rewriter.record import Record
from rewriter.settings import MEMORY, NOFILE, tmpfs

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.surfaces.dockerfile import DockerfileImage, Instruction

# Compiled on first use: a build without variables in FROM needs it not.
_VAR = functools.cache(lambda: re.compile(
    r"\$(?:\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"))
_COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml",
                  "compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml",
                  "docker-compose.override.yml")
USER_SEARCH_LEVELS = 3  # how many parent directories of a Dockerfile are searched for Compose files


class Stage(Record):
    __slots__ = ("number", "name", "base", "resolved", "line", "parent", "sources", "instructions")

    def __init__(self, number: int, name: str, base: str, resolved: str, line: int, parent: int | None,
                 sources: tuple[int, ...], instructions: tuple[Instruction, ...]) -> None:
        self.number = number  # 0-based stage index
        self.name = name  # lower-cased "AS" name, or ""
        self.base = base  # FROM image as written
        self.resolved = resolved  # with ARG values substituted
        self.line = line
        self.parent = parent  # the stage this one is FROM, if any
        self.sources = sources  # stages it copies or mounts from
        self.instructions = instructions

    @property
    def label(self) -> str:
        return f"stage '{self.name}'" if self.name else f"stage {self.number}"


class ImageBuild(Record):
    """A Compose service's build resolved to a Dockerfile."""

    __slots__ = ("path", "display", "image", "stages", "final", "chain", "used", "context", "root")

    def __init__(self, path: str, display: str, image: DockerfileImage, stages: tuple[Stage, ...],
                 final: int, chain: tuple[int, ...], used: tuple[int, ...], context: str = "",
                 root: str = "") -> None:
        self.path = path  # the Dockerfile, as a path usable with open() ("" for dockerfile_inline)
        self.display = display  # the Dockerfile path as shown in messages (relative to the Compose file)
        self.image = image
        self.stages = stages
        self.final = final
        self.chain = chain  # the final stage and the stages it is FROM (what the image contains)
        self.used = used  # chain plus every stage it copies from, transitively
        self.context = context  # the build context directory (go.mod is read there)
        self.root = root  # the repository of the file that names the build: nothing outside is read


class DockerfileUser(Record):
    __slots__ = ("compose_path", "service", "spec", "sets")

    def __init__(self, compose_path: str, service: str, spec: BuildSpec,
                 sets: frozenset[str] = frozenset()) -> None:
        self.compose_path = compose_path
        self.service = service
        self.spec = spec
        self.sets = sets  # runtime settings it has: "nofile", "tmpfs", "memory"


# -- small parsers ----------------------------------------------------------------------------------


def substitute(text: str, values: dict[str, str]) -> str:
    """Expand ``$A``, ``${A}``, ``${A:-x}``, ``${A-x}``, ``${A:+x}`` the way BuildKit does for FROM."""

    def repl(m: re.Match[str]) -> str:
        name = m.group("name") or m.group("bare")
        op, word = m.group("op"), m.group("word") or ""
        value = values.get(name)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return substitute(word, values)
            return value
        if op in (":+", "+"):
            return substitute(word, values) if value else ""
        return value or ""

    return _VAR().sub(repl, text) if "$" in text else text


# -- stages ---------------------------------------------------------------------------------------


def stages_of(image: DockerfileImage, args: dict[str, str | None]) -> tuple[Stage, ...]:
    """The build stages, with FROM resolved against global ARGs (overridden by ``args``)."""
    globals_: dict[str, str] = {}
    stages: list[Stage] = []
    names: dict[str, int] = {}
    current: list[Instruction] = []
    pending: dict[str, object] | None = None

    def close() -> None:
        if pending is None:
            return
        sources = tuple(sorted({n for n in (_stage_ref(r, names, len(stages)) for r in _from_refs(current))
                                if n is not None}))
        stages.append(Stage(len(stages), str(pending["name"]), str(pending["base"]),
                            str(pending["resolved"]), int(str(pending["line"])),
                            pending["parent"] if isinstance(pending["parent"], int) else None,
                            sources, tuple(current)))
        if pending["name"]:
            names[str(pending["name"])] = len(stages) - 1

    for ins in image.instructions:
        if ins.cmd == "FROM":
            close()
            words = list(ins.value)
            base = words[0] if words else ""
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else ""
            resolved = substitute(base, globals_)
            parent = names.get(resolved.lower())
            if parent is None and resolved.isdigit() and int(resolved) < len(stages):
                parent = int(resolved)
            pending = {"name": name, "base": base, "resolved": resolved, "line": ins.start_line,
                       "parent": parent}
            current = [ins]
            continue
        if pending is None:
            if ins.cmd == "ARG":
                for word in ins.value:
                    key, sep, default = word.partition("=")
                    override = args.get(key)
                    if override is not None:
                        globals_[key] = override
                    elif sep:
                        globals_[key] = _unquote(default)
            continue
        current.append(ins)
    close()
    return tuple(stages)


def _from_refs(instructions: list[Instruction]) -> list[str]:
    refs: list[str] = []
    for ins in instructions:
        for flag in ins.flags:
            if ins.cmd in ("COPY", "ADD") and flag.startswith("--from="):
                refs.append(flag[len("--from="):])
            elif ins.cmd == "RUN" and flag.startswith("--mount="):
                for part in flag[len("--mount="):].split(","):
                    if part.startswith("from="):
                        refs.append(part[len("from="):])
    return refs


def _stage_ref(ref: str, names: dict[str, int], count: int) -> int | None:
    if ref.lower() in names:
        return names[ref.lower()]
    if ref.isdigit() and int(ref) < count:
        return int(ref)
    return None


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def closure(stages: tuple[Stage, ...], final: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(chain of FROM parents from ``final``, every stage the image needs)."""
    chain: list[int] = []
    n: int | None = final
    while n is not None and n not in chain:
        chain.append(n)
        n = stages[n].parent
    used: list[int] = []
    todo = [final]
    while todo:
        n = todo.pop()
        if n in used:
            continue
        used.append(n)
        stage = stages[n]
        if stage.parent is not None:
            todo.append(stage.parent)
        todo.extend(stage.sources)
    return tuple(chain), tuple(sorted(used))


# -- files, cached per run -------------------------------------------------------------------------


MAX_PROJECT_FILE_BYTES = 1024 * 1024  # a Dockerfile, go.mod or Compose file read for facts


def stat_key(path: str, root: str) -> tuple[str, str, int, int] | None:
    """(path, root, mtime, size) of a file inside ``root``, or None (missing, or outside: a file
    outside the repository is neither read nor looked at)."""
    from rewriter.safefs import inside  # lazy: start-up

    if not inside(path, root):
        return None
    deps.touch(path)  # looked for, found or not: the result depends on it
    try:
        st = os.lstat(path)  # never through a link: reading refuses one anyway
    except OSError:
        return None
    return os.path.abspath(path), root, st.st_mtime_ns, st.st_size


def read_text(path: str, root: str) -> str | None:
    """The file's text, read by the repository rule (:mod:`rewriter.safefs`: inside ``root``,
    the root of the file that names it; no link; a regular file; at most 1 MB), or None: the
    facts it would give stay unknown."""
    from rewriter import safefs  # lazy: start-up

    try:
        return safefs.read_bytes(path, root, MAX_PROJECT_FILE_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


@functools.lru_cache(maxsize=256)
def _dockerfile_cached(path: str, root: str, mtime: int, size: int) -> DockerfileImage | None:
    text = read_text(path, root)
    return None if text is None else _parse_dockerfile(path, text)


def _parse_dockerfile(path: str, text: str) -> DockerfileImage | None:
    from rewriter.source import SourceFile  # lazy: start-up
    from rewriter.surfaces import dockerfile  # lazy: start-up

    try:
        return dockerfile.load(SourceFile.from_text(path, text))
    except DockfixError:
        return None


def load_dockerfile(path: str, root: str) -> DockerfileImage | None:
    key = stat_key(path, root)
    if key is None or not os.path.isfile(path):
        return None
    return _dockerfile_cached(*key)


def _is_remote(context: str) -> bool:
    return "://" in context or context.startswith(("git@", "github.com/"))


def resolve_build(compose_path: str, spec: BuildSpec) -> ImageBuild | None:
    """The Dockerfile, stages and Go facts of a Compose service's build, or None if unknown."""
    if _is_remote(spec.context):
        return None
    from rewriter.safefs import root_for  # lazy: start-up

    base = os.path.dirname(os.path.abspath(compose_path)) if compose_path not in ("", "-") else os.getcwd()
    root = root_for(base)  # the Compose file's repository: nothing outside it is read
    context = os.path.normpath(os.path.join(base, spec.context))
    if spec.dockerfile_inline is not None:
        image = _parse_dockerfile("", spec.dockerfile_inline)
        path, display = "", "dockerfile_inline"
    else:
        name = spec.dockerfile or "Dockerfile"
        path = os.path.normpath(os.path.join(context, name))
        image = load_dockerfile(path, root)
        display = os.path.relpath(path, base)
    if image is None:
        return None
    return build_from(image, path, display, context, spec, root)


def build_from(image: DockerfileImage, path: str, display: str, context: str,
               spec: BuildSpec, root: str) -> ImageBuild | None:
    stages = stages_of(image, dict(spec.args))
    if not stages:
        return None
    final = len(stages) - 1
    if spec.target:
        named = [s.number for s in stages if s.name == spec.target.lower()]
        if not named:
            return None
        final = named[0]
    chain, used = closure(stages, final)
    return ImageBuild(path, display, image, stages, final, chain, used, context, root)


@functools.lru_cache(maxsize=128)
def compose_services(path: str, root: str, mtime: int, size: int) -> tuple[Container, ...]:
    """The services of the Compose file at ``path`` (read inside ``root``; ``mtime`` and ``size``
    from :func:`stat_key` make the cache see a changed file), or none when it cannot be read."""
    from rewriter.source import SourceFile  # lazy: start-up
    from rewriter.surfaces import compose  # lazy: start-up

    text = read_text(path, root)
    if text is None:
        return ()
    try:
        return tuple(compose.load(SourceFile.from_text(path, text)).services)
    except DockfixError:
        return ()


@functools.lru_cache(maxsize=128)
def _compose_users_cached(path: str, root: str, mtime: int, size: int) -> tuple[DockerfileUser, ...]:
    out = []
    for service in compose_services(path, root, mtime, size):
        spec = service.build()
        if spec is not None:
            sets = {name for name, present in (
                ("nofile", service.get(NOFILE) is not None),
                ("tmpfs", bool(service.find(tmpfs("/tmp")))),
                ("memory", bool(service.find(MEMORY)))) if present}
            out.append(DockerfileUser(path, service.name, spec, frozenset(sets)))
    return tuple(out)


def users_of(dockerfile_path: str) -> list[DockerfileUser]:
    """Compose services (in this directory or up to three above) that build this Dockerfile."""
    if dockerfile_path in ("", "-"):
        return []
    from rewriter.safefs import inside, root_of_file  # lazy: start-up

    target = os.path.realpath(dockerfile_path)
    directory = os.path.dirname(os.path.abspath(dockerfile_path))
    root = root_of_file(dockerfile_path)
    found: list[DockerfileUser] = []
    for _ in range(USER_SEARCH_LEVELS + 1):
        if not inside(directory, root):
            break  # never above the repository root
        for name in _COMPOSE_NAMES:
            candidate = os.path.join(directory, name)
            key = stat_key(candidate, root)
            if key is None:
                continue
            for user in _compose_users_cached(*key):
                if user.spec.dockerfile_inline is not None or _is_remote(user.spec.context):
                    continue
                context = os.path.join(directory, user.spec.context)
                if os.path.realpath(os.path.join(context, user.spec.dockerfile or "Dockerfile")) == target:
                    found.append(user)
        if os.path.exists(os.path.join(directory, ".git")):
            break
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return found


def user_builds(image: DockerfileImage, path: str) -> list[tuple[DockerfileUser, ImageBuild]]:
    """Each Compose service that builds this Dockerfile, with its build of the current text."""
    display = os.path.basename(path) if path not in ("", "-") else "Dockerfile"
    out = []
    from rewriter.safefs import root_for  # lazy: start-up

    for user in users_of(path):
        base = os.path.dirname(os.path.abspath(user.compose_path))
        built = build_from(image, path, display, os.path.normpath(os.path.join(base, user.spec.context)),
                           user.spec, root_for(base))
        if built is not None:
            out.append((user, built))
    return out


def standalone_build(image: DockerfileImage, path: str) -> ImageBuild | None:
    """A Dockerfile's build as its first Compose user builds it, else ``docker build .`` beside it."""
    for _, built in user_builds(image, path):
        return built
    display = os.path.basename(path) if path not in ("", "-") else "Dockerfile"
    from rewriter.safefs import root_for  # lazy: start-up

    directory = os.path.dirname(os.path.abspath(path)) if path not in ("", "-") else os.getcwd()
    return build_from(image, path, display, directory, BuildSpec(), root_for(directory))


def chain_instructions(built: ImageBuild) -> set[int]:
    """Indexes of the instructions that end up in the image (the final stage and its parents)."""
    return {ins.index for n in built.chain for ins in built.stages[n].instructions}


__all__ = ["DockerfileUser", "ImageBuild", "Stage", "read_text", "resolve_build", "stages_of", "stat_key",
           "standalone_build", "substitute", "users_of"]
