"""An untrusted repository (issue 15, items 1-5 and the file system part of 12): nothing outside the
repository is read or written, nothing in it can hang or crash dockfix through the file system.

Every test builds a repository in ``tmp_path/repo`` (a ``.git`` directory makes it a checkout)
beside a fake home directory holding a secret, runs dockfix in a subprocess whose ``HOME`` is
that fake home (so the default cache, ``~/.cache/dockfix``, lands there), and checks that the
secret never appears in stdout, stderr or a diff, and that nothing outside the repository (and
the user's cache) was created or changed. A hang is caught by the subprocess timeout, and memory
by an address-space limit, never by a timed assertion.
"""

from __future__ import annotations

import hashlib
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT

BASIC = (FIXTURES / "compose" / "basic" / "input.yaml").read_bytes()
SECRET = "gho_s3cr3tT0k3nFromTheHomeDirectory"
TIMEOUT = 30  # seconds: a run takes about one (a few on a busy machine); only a hang gets near this
MEMORY = 3 << 30  # address space: far above a normal run, far below "read /dev/zero until it dies"


class World:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.home = tmp / "home"
        self.repo = tmp / "repo"
        self.secret = self.home / ".config" / "gh" / "hosts.yaml"
        self.secret.parent.mkdir(parents=True)
        self.secret.write_text(f"github.com:\n  oauth_token: {SECRET}\n  user: u\n")
        (self.home / ".ssh").mkdir()
        (self.repo / ".git").mkdir(parents=True)
        (self.repo / "compose.yaml").write_bytes(BASIC)
        self.before = self.snapshot()

    def snapshot(self) -> dict[str, tuple[int, str]]:
        """Everything under tmp except the repository and the user's cache: type and content."""
        found: dict[str, tuple[int, str]] = {}
        for directory, dirs, files in os.walk(self.tmp):
            here = Path(directory)
            dirs[:] = [d for d in dirs if here / d not in (self.repo, self.home / ".cache")]
            for name in dirs + files:
                path = here / name
                st = path.lstat()
                content = ""
                if stat.S_ISREG(st.st_mode):
                    content = hashlib.sha256(path.read_bytes()).hexdigest()
                elif stat.S_ISLNK(st.st_mode):
                    content = os.readlink(path)
                found[str(path)] = (stat.S_IFMT(st.st_mode), content)
        return found

    def run(self, *args: str, stdin: Path | None = None, cwd: Path | None = None,
            env: dict[str, str] | None = None, argv: tuple[str, ...] = ("-m", "rewriter")) -> tuple[int, str, str]:
        """``dockfix ARGS`` in the repository; standard input stays open (a pipe nobody writes
        to) unless given, so reading ``/dev/stdin`` blocks, as it does in an editor or CI."""
        clean = {k: v for k, v in os.environ.items()
                 if k not in ("DOCKFIX_CACHE_DIR", "XDG_CACHE_HOME", "DOCKFIX_PROFILE", "HOME")}
        clean.update(HOME=str(self.home), PYTHONPATH=str(ROOT), **(env or {}))
        read_end, write_end = os.pipe()
        given = os.open(stdin, os.O_RDONLY) if stdin is not None else None
        try:
            proc = subprocess.Popen(
                [sys.executable, *argv, *args], stdin=given if given is not None else read_end,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd or self.repo, env=clean,
                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY)))
            try:
                out, err = proc.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                pytest.fail(f"dockfix {' '.join(args)} hung (killed after {TIMEOUT} s): {err.decode()[-2000:]}")
        finally:
            for fd in (read_end, write_end, given):
                if fd is not None:
                    os.close(fd)
        text_out, text_err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        assert proc.returncode in (0, 1, 2), f"exit {proc.returncode}: {text_err[-2000:]}"
        assert "Traceback" not in text_err, text_err[-3000:]
        assert SECRET not in text_out + text_err
        return proc.returncode, text_out, text_err

    def nothing_outside_changed(self) -> None:
        after = self.snapshot()
        assert after == self.before, {k: after.get(k) for k in set(after) ^ set(self.before)} or "changed"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _climbing_profile(target: Path) -> str:
    """The profile name that turns ``compose.<profile>.yaml`` into ``target`` (a ``.yaml`` file):
    ``compose./`` is a directory in the repository, and enough ``..`` reach ``/``."""
    stem = str(target)[: -len(".yaml")].lstrip("/")
    return "/" + "../" * (len(target.parts) + 8) + stem


# -- 1. a profile name from the repository's config ------------------------------------------------


