"""Fuzzing the whole command line on hostile repositories (issue 15).

Hypothesis builds small repositories of Compose files, Dockerfiles, shell scripts, workflows,
Python, Kubernetes manifests and the files around them (kustomizations, skaffold, bake files) from
pieces biased to the shapes that broke dockfix before: deep nesting, anchors and aliases (and alias
loops), long lines, control characters, CRLF, a BOM, invalid UTF-8, huge numbers, unclosed template
braces, paths that climb out of the repository, and FIFOs and links (to the sentinel directory
outside) where dockfix looks for files. Each repository is copied into a fresh directory and ``check``, ``diff`` and ``apply``
run on it in-process, through ``rewriter.cli.main`` (the real code path, one worker), and the
test asserts:

- no crash: ``main`` returns (no exception escapes the per-file boundary) and nothing reports an
  ``internal error``;
- exit code 0, 1 or 2 only;
- no hang: every run finishes within :data:`BUDGET` seconds (checked with an alarm, so a hang
  fails the example instead of stalling the suite);
- nothing is written outside the work directory (a sibling sentinel directory stays as it was),
  and ``check``/``diff`` write nothing at all.

Profiles: ``ci`` (the default: 40 examples, well under a minute) and ``thorough``
(``DOCKFIX_HYPOTHESIS=thorough``: 600 examples).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewriter.cli import main

THOROUGH = os.environ.get("DOCKFIX_HYPOTHESIS") == "thorough"
BUDGET = 30  # seconds for one command on one generated repository (they take well under 1 s)

settings.register_profile("fuzz-ci", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                 HealthCheck.data_too_large])
settings.register_profile("fuzz-thorough", max_examples=600, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                 HealthCheck.data_too_large])
FUZZ = settings.get_profile("fuzz-thorough" if THOROUGH else "fuzz-ci")

NASTY_TEXT = st.sampled_from([
    "", "x", "a" * 3000, "\x1b[31m", "\u2028", "\x00", "::error::x", "\r", "\t", "é", "💥", "${{ x", "$(", "`",
    "'", '"', "\\", "#", "&&", "|", ";", "{", "}", "[", "]", "*", "&a", "*a", "<<", "!!python/object:os.system",
])
NUMBERS = st.sampled_from(["0", "-1", "1e999", "9" * 40, "0x7fffffffffffffff", "512m", "1e3g", "65536", ".inf",
                           "-0", "1_000", "0o777"])


# Paths a repository may name that lead out of it: the sentinel directory beside the work
# directory, the root, a device; each must be refused unread.
OUTSIDE_PATHS = st.sampled_from(["../outside/keep.txt", "../outside", "/", "../..", "/dev/zero", "/etc/passwd",
                                 "linked/keep.txt", "{file: ../outside/keep.txt, service: a}",
                                 "{context: .., dockerfile: ../outside/keep.txt}"])


@st.composite
def compose(draw: st.DrawFn) -> bytes:
    lines = []
    if draw(st.booleans()):
        lines.append("x-base: &base")
        lines.append(f"  mem_limit: {draw(NUMBERS)}")
        lines.append(f"  ulimits: {{nofile: {draw(NUMBERS)}}}")
    if draw(st.booleans()):
        depth = draw(st.integers(1, 400))
        lines.append("x-deep: " + "[" * depth + "]" * depth)
    if draw(st.booleans()):
        lines.append("x-loop: &loop [1, *loop]" if draw(st.booleans()) else "x-l0: &l0 [a, a, a]\nx-l1: &l1 [*l0, *l0, *l0]")
    lines.append("services:")
    for n in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(["api", "'we\\nb'", '"x\\u001b[1m"', "n" * 200, "'::error::a'", "s" + str(n)]))
        lines.append(f"  {name}{n}:")
        if draw(st.booleans()):
            lines.append("    <<: *base")
        lines.append(f"    image: {draw(st.sampled_from(['nginx', 'golang:1.22', '', '[]', '{}', 'example/api:1']))}")
        for key in draw(st.lists(st.sampled_from(["mem_limit", "memswap_limit", "pids_limit", "tmpfs", "ulimits",
                                                  "environment", "build", "extends"]), max_size=4)):
            value = draw(st.one_of(NUMBERS, NASTY_TEXT.map(lambda t: repr(t)), OUTSIDE_PATHS))
            lines.append(f"    {key}: {value}")
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))
    return _encode(draw, text)


@st.composite
def dockerfile(draw: st.DrawFn) -> bytes:
    lines = [draw(st.sampled_from(["FROM alpine", "FROM golang:1.24 AS build", "# syntax=docker/dockerfile:1", ""]))]
    for _ in range(draw(st.integers(0, 6))):
        lines.append(draw(st.sampled_from([
            "RUN echo 'ulimit -n 65536' >> /etc/profile",
            "RUN tee -tee -x " * draw(st.integers(1, 50)),
            "RUN echo " + "-tee\\\n" * draw(st.integers(1, 50)) + "x",
            "CMD echo 1 > /sys/fs/cgroup/memory.max && exec app",
            "ENV GODEBUG=madvdontneed=1 GOMAXPROCS=4",
            "RUN ulimit -" + "n" * draw(st.integers(1, 3000)),
            "RUN <<EOF\necho tmpfs /tmp tmpfs size=1m 0 0 >> /etc/fstab\nEOF",
            "ENV A=" + draw(NASTY_TEXT),
            "ARG V=" + draw(NUMBERS),
        ])))
    return _encode(draw, "\n".join(lines) + "\n")


@st.composite
def shell(draw: st.DrawFn) -> bytes:
    lines = ["#!/bin/sh"]
    for _ in range(draw(st.integers(0, 5))):
        depth = draw(st.integers(0, 120))
        lines.append(draw(st.sampled_from([
            "docker run -d --name api nginx",
            "docker run " + "$(" * depth + "x" + ")" * depth + " nginx",
            "docker run --memory " + draw(NUMBERS) + " nginx",
            "docker run \\\n  --tmpfs /tmp \\\n  nginx",
            "echo \"docker run nginx\"",
            "docker run ${{ " * min(depth, 50) + "nginx",
            "docker run " + draw(NASTY_TEXT) + " nginx",
            "cat <<EOF\ndocker run nginx\nEOF",
        ])))
    return _encode(draw, "\n".join(lines) + "\n")


@st.composite
def workflow(draw: st.DrawFn) -> bytes:
    run = draw(st.sampled_from(["docker run nginx", "docker run ${{ matrix.img }}", "docker run " + "${{ " * 300,
                                "|\n          docker run \\\n            nginx"]))
    return _encode(draw, f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: {run}\n")


@st.composite
def python(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(0, 1600))
    arg = draw(st.sampled_from(["(" * depth + "1" + ")" * depth, "-" * depth + "1", "[" * depth + "]" * depth,
                                "mem_limit='1g'", "**kw", "f'{x}'", "'" + "a" * depth + "'"]))
    text = ("import docker\nc = docker.from_env()\n"
            f"c.containers.run('nginx', x={arg})\n"
            + draw(st.sampled_from(["", "def f(:\n", "from testcontainers.core.container import DockerContainer\n"
                                    "DockerContainer('redis').with_env('A', 'B')\n"])))
    return _encode(draw, text)


@st.composite
def kubernetes(draw: st.DrawFn) -> bytes:
    docs = []
    for n in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["Deployment", "Pod", "CronJob", "StatefulSet", "List", "[]", '"\\u001b"']))
        name = draw(st.sampled_from(["c", "'c\n::error::x'", '"c\u001b[31m"', "n" * 300, "[]", "*a"]))
        image = draw(st.sampled_from(["nginx", "ko://example.com/x/cmd", "example/api:1", "'{{ .Values.image }}'",
                                      "'" + "{{" * draw(st.integers(1, 3000)) + "'", "", "{}"]))
        memory = draw(st.one_of(NUMBERS, st.sampled_from(["1Gi", "64Mi", "'${X}'", "[]"])))
        spec = (f"      containers:\n        - name: {name}\n          image: {image}\n"
                f"          resources: {{limits: {{memory: {memory}}}}}\n")
        if kind == "Pod":
            body = "spec:\n" + spec.replace("      ", "  ", 1).replace("\n      ", "\n  ")
        else:
            body = f"spec:\n  template:\n    spec:\n{spec}"
        docs.append(f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: d{n}\n{body}")
        if draw(st.booleans()):
            docs[-1] += draw(NASTY_TEXT)
    return _encode(draw, "---\n".join(docs))


@st.composite
def around_manifests(draw: st.DrawFn) -> bytes:
    """A kustomization, skaffold file or bake file whose paths climb out of the repository."""
    path = draw(OUTSIDE_PATHS)
    text = draw(st.sampled_from([
        f"resources:\n  - deploy.yaml\n  - {path}\npatches:\n  - path: {path}\npatchesStrategicMerge:\n  - {path}\n",
        f"apiVersion: skaffold/v4beta1\nkind: Config\nbuild:\n  artifacts:\n    - image: example/api\n"
        f"      context: {path}\n      docker: {{dockerfile: {path}}}\n    - image: example/ko\n      ko: {{}}\n",
        f'target "api" {{\n  tags = ["example/api:1"]\n  context = "{path}"\n}}\n' + "\n" * draw(st.integers(0, 3000)),
    ]))
    return _encode(draw, text)


def _encode(draw: st.DrawFn, text: str) -> bytes:
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:
        data += b"\xff\xfe"  # invalid UTF-8
    return data


FIFO = b"fifo"  # made with mkfifo: a reader that opens it blocks for ever

FILES = {
    "compose.yaml": compose(),
    "sub/docker-compose.override.yml": compose(),
    "Dockerfile": dockerfile(),
    "scripts/run.sh": shell(),
    ".github/workflows/ci.yml": workflow(),
    "app/start.py": python(),
    ".gitignore": st.sampled_from([b"", b"*a*a*a*a*a*a*a*a*a*a*a*a*b\n", b"[\n!x\n**/**/**\n", b"\\\n"]),
    "k8s/base/deploy.yaml": kubernetes(),
    "k8s/base/kustomization.yaml": around_manifests(),
    "k8s/overlays/prod/kustomization.yaml": around_manifests(),
    "skaffold.yaml": around_manifests(),
    "docker-bake.hcl": around_manifests(),
    # not a file: a FIFO (``fifo``) or a link to the sentinel outside, where dockfix looks for files
    "scripts/build.sh": st.sampled_from([FIFO, b"link:../../outside/keep.txt"]),
    "linked": st.just(b"link:../outside"),
    "go.mod": st.sampled_from([FIFO, b"link:../outside/keep.txt", b"module x\n\ngo 1.19\n"]),
    ".env": st.sampled_from([b"COMPOSE_FILE=compose.yaml:../outside/keep.txt\n", FIFO, b"link:../outside/keep.txt"]),
}


@st.composite
def repository(draw: st.DrawFn) -> dict[str, bytes]:
    names = draw(st.lists(st.sampled_from(sorted(FILES)), min_size=1, max_size=6, unique=True))
    return {name: draw(FILES[name]) for name in names}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()}


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang()


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="the hang budget needs SIGALRM")
@FUZZ
@given(repo=repository())
def test_cli_survives_hostile_repositories(repo: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path_factory.mktemp("fuzz")
    work, sentinel = base / "work", base / "outside"
    sentinel.mkdir()
    (sentinel / "keep.txt").write_bytes(b"untouched\n")
    for name, data in repo.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if data == FIFO:
            os.mkfifo(path)
        elif data.startswith(b"link:"):
            path.symlink_to(data[len(b"link:"):].decode())
        else:
            path.write_bytes(data)
    outside_before = _snapshot(base / "outside")
    monkeypatch.chdir(work)
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(base / "cache"))
    monkeypatch.delenv("DOCKFIX_PROFILE", raising=False)
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for command in ("check", "diff", "apply"):
            before = _snapshot(work)
            signal.alarm(BUDGET)
            try:
                code = main([command, ".", "--jobs", "1"])
            except _Hang:
                pytest.fail(f"dockfix {command} ran past {BUDGET} s on {sorted(repo)}")
            finally:
                signal.alarm(0)
            out, err = capsys.readouterr()
            assert code in (0, 1, 2), (command, code, err)
            assert "internal error" not in err, err
            if command != "apply":
                assert _snapshot(work) == before, f"{command} wrote to the work directory"
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert _snapshot(base / "outside") == outside_before
    assert sorted(p.name for p in base.iterdir()) in (["outside", "work"], ["cache", "outside", "work"])
