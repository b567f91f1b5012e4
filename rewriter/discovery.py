"""Which files dockfix looks at, and what kind each one is."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator

from rewriter.record import Record

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.yamlview import YamlDocument

# ``compose.yaml``, ``docker-compose.yml``, ``compose.prod.yaml`` and the dash variants real
# projects use (``docker-compose-dev.yml``, ``compose-monitoring.yaml``)
COMPOSE_RE = re.compile(r"(^|/)(docker-)?compose([.-][^/]*)?\.ya?ml$")
# The rest are compiled on first use: format-on-save of a Compose file never needs them.
YAML_RE = functools.cache(lambda: re.compile(r"\.ya?ml$"))
WORKFLOW_RE = functools.cache(lambda: re.compile(r"(^|/)\.github/workflows/[^/]+\.ya?ml$"))
SHELL_RE = functools.cache(lambda: re.compile(r"\.(sh|bash)$"))
MAKEFILE_RE = functools.cache(lambda: re.compile(r"(^|/)(GNUmakefile|[Mm]akefile|[^/]+\.mk)$"))
PYTHON_RE = functools.cache(lambda: re.compile(r"\.py$"))
SHEBANG_RE = functools.cache(lambda: re.compile(r"^#!\s*\S*/(?:env\s+)?(?:ba|da|k|a)?sh\b"))
# identify's rule: "Dockerfile" or "Containerfile" as any dot-separated part of the name
DOCKERFILE_NAMES = {"Dockerfile", "Containerfile"}
NOT_DOCKERFILE_SUFFIXES = (".dockerignore", ".md", ".txt", ".py", ".sh", ".yml", ".yaml", ".json")
ALWAYS_SKIPPED = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__",
                  ".dockfix_cache", ".tox", ".nox", ".mypy_cache", ".pytest_cache"}
MAX_IGNORE_BYTES = 1024 * 1024  # a .gitignore is read whole; a bigger one is not a real one
# A Kubernetes manifest is told by content: ``apiVersion`` and ``kind`` as top-level keys (at the
# start of a line) of some document, in the first 64 KiB (a licence header fits many times over).
MANIFEST_HEAD = 64 * 1024
_API_VERSION = functools.cache(lambda: re.compile(r"^apiVersion:[ \t]*['\"]?[A-Za-z0-9][A-Za-z0-9.\-/]*", re.M))
_KIND = functools.cache(lambda: re.compile(r"^kind:[ \t]*['\"]?[A-Z][A-Za-z]+", re.M))


class Target(Record):
    __slots__ = ("path", "kind")

    def __init__(self, path: str, kind: str) -> None:
        self.path = path
        self.kind = kind


def kind_of(path: str, *, explicit: bool = False, file_type: str | None = None) -> str | None:
    """The kind of a file from its name; an explicitly named YAML file is taken as Compose."""
    if file_type:
        return file_type
    name = path.replace(os.sep, "/")
    if COMPOSE_RE.search(name):
        return "compose"
    if is_dockerfile_name(name):
        return "dockerfile"
    if WORKFLOW_RE().search(name) or SHELL_RE().search(name) or MAKEFILE_RE().search(name):
        return "shell"
    if PYTHON_RE().search(name):
        return "python"
    if YAML_RE().search(name) and _manifest_file(path):
        return "kubernetes"
    if explicit and YAML_RE().search(name):
        return "compose"
    if "." not in os.path.basename(name) and _shell_script(path, explicit):
        return "shell"
    return None


def looks_like_manifest(text: str) -> bool:
    """Whether a YAML text is a Kubernetes manifest: top-level ``apiVersion`` and ``kind`` (every
    object the API server accepts has both; a Compose file has neither)."""
    return "apiVersion" in text and "kind" in text and bool(_API_VERSION().search(text)) and \
        bool(_KIND().search(text))


def _manifest_file(path: str) -> bool:
    from rewriter import safefs  # lazy: start-up

    try:
        head = safefs.read_head(path, MANIFEST_HEAD)
    except OSError:
        return False
    return looks_like_manifest(head.decode("utf-8", "replace"))


def _shell_script(path: str, explicit: bool) -> bool:
    """An extension-less file is a shell script when it has a sh/bash shebang; one named
    explicitly also when it has no shebang at all."""
    from rewriter import safefs  # lazy: start-up

    try:
        # a FIFO, a device or a link (to /dev/stdin, say) is refused before it is opened
        head = safefs.read_head(path, 128)
    except OSError:
        return False
    if not head.startswith(b"#!"):
        return explicit and b"\x00" not in head
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    return bool(SHEBANG_RE().match(first))


def is_dockerfile_name(path: str) -> bool:
    """``Dockerfile``, ``Containerfile``, ``api.Dockerfile``, ``Dockerfile.dev``."""
    base = path.replace(os.sep, "/").rsplit("/", 1)[-1]
    if base.endswith(NOT_DOCKERFILE_SUFFIXES):
        return False
    return any(part in DOCKERFILE_NAMES for part in base.split("."))


class _Ignores:
    """.gitignore files met on the way down, each applying below its own directory. Kept by
    directory and looked up through a path's own ancestors: a list of every one met, each tested
    against every path, made the walk quadratic in the number of directories (8,000 directories
    with a .gitignore and a Dockerfile each: 4.6 s, and minutes for 100,000)."""

    def __init__(self) -> None:
        self.specs: dict[str, list[object]] = {}

    def load(self, directory: str) -> None:
        for name in (".gitignore", os.path.join(".git", "info", "exclude")):
            path = os.path.join(directory, name)
            if os.path.lexists(path):
                from rewriter import safefs  # lazy: start-up

                try:
                    lines = safefs.read_bytes(path, limit=MAX_IGNORE_BYTES).decode("utf-8", "replace").splitlines()
                except OSError:
                    continue
                from rewriter.gitignore import Spec  # lazy: start-up

                self.specs.setdefault(directory, []).append(Spec.from_lines(lines))

    def ignored(self, path: str, is_dir: bool) -> bool:
        base = os.path.dirname(path)
        while True:
            for spec in self.specs.get(base, ()):
                rel = os.path.relpath(path, base).replace(os.sep, "/")
                if spec.match_file(rel + ("/" if is_dir else "")):  # type: ignore[attr-defined]
                    return True
            parent = os.path.dirname(base)
            if parent == base:
                return False
            base = parent


def discover(paths: list[str], *, respect_gitignore: bool = True,
             exclude: tuple[str, ...] = (), file_type: str | None = None) -> Iterator[Target]:
    """Yield the files to process: explicit files as given, directories walked."""
    excluded = None
    if exclude:
        from rewriter.gitignore import Spec  # lazy: start-up

        excluded = Spec.from_lines(list(exclude))
    for root in paths:
        if os.path.isdir(root):
            yield from _walk(root, respect_gitignore, excluded, file_type)
        else:
            kind = kind_of(root, explicit=True, file_type=file_type)
            yield Target(root, kind or "unknown")


def walk_tree(top: str) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(top)``: top-down, the same order, ``dirnames`` pruned in place by the caller,
    links to directories listed but not followed, unreadable directories skipped. A loop with a
    stack: Python 3.11's ``os.walk`` recurses once per directory level, so a repository of 1,500
    nested directories raised RecursionError and ended the run with a traceback (exit 1)."""
    stack = [top]
    while stack:
        directory = stack.pop()
        dirnames: list[str] = []
        filenames: list[str] = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    (dirnames if is_dir else filenames).append(entry.name)
        except OSError:
            continue
        yield directory, dirnames, filenames
        for name in reversed(dirnames):
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                stack.append(path)