def test_profile_name_in_the_config_cannot_read_or_write_outside(world: World) -> None:
    profile = _climbing_profile(world.secret)
    (world.repo / "compose.").mkdir()
    (world.repo / "dockfix.toml").write_text(f'profile = "{profile}"\n\n[profiles."{profile}"]\nextends = "prod"\n')
    original = world.secret.read_bytes()
    for command in ("diff", "check", "apply"):
        code, out, err = world.run(command, "--write-to", "override", "--output-format", "full", ".")
        assert code == 2, err
        assert "dockfix.toml:1:11: invalid profile name" in err
        assert "letters, digits, '-' or '_'" in err
    assert world.secret.read_bytes() == original
    world.nothing_outside_changed()


def test_profile_name_cannot_create_a_file_outside(world: World) -> None:
    (world.repo / "compose.").mkdir()
    (world.repo / "dockfix.toml").write_text('profile = "/../../pwned"\n\n[profiles."/../../pwned"]\nextends = "prod"\n')
    code, _, err = world.run("apply", "--write-to", "override", ".")
    assert code == 2 and "invalid profile name '/../../pwned'" in err
    assert not (world.tmp / "pwned.yaml").exists()
    world.nothing_outside_changed()


@pytest.mark.parametrize("how", ["option", "environment"])
def test_profile_name_from_the_command_line_is_a_plain_name(world: World, how: str) -> None:
    name = "../../pwned"
    args, env = (["--profile", name], {}) if how == "option" else ([], {"DOCKFIX_PROFILE": name})
    code, _, err = world.run("apply", "--write-to", "override", *args, ".", env=env)
    assert code == 2
    assert "invalid profile name '../../pwned': a profile name is 1 to 64 letters, digits, '-' or '_'" in err
    world.nothing_outside_changed()


# -- 2. a symlinked override file --------------------------------------------------------------------


def test_symlinked_override_file_is_refused_before_it_is_read(world: World) -> None:
    (world.repo / "compose.prod.yaml").symlink_to(world.secret)
    original = world.secret.read_bytes()
    for command in ("diff", "check", "apply"):
        code, out, err = world.run(command, "--write-to", "override", "--output-format", "full", ".")
        assert code == 2, (command, err)
        assert "compose.prod.yaml: is a symbolic link; dockfix never reads or writes through links" in err
    assert world.secret.read_bytes() == original and (world.repo / "compose.prod.yaml").is_symlink()
    world.nothing_outside_changed()


# -- 3. extends: file:, go.mod, the directory walk -------------------------------------------------


def _extends(file: str) -> str:
    return (f"services:\n  web:\n    image: nginx\n    extends:\n      file: {file}\n      service: base\n")


@pytest.mark.parametrize("file", ["/dev/zero", "/dev/stdin", "/etc/passwd", "../outside.yaml"])
def test_extends_outside_the_repository_is_refused_unread(world: World, file: str) -> None:
    (world.tmp / "outside.yaml").write_text(
        f"services:\n  base:\n    image: x\n    mem_limit: 777m\n    environment:\n      TOKEN: {SECRET}\n")
    world.before = world.snapshot()
    (world.repo / "compose.yaml").write_text(_extends(file))
    code, out, err = world.run("check", "--output-format", "concise", "compose.yaml")
    assert code == 1, err
    assert f"it extends service 'base' in {file}, which is outside the repository" in out
    code, out, err = world.run("diff", "compose.yaml")
    assert "777m" not in out  # nothing read from the outside file ends up in an edit
    world.nothing_outside_changed()


@pytest.mark.parametrize("kind", ["fifo", "symlink", "directory"])
def test_extends_inside_the_repository_must_be_a_regular_file(world: World, kind: str) -> None:
    base = world.repo / "base.yaml"
    if kind == "fifo":
        os.mkfifo(base)
    elif kind == "symlink":
        (world.repo / "real.yaml").write_text("services:\n  base:\n    image: x\n")
        base.symlink_to("real.yaml")
    else:
        base.mkdir()
    (world.repo / "compose.yaml").write_text(_extends("base.yaml"))
    code, out, err = world.run("check", "compose.yaml")
    assert code == 1, err
    why = {"fifo": "is a FIFO, not a regular file", "symlink": "is a symbolic link",
           "directory": "is a directory"}[kind]
    assert f"it extends service 'base' in base.yaml, which cannot be read ({why}" in out


def test_language_server_formatting_does_not_read_its_own_stdin(world: World) -> None:
    """The server talks LSP over its standard input: an ``extends: file: /dev/stdin`` in the
    buffer being formatted must not make it read (and block on) its own input."""
    text = _extends("/dev/stdin")
    code = ("import sys\nfrom rewriter.lsp import Settings, fixed_text\n"
            f"sys.stdout.write(fixed_text({text!r}, {str(world.repo / 'compose.yaml')!r}, 'compose', Settings()))\n")
    status, out, err = world.run(argv=("-c", code))
    assert status == 0, err
    assert out == text  # nothing to fix: what it inherits is unknown


def test_an_extends_file_is_read_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """100 services extending one file: one read and parse, not 100 (a 450 KB file took 77 s
    and 3 GB when each service parsed it again)."""
    from rewriter.surfaces import compose, compose_extends

    (tmp_path / ".git").mkdir()
    (tmp_path / "base.yaml").write_text("services:\n" + "".join(
        f"  base{n}:\n    image: x\n    mem_limit: 256m\n" for n in range(50)))
    (tmp_path / "compose.yaml").write_text("services:\n" + "".join(
        f"  s{n}:\n    extends:\n      file: base.yaml\n      service: base{n % 50}\n" for n in range(100)))
    compose_extends._load_extends.cache_clear()
    loads: list[str] = []
    real_load = compose.load

    def counting(src: object) -> object:
        loads.append(os.path.basename(src.path))  # type: ignore[attr-defined]
        return real_load(src)  # type: ignore[arg-type]

    monkeypatch.setattr(compose, "load", counting)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(tmp_path / "cache"))
    from rewriter.cli import main

    assert main(["check", "-q", "--no-cache", "--jobs", "1", "compose.yaml"]) == 1
    assert 1 <= loads.count("base.yaml") <= 2  # once (a second pass after fixes may see a new file)


def _go_project(repo: Path) -> None:
    (repo / "compose.yaml").write_text("services:\n  api:\n    build: .\n    mem_limit: 512m\n")
    (repo / "Dockerfile").write_text("FROM golang:1.22 AS build\nRUN go build -o /app .\n"
                                     "FROM alpine:3.20\nCOPY --from=build /app /app\n")


@pytest.mark.parametrize("kind", ["symlink-to-stdin", "fifo", "outside"])
def test_go_mod_that_is_not_a_regular_file_in_the_repository_is_ignored(world: World, kind: str) -> None:
    _go_project(world.repo)
    if kind == "symlink-to-stdin":
        (world.repo / "go.mod").symlink_to("/dev/stdin")
    elif kind == "fifo":
        os.mkfifo(world.repo / "go.mod")
    else:
        (world.tmp / "outside").mkdir()
        (world.tmp / "outside" / "go.mod").write_text("module x\n\ngo 1.19\n")
        (world.repo / "compose.yaml").write_text(
            "services:\n  api:\n    build:\n      context: ../outside\n      dockerfile: ../repo/Dockerfile\n"
            "    mem_limit: 512m\n")
        world.before = world.snapshot()
    code, out, err = world.run("check", "--select", "DF5", "--output-format", "concise", ".")
    assert code == 1, err
    assert "GOMEMLIMIT" in out
    assert "go.mod" not in out  # its version was not used
    world.nothing_outside_changed()