def _walk(root: str, respect_gitignore: bool, excluded: object, file_type: str | None) -> Iterator[Target]:
    ignores = _Ignores()
    found: list[Target] = []
    for directory, dirnames, filenames in walk_tree(root):
        if respect_gitignore:
            ignores.load(directory)
        keep = []
        for d in sorted(dirnames):
            full = os.path.join(directory, d)
            if d in ALWAYS_SKIPPED or os.path.islink(full):
                continue
            if respect_gitignore and ignores.ignored(full, True):
                continue
            if excluded is not None and excluded.match_file(os.path.relpath(full, root) + "/"):  # type: ignore[attr-defined]
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            full = os.path.join(directory, name)
            if os.path.islink(full):
                continue  # before kind_of, which reads extension-less files: never through a link
            kind = kind_of(full, file_type=None) if not file_type else (
                file_type if kind_of(full) else None)
            if kind is None:
                continue
            if respect_gitignore and ignores.ignored(full, False):
                continue
            if excluded is not None and excluded.match_file(os.path.relpath(full, root)):  # type: ignore[attr-defined]
                continue
            found.append(Target(os.path.normpath(full), kind))
    yield from found
    if not file_type or file_type == "compose":
        yield from _included(found, root, ignores if respect_gitignore else None, excluded)