@pytest.mark.parametrize("kind", ["fifo", "symlink-to-stdin"])
def test_directory_walk_never_opens_a_fifo_or_a_link(world: World, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(world.repo / "run")  # extension-less: sniffed for a shebang
    else:
        (world.repo / "run").symlink_to("/dev/stdin")
    code, out, err = world.run("check", "--output-format", "concise", ".")
    assert code == 1, err
    assert "compose.yaml" in out


@pytest.mark.parametrize("entry", ["../outside.env", "/dev/stdin", "linked.env", "linkdir/outside.env"])
def test_env_file_outside_the_repository_is_not_read(world: World, entry: str) -> None:
    """An ``env_file:`` is read for evidence (a heap flag), inside the repository of the file
    that names it: it was read inside a root computed from the env file's own directory, so
    ``../outside.env`` was read and its ``-Xmx7g`` printed as the evidence for a memory limit."""
    (world.tmp / "outside.env").write_text(f"JAVA_OPTS=-Xmx7g\nTOKEN={SECRET}\n")
    (world.repo / "linked.env").symlink_to(world.tmp / "outside.env")
    (world.repo / "linkdir").symlink_to(world.tmp)
    world.before = world.snapshot()
    (world.repo / "compose.yaml").write_text(
        f"services:\n  api:\n    image: eclipse-temurin:21\n    env_file:\n      - {entry}\n")
    code, out, err = world.run("check", "--select", "DF3", "--output-format", "full", ".")
    assert code == 1, err
    assert "Xmx7g" not in out and "9600m" not in out
    assert "profile prod's built-in default" in out or "profile dev" in out or "DF301" in out
    world.nothing_outside_changed()


def test_env_file_inside_the_repository_is_still_evidence(world: World) -> None:
    (world.repo / "search.env").write_text("JAVA_OPTS=-Xmx7g\n")
    (world.repo / "compose.yaml").write_text(
        "services:\n  api:\n    image: eclipse-temurin:21\n    env_file: search.env\n")
    code, out, err = world.run("check", "--select", "DF301", "--output-format", "concise", ".")
    assert code == 1, err
    assert "-Xmx7g in env_file search.env (JAVA_OPTS)" in out


@pytest.mark.parametrize("kind", ["fifo", "symlink-to-stdin", "symlink-outside"])
def test_build_scripts_searched_for_an_image_are_read_by_the_rule(world: World, kind: str) -> None:
    """A service that only names ``example/api`` is linked to a ``docker build -t example/api``
    in ``scripts/``: those scripts were opened with ``open()``, so a FIFO or a link to
    /dev/stdin hung ``check`` for ever, and a link to a file outside was read."""
    (world.repo / "compose.yaml").write_text("services:\n  api:\n    image: example/api:1\n")
    (world.repo / "app").mkdir()
    (world.repo / "app" / "Dockerfile").write_text("FROM eclipse-temurin:21\nENV JAVA_OPTS=-Xmx7g\n")
    (world.tmp / "build.sh").write_text("docker build -t example/api:1 app\n")
    world.before = world.snapshot()
    scripts = world.repo / "scripts"
    scripts.mkdir()
    if kind == "fifo":
        os.mkfifo(scripts / "build.sh")
    elif kind == "symlink-to-stdin":
        (scripts / "build.sh").symlink_to("/dev/stdin")
    else:
        (scripts / "build.sh").symlink_to(world.tmp / "build.sh")
    code, out, err = world.run("check", "--select", "DF3", "--output-format", "concise", "compose.yaml")
    assert code == 1, err
    assert "Xmx7g" not in out  # the outside script's docker build was not followed
    world.nothing_outside_changed()
    (scripts / "build.sh").unlink()
    (scripts / "build.sh").write_text("docker build -t example/api:1 app\n")
    code, out, err = world.run("check", "--select", "DF3", "--output-format", "concise", "compose.yaml")
    assert "-Xmx7g" in out, err  # a script in the repository still links the image


def test_no_bake_file_or_script_above_the_repository_is_read(tmp_path: Path) -> None:
    """Outside a git checkout (an unpacked archive with a pyproject.toml), the search for
    ``docker-bake.hcl`` and build scripts climbed three directories above the Compose file,
    past the repository root, and read what it found there."""
    from rewriter.detectors import image

    repo = tmp_path / "a" / "b" / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[tool.dockfix]\n")
    (repo / "compose.yaml").write_text("services:\n  api:\n    image: example/api:1\n")
    (repo / "app" / "Dockerfile").write_text("FROM eclipse-temurin:21\nENV JAVA_OPTS=-Xmx7g\n")
    (tmp_path / "docker-bake.hcl").write_text('target "api" {\n  tags = ["example/api:1"]\n  context = "a/b/repo/app"\n}\n')
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "build.sh").write_text("docker build -t example/api:1 a/b/repo/app\n")
    image.bake_targets.cache_clear()
    image.build_commands.cache_clear()
    assert image.bake_targets(str(repo)) == () and image.build_commands(str(repo)) == ()
    env = {k: v for k, v in os.environ.items() if k != "DOCKFIX_PROFILE"}
    result = subprocess.run([sys.executable, "-m", "rewriter", "check", "--select", "DF3", "--no-cache",
                             "--output-format", "concise", "compose.yaml"], cwd=repo, capture_output=True,
                            text=True, timeout=TIMEOUT, env=dict(env, PYTHONPATH=str(ROOT)))
    assert result.returncode == 1, result.stderr
    assert "Xmx7g" not in result.stdout
    (repo / "docker-bake.hcl").write_text('target "api" {\n  tags = ["example/api:1"]\n  context = "app"\n}\n')
    image.bake_targets.cache_clear()
    assert [t[1] for t in image.bake_targets(str(repo))] == [str(repo / "app")]  # its own still counts


def _atime_updates(directory: Path) -> bool:
    """Whether reading a file here updates its access time (relatime does, once the access time
    is older than the modification time; a noatime mount never does)."""
    probe = directory / "atime-probe"
    probe.write_text("x")
    st = probe.stat()
    os.utime(probe, (st.st_mtime - 86400, st.st_mtime))
    before = probe.stat().st_atime
    probe.read_text()
    changed = probe.stat().st_atime != before
    probe.unlink()
    return changed