def _included(found: list[Target], root: str, ignores: _Ignores | None, excluded: object) -> Iterator[Target]:
    """Compose files that a walked Compose file's top-level ``include:`` names, whatever their
    names (``include: [infra/db.yaml]``): their services run with the project, so a walk that
    kept only Compose names left them unchecked (compose-go's loader/testdata/combined). Only
    files inside the walked directory, not links, not ignored; includes of includes too."""
    seen = {t.path for t in found}
    queue = [t.path for t in found if t.kind == "compose"]
    top = os.path.abspath(root)
    while queue:
        for path in included_files(queue.pop(0)):
            rel = os.path.relpath(path, top)
            if path in seen or rel.startswith("..") or not YAML_RE().search(path):
                continue
            seen.add(path)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            if ignores is not None and ignores.ignored(path, False):
                continue
            if excluded is not None and excluded.match_file(rel):  # type: ignore[attr-defined]
                continue
            queue.append(path)
            yield Target(os.path.normpath(path), "compose")


def included_files(path: str) -> list[str]:
    """The files ``path``'s top-level ``include:`` names ([] when it names none or cannot be
    read or parsed: the file's own run reports that). Read inside the file's repository, as
    every file the repository names (``dockfix pr`` discovers in a worktree, not the cwd)."""
    from rewriter import safefs  # lazy: start-up
    from rewriter.errors import DockfixError  # lazy: start-up
    from rewriter.interpolation import read_text  # lazy: start-up
    from rewriter.source import SourceFile  # lazy: start-up
    from rewriter.yamlview import parse_yaml  # lazy: start-up

    text = read_text(path, safefs.root_of_file(path))
    if text is None or "include" not in text:
        return []
    try:
        doc = parse_yaml(SourceFile.from_text(path, text))
    except (DockfixError, RecursionError):
        return []
    return includes(doc, os.path.dirname(path))


def includes(doc: YamlDocument, directory: str) -> list[str]:
    """The files a Compose file's top-level ``include:`` names (short form, or ``path:`` as a
    string or a list), as absolute paths."""
    return [path for path, _ in include_entries(doc, directory)]


def include_entries(doc: YamlDocument, directory: str) -> list[tuple[str, str | None]]:
    """:func:`includes` with each file's ``project_directory`` (absolute; None when not set: the
    included file's own directory), which Compose resolves the included file's relative paths
    against (compose-go's testdata ``include/project-directory.yaml``)."""
    from rewriter.yamlview import is_mapping, is_scalar, is_sequence, resolved_entries  # lazy: start-up

    root = doc.root
    if root is None or not is_mapping(root):
        return []
    entry = resolved_entries(root).get("include")
    if entry is None or not is_sequence(entry.value):
        return []
    out: list[tuple[str, str | None]] = []
    for item in entry.value.value:
        paths = [item] if is_scalar(item) else []
        project: str | None = None
        if is_mapping(item):
            entries = resolved_entries(item)
            path = entries.get("path")
            if path is not None:
                paths = [path.value] if is_scalar(path.value) else (
                    list(path.value.value) if is_sequence(path.value) else [])
            named = entries.get("project_directory")
            if named is not None and is_scalar(named.value) and "$" not in str(named.value.value):
                project = os.path.normpath(os.path.join(directory, str(named.value.value)))
        out.extend((os.path.normpath(os.path.join(directory, str(p.value))), project)
                   for p in paths if is_scalar(p))
    return out