def test_a_repository_built_to_attack_reads_nothing_outside(world: World) -> None:
    """Every way a repository names a file, pointed outside it at once (climbing ``..``, an
    absolute path, a linked directory in the middle of the path, a linked file, a device), on
    every command: no outside file is read (its access time stays, where the file system keeps
    one), none changes, no value from one reaches the output, and nothing hangs."""
    out_dir = world.tmp / "outside"
    (out_dir / "sub").mkdir(parents=True)
    marker_yaml = "services:\n  base:\n    image: x\n    mem_limit: 777m\n    environment:\n      TOKEN: OUTSIDE1\n"
    files = {
        "outside.yaml": marker_yaml, "sub/compose.yaml": marker_yaml,
        "outside.env": "JAVA_OPTS=-Xmx7g\nTOKEN=OUTSIDE2\n",
        "Dockerfile": "FROM eclipse-temurin:21\nENV JAVA_OPTS=-Xmx5g\n",
        "go.mod": "module example.com/x\n\ngo 1.19\n",
        "patch.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n"
                      "    image: nginx\n    resources:\n      limits:\n        memory: 3Gi\n",
        "kustomization.yaml": "resources:\n- patch.yaml\n",
        "build.sh": "docker build -t example/api:1 .\n",
        "docker-bake.hcl": 'target "api" {\n  tags = ["example/api:1"]\n  context = "."\n}\n',
    }
    for name, text in files.items():
        (out_dir / name).write_text(text)
    (world.tmp / "docker-bake.hcl").write_text(files["docker-bake.hcl"])
    repo = world.repo
    (repo / "linkdir").symlink_to("../outside")
    (repo / "linked.yaml").symlink_to(out_dir / "outside.yaml")
    (repo / "Dockerfile.api").symlink_to(out_dir / "Dockerfile")
    (repo / "docker-bake.hcl").symlink_to(out_dir / "docker-bake.hcl")
    (repo / "scripts").mkdir()
    (repo / "scripts" / "build.sh").symlink_to(out_dir / "build.sh")
    (repo / "compose.yaml").write_text(
        "include:\n  - ../outside/outside.yaml\n  - linkdir/sub/compose.yaml\n  - path: inc.yaml\n"
        "services:\n  api:\n    image: example/api:1\n"
        "    env_file: [../outside/outside.env, /dev/stdin, linkdir/outside.env]\n"
        "  web:\n    extends: {file: linked.yaml, service: base}\n"
        "  w2:\n    extends: {file: linkdir/outside.yaml, service: base}\n"
        "  w3:\n    build: {context: /, dockerfile: etc/passwd}\n"
        "  w4:\n    build: ../..\n"
        "  w5:\n    build: {context: ., dockerfile: ../outside/Dockerfile}\n"
        "  w6:\n    build: linkdir\n")
    (repo / "inc.yaml").write_text("services:\n  inc:\n    image: nginx\n"
                                   "    extends: {file: ../outside/outside.yaml, service: base}\n")
    (repo / ".env").write_text("COMPOSE_FILE=compose.yaml:../outside/outside.yaml:/dev/stdin\n")
    base, overlay = repo / "k8s" / "base", repo / "k8s" / "overlays" / "prod"
    base.mkdir(parents=True)
    overlay.mkdir(parents=True)
    (base / "kustomization.yaml").write_text(
        "resources:\n  - deploy.yaml\n  - ../../../outside\n  - ../../linkdir\npatches:\n"
        "  - path: ../../../outside/patch.yaml\n  - path: ../../linkdir/patch.yaml\n"
        "patchesStrategicMerge:\n  - /dev/stdin\n")
    (base / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: c\n        image: ko://example.com/x/cmd\n"
        "      - name: api\n        image: example/api:1\n")
    (overlay / "kustomization.yaml").write_text(
        "resources:\n  - ../../base\npatches:\n  - path: ../../../../outside/patch.yaml\n  - path: /dev/stdin\n")
    (repo / "k8s" / "go.mod").symlink_to(out_dir / "go.mod")
    (repo / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta1\nkind: Config\nbuild:\n  artifacts:\n    - image: example/api\n"
        "      context: ../outside\n      docker: {dockerfile: Dockerfile}\n    - image: example/other\n"
        "      context: /\n      docker: {dockerfile: etc/passwd}\n")
    (repo / "dockfix.toml").write_text(
        'profile = "edge"\n\n[profiles.edge]\nextends = "prod"\n\n[[profiles.edge.config-mounts]]\n'
        'source = "../outside/outside.env"\ntarget = "/etc/app.env"\n')
    world.before = world.snapshot()
    watched = [p for p in world.tmp.rglob("*") if p.is_file() and not p.is_symlink()
               and world.repo not in p.parents and world.home / ".cache" not in p.parents]
    keeps_atime = _atime_updates(world.tmp)
    for path in watched:
        st = path.stat()
        os.utime(path, (st.st_mtime - 86400, st.st_mtime))
    atimes = {p: p.stat().st_atime for p in watched}
    for args in (("check", "--output-format", "full", "."), ("check", "--output-format", "sarif", "."),
                 ("diff", "--unsafe-fixes", "."), ("diff", "--write-to", "override", "."),
                 ("apply", "--unsafe-fixes", ".")):
        code, out, err = world.run(*args)
        assert code in (1, 2), (args, err)
        for leaked in ("777m", "OUTSIDE1", "OUTSIDE2", "Xmx7g", "Xmx5g", "3Gi"):
            assert leaked not in out + err, (args, leaked)
    if keeps_atime:
        assert {p: p.stat().st_atime for p in watched} == atimes, "a file outside the repository was read"
    world.nothing_outside_changed()


# -- 4 and 5. the cache ------------------------------------------------------------------------------


def _old_cache_entry(repo: Path) -> Path:
    """Where dockfix 0.1 kept the result cache for the prod profile: inside the repository, at a
    name anyone can compute."""
    from rewriter import __version__
    from rewriter.engine import Options
    from transforms import resolve_profile

    key = hashlib.sha256(f"{__version__}\0{3}\0{Options(profile=resolve_profile('prod', {}))!r}".encode())
    return repo / ".dockfix_cache" / __version__ / f"{key.hexdigest()[:16]}.marshal"


def test_a_committed_cache_link_sends_no_write_outside(world: World) -> None:
    (world.tmp / "elsewhere").mkdir()
    (world.repo / ".dockfix_cache").symlink_to("../elsewhere")
    world.before = world.snapshot()
    code, _, err = world.run("check", ".")
    assert code == 1, err
    assert list((world.tmp / "elsewhere").iterdir()) == []
    world.nothing_outside_changed()
    cache = world.home / ".cache" / "dockfix"
    assert cache.is_dir() and stat.S_IMODE(cache.stat().st_mode) == 0o700  # the user's own, per user
    assert any(p.suffix == ".json" for p in cache.rglob("*"))


def test_a_dangling_link_in_a_committed_cache_creates_nothing(world: World) -> None:
    (world.repo / ".dockfix_cache").mkdir()
    (world.repo / ".dockfix_cache" / ".gitignore").symlink_to("../../home/.ssh/config")
    (world.repo / ".dockfix_cache" / "config").mkdir()
    (world.repo / "pyproject.toml").write_text('[tool.dockfix]\nprofile = "prod"\n')
    code, _, err = world.run("check", ".")
    assert code == 1, err
    assert not (world.home / ".ssh" / "config").exists()
    world.nothing_outside_changed()


@pytest.mark.parametrize("target", ["/dev/stdin", "/dev/zero"])
def test_a_committed_cache_entry_linked_to_a_device_is_never_read(world: World, target: str) -> None:
    entry = _old_cache_entry(world.repo)
    entry.parent.mkdir(parents=True)
    entry.symlink_to(target)
    code, out, err = world.run("check", "--output-format", "concise", ".")
    assert code == 1 and "DF101" in out, err


def test_a_forged_cache_entry_hides_no_finding(world: World) -> None:
    import marshal

    entry = _old_cache_entry(world.repo)
    entry.parent.mkdir(parents=True)
    forged = {str(world.repo / "compose.yaml"): (hashlib.sha256(BASIC).hexdigest(), [], {})}
    entry.write_bytes(marshal.dumps(forged))
    code, out, err = world.run("check", "--output-format", "concise", ".")
    assert code == 1 and "DF101" in out, err
    assert "All checks passed" not in err
    code, out, _ = world.run("check", "--output-format", "sarif", ".")
    assert '"ruleId": "DF101"' in out


CONFIG = '[tool.dockfix]\nprofile = "prod"\n'


def _deep_config_entry() -> bytes:
    """dockfix 0.1's config cache entry for CONFIG, its table holding 1,500 nested lists: the
    check of the table's values recursed until RecursionError."""
    import marshal

    nested: list[object] = []
    for _ in range(1500):
        nested = [nested]
    return marshal.dumps(((1, sys.version_info[:2]), CONFIG, {"tool": {"dockfix": {"x": nested}}}))


# A tuple that holds itself as a dict key (marshal hashes the half-built tuple: a segfault), a
# header announcing 2**29 elements (4 GB), and 1,500 nested lists (RecursionError).
HOSTILE_MARSHAL = {
    "self-containing": bytes([0xA9, 0x01, 0x7B, 0x72, 0x00, 0x00, 0x00, 0x00, 0x4E, 0x30]),
    "huge-header": b"(" + (1 << 29).to_bytes(4, "little"),
    "deep": _deep_config_entry(),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_MARSHAL))
def test_planted_marshal_bytes_cannot_crash_dockfix(world: World, name: str) -> None:
    (world.repo / "pyproject.toml").write_text(CONFIG)
    planted = world.repo / ".dockfix_cache" / "config" / "pyproject.toml.marshal"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(HOSTILE_MARSHAL[name])
    entry = _old_cache_entry(world.repo)
    entry.parent.mkdir(parents=True)
    entry.write_bytes(HOSTILE_MARSHAL[name])
    code, out, err = world.run("check", "--output-format", "concise", ".")
    assert code == 1 and "DF101" in out, err
    code, out, err = world.run("apply", "-", "--stdin-filename", "compose.yaml",
                               stdin=world.repo / "compose.yaml")
    assert code in (0, 1) and "pids_limit" in out, err  # 1: the built-in memory limit stays a suggestion


HOSTILE_JSON = {
    "deep": b"[" * 200_000 + b"]" * 200_000,
    "garbage": b"\x00\xff\xfe garbage",
    "wrong-shape": b'[4, "x", {"/a": [1, 2, 3]}]',
    "not-utf8": b'["\xff"]',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_JSON))
def test_hostile_bytes_in_the_user_cache_are_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    name: str) -> None:
    """The user's own cache is trusted no further than its shape: any bytes are a miss."""
    from rewriter.cache import Cache
    from rewriter.profiles import ConfigFinder, config_cache_path

    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nprofile = "dev"\n')
    stored = Path(config_cache_path(str(tmp_path / "pyproject.toml")))
    stored.parent.mkdir(parents=True)
    stored.write_bytes(HOSTILE_JSON[name])
    assert ConfigFinder(cache=True).for_path(str(tmp_path / "compose.yaml")).profile == "dev"
    results = Path(Cache.open(str(tmp_path), "key").path)
    results.parent.mkdir(parents=True)
    results.write_bytes(HOSTILE_JSON[name])
    assert Cache.open(str(tmp_path), "key").entries == {}


def test_a_cache_directory_others_can_write_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rewriter.profiles import ConfigFinder, config_cache_path

    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nprofile = "dev"\n')
    ConfigFinder(cache=True).for_path(str(tmp_path / "compose.yaml"))
    stored = Path(config_cache_path(str(tmp_path / "pyproject.toml")))
    assert stored.is_file()
    stored.parent.chmod(0o777)
    stored.write_text(stored.read_text().replace('"dev"', '"staging"'))
    assert ConfigFinder(cache=True).for_path(str(tmp_path / "compose.yaml")).profile == "dev"


# -- 12. DF604 and write_atomic ----------------------------------------------------------------------


@pytest.mark.parametrize("source", ["secret", "missing", "link"])
def test_config_mount_source_outside_is_reported_as_outside(world: World, source: str) -> None:
    path = {"secret": str(world.secret), "missing": str(world.home / "missing.yaml"),
            "link": "./config/link.yaml"}[source]
    if source == "link":
        (world.repo / "config").mkdir()
        (world.repo / "config" / "link.yaml").symlink_to(world.secret)
    (world.repo / "dockfix.toml").write_text(
        f'profile = "edge"\n\n[profiles.edge]\nextends = "prod"\n\n[[profiles.edge.config-mounts]]\n'
        f'source = "{path}"\ntarget = "/etc/app.yaml"\n')
    code, out, err = world.run("check", "--select", "DF604", "--output-format", "concise", ".")
    assert "does not exist" not in out
    assert f"config file '{path}' for '/etc/app.yaml' is outside the repository" in out
    assert code == 0, err  # a note: the file may be on the host that runs the stack


def test_write_atomic_keeps_setuid_and_setgid_bits(tmp_path: Path) -> None:
    from rewriter.runner import write_atomic

    (tmp_path / ".git").mkdir()
    path = tmp_path / "deploy.sh"
    path.write_bytes(b"#!/bin/sh\n")
    path.chmod(0o6755)
    write_atomic(str(path), b"#!/bin/sh\n", b"#!/bin/sh\necho fixed\n")
    assert path.read_bytes() == b"#!/bin/sh\necho fixed\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o6755


def test_write_atomic_never_writes_through_a_linked_directory(tmp_path: Path) -> None:
    from rewriter.errors import WriteError
    from rewriter.runner import write_atomic

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "compose.yaml").write_bytes(BASIC)
    (repo / "sub").symlink_to("../outside")
    with pytest.raises(WriteError, match="'sub' in its path is a symbolic link"):
        write_atomic(str(repo / "sub" / "compose.yaml"), BASIC, b"services: {}\n")
    with pytest.raises(WriteError, match="outside the repository"):
        write_atomic(str(repo / "sub" / ".." / ".." / "outside" / "compose.yaml"), BASIC, b"services: {}\n",
                     str(repo))
    with pytest.raises(WriteError, match="'sub' in its path is a symbolic link"):
        write_atomic(str(repo / "sub" / "new.yaml"), b"", b"services: {}\n")
    assert (tmp_path / "outside" / "compose.yaml").read_bytes() == BASIC
    assert sorted(p.name for p in (tmp_path / "outside").iterdir()) == ["compose.yaml"]


def test_apply_through_a_linked_directory_changes_nothing_outside(world: World) -> None:
    (world.tmp / "outside").mkdir()
    (world.tmp / "outside" / "compose.yaml").write_bytes(BASIC)
    (world.repo / "sub").symlink_to("../outside")
    world.before = world.snapshot()
    code, _, err = world.run("apply", "sub/compose.yaml")
    assert code == 2 and "'sub' in its path is a symbolic link" in err
    world.nothing_outside_changed()


def test_pr_bot_checks_the_profile_name_before_it_names_a_branch(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from rewriter import bot
    from rewriter.api import Settings
    from rewriter.errors import ConfigError

    monkeypatch.delenv("DOCKFIX_PROFILE", raising=False)
    for name in ("--upload-pack=touch pwned", "../x", "a/b"):
        with pytest.raises(ConfigError, match="invalid profile name"):
            bot._profile_name(Settings(profile=name), str(tmp_path))
    (tmp_path / "dockfix.toml").write_text('profile = "a/b"\n')
    with pytest.raises(ConfigError, match=r"invalid profile name 'a/b'"):
        bot._profile_name(Settings(), str(tmp_path))


def test_repository_root_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The root as SECURITY.md states it: the closest checkout, else the closest config file,
    else the working directory when the file is below it, else the file's own directory."""
    from rewriter import safefs

    monkeypatch.setattr(safefs, "_roots", {})
    monkeypatch.setattr(safefs, "_checkouts", {})
    (tmp_path / "co" / "sub" / "pkg").mkdir(parents=True)
    (tmp_path / "co" / ".git").mkdir()
    (tmp_path / "co" / "sub" / "pkg" / "pyproject.toml").write_text("")
    (tmp_path / "plain" / "cfg" / "deep").mkdir(parents=True)
    (tmp_path / "plain" / "cfg" / "dockfix.toml").write_text("")
    (tmp_path / "plain" / "bare" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "plain" / "bare")
    assert safefs.root_for(str(tmp_path / "co" / "sub" / "pkg")) == str(tmp_path / "co")  # .git wins
    assert safefs.root_for(str(tmp_path / "plain" / "cfg" / "deep")) == str(tmp_path / "plain" / "cfg")
    assert safefs.root_for(str(tmp_path / "plain" / "bare" / "deep")) == str(tmp_path / "plain" / "bare")
    elsewhere = tmp_path / "else" / "where"
    elsewhere.mkdir(parents=True)
    assert safefs.root_for(str(elsewhere)) == str(elsewhere)
    with pytest.raises(safefs.Refused, match="outside the repository"):
        safefs.read_bytes(str(tmp_path / "co" / ".." / "plain" / "cfg" / "dockfix.toml"), str(tmp_path / "co"))
    with pytest.raises(safefs.TooLarge):
        (tmp_path / "co" / "big.yaml").write_bytes(b"x" * 101)
        safefs.read_bytes(str(tmp_path / "co" / "big.yaml"), limit=100)


@pytest.mark.parametrize("at", [True, False], ids=["openat", "lstat-walk"])
def test_safefs_refuses_links_fifos_and_outside_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     at: bool) -> None:
    """Both ways of opening (``openat`` one directory at a time, and the lstat walk used where
    ``openat`` is missing) refuse the same things."""
    from rewriter import safefs

    monkeypatch.setattr(safefs, "_AT", at and safefs._AT)
    repo = tmp_path / "repo"
    (repo / "d").mkdir(parents=True)
    (repo / "d" / "ok.yaml").write_text("ok\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.yaml").write_text(SECRET)
    (repo / "linkdir").symlink_to("../outside")
    (repo / "link.yaml").symlink_to("d/ok.yaml")
    os.mkfifo(repo / "fifo")
    root = str(repo)
    assert safefs.read_bytes(str(repo / "d" / "ok.yaml"), root) == b"ok\n"
    for path, why in ((repo / "linkdir" / "x.yaml", "'linkdir' in its path is a symbolic link"),
                      (repo / "link.yaml", "is a symbolic link"),
                      (repo / "fifo", "is a FIFO, not a regular file"),
                      (repo / "d", "is a directory"),
                      (repo / ".." / "outside" / "x.yaml", "is outside the repository")):
        with pytest.raises(safefs.Refused, match=why):
            safefs.read_bytes(str(path), root)
    with pytest.raises(FileNotFoundError):
        safefs.read_bytes(str(repo / "d" / "missing.yaml"), root)
