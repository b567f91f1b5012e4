"""A /tmp tmpfs is RAM the memory limit pays for (issue 10, bug 5; issue 12 item 5).

The size dockfix writes is at most a quarter of the memory limit, none is added when that
quarter is below 16m, a tmpfs as large as the limit is lowered to the quarter (plainly broken),
and an existing GOMEMLIMIT that leaves no room for the planned tmpfs is reported. The same on
every surface that has both a memory limit and a tmpfs: Compose, docker run, docker-py.
"""

from __future__ import annotations

import pytest

from rewriter.engine import Options, process
from transforms import resolve_profile
from rewriter.sizes import ByteSize
from transforms.tmpfs import FLOOR, capped, quarter

PROD = Options(profile=resolve_profile("prod", {}))
UNSAFE = Options(profile=resolve_profile("prod", {}), unsafe_fixes=True)
DEV = Options(profile=resolve_profile("dev", {}))


def run(kind: str, name: str, text: str, options: Options = PROD, fix: bool = True):  # type: ignore[no-untyped-def]
    from rewriter.source import SourceFile

    return process(kind, SourceFile.from_text(name, text), options, fix=fix)


def fixed(kind: str, name: str, text: str, options: Options = PROD) -> str:
    outcome = run(kind, name, text, options)
    return outcome.new_text if outcome.new_text is not None else text


@pytest.mark.parametrize(("limit", "want"), [
    ("1g", "64m"), ("256m", "64m"), ("128m", "32m"), ("100m", "25m"), ("64m", "16m"), ("63m", None), ("20m", None),
])
def test_the_profile_size_is_capped_at_a_quarter_of_the_limit(limit: str, want: str | None) -> None:
    size = capped(ByteSize.parse_docker("64m"), ByteSize.parse_docker(limit))  # type: ignore[arg-type]
    assert (size.docker() if size is not None else None) == want
    assert quarter(ByteSize.parse_docker("20M")).docker() == "5m" and FLOOR.docker() == "16m"  # type: ignore[arg-type]


def test_compose_tmpfs_never_above_a_quarter() -> None:
    out = fixed("compose", "compose.yaml", "services:\n  a:\n    image: a\n    mem_limit: 128m\n")
    assert "/tmp:size=32m,mode=1777" in out
    dev = fixed("compose", "compose.yaml", "services:\n  a:\n    image: a\n    mem_limit: 256m\n", DEV)
    assert "/tmp:size=64m,mode=1777" in dev  # dev's 256m would be the whole limit


def test_no_tmpfs_under_a_tiny_limit_and_a_note_says_why() -> None:
    text = "services:\n  a:\n    image: a\n    deploy:\n      resources:\n        limits:\n          memory: 20M\n"
    outcome = run("compose", "compose.yaml", text)
    assert outcome.new_text is not None and "/tmp" not in outcome.new_text
    notes = [f for f in outcome.findings if f.code == "DF101"]
    assert len(notes) == 1 and notes[0].severity.value == "info" and notes[0].fix is None
    assert "a quarter of deploy.resources.limits.memory '20M' is 5m, below the 16m" in notes[0].message


@pytest.mark.parametrize(("entry", "limit", "want"), [
    ("/tmp:size=512m,mode=1777", "256m", "/tmp:size=64m,mode=1777"),
    ("/tmp:rw,size=64m", "64m", "/tmp:rw,size=16m"),
    ("/tmp:size=64m", "20M", "/tmp:size=5m"),
])
def test_a_tmpfs_not_below_the_limit_is_lowered_safely(entry: str, limit: str, want: str) -> None:
    text = f"services:\n  a:\n    image: a\n    mem_limit: {limit}\n    tmpfs:\n      - {entry}\n"
    outcome = run("compose", "compose.yaml", text)
    assert outcome.new_text is not None and f"      - {want}\n" in outcome.new_text
    assert any(f.code == "DF106" for f in outcome.fixed)


def test_an_explicit_tmpfs_below_the_limit_is_a_decision() -> None:
    text = "services:\n  a:\n    image: a\n    mem_limit: 256m\n    tmpfs:\n      - /tmp:size=96m\n"
    assert "      - /tmp:size=96m\n" in fixed("compose", "compose.yaml", text, UNSAFE)


def test_long_syntax_tmpfs_above_the_limit() -> None:
    text = ("services:\n  a:\n    image: a\n    mem_limit: 256m\n    volumes:\n      - type: tmpfs\n"
            "        target: /tmp\n        tmpfs:\n          size: 1g\n")
    assert "          size: 64m\n" in fixed("compose", "compose.yaml", text)


def test_existing_gomemlimit_checked_against_the_planned_tmpfs() -> None:
    text = ("services:\n  a:\n    image: golang:1.24\n    mem_limit: 512m\n    memswap_limit: 512m\n"
            "    environment:\n      GOMEMLIMIT: 480MiB\n")
    outcome = run("compose", "compose.yaml", text)
    budget = [f for f in outcome.findings if f.code == "DF506"]
    assert len(budget) == 1 and "0.9 x (mem_limit '512m' - tmpfs /tmp 64m) = 403MiB" in budget[0].message
    assert outcome.new_text is not None and "GOMEMLIMIT: 480MiB" in outcome.new_text  # a decision: unsafe fix
    assert "GOMEMLIMIT: 403MiB" in fixed("compose", "compose.yaml", text, UNSAFE)
    fits = text.replace("480MiB", "403MiB")
    assert not [f for f in run("compose", "compose.yaml", fits, fix=False).findings if f.code == "DF506"]


def test_gomemlimit_follows_the_capped_tmpfs() -> None:
    out = fixed("compose", "compose.yaml", "services:\n  a:\n    image: golang:1.24\n    mem_limit: 128m\n")
    assert "/tmp:size=32m" in out and "GOMEMLIMIT: 86MiB" in out  # 0.9 x (128 - 32)
    tiny = fixed("compose", "compose.yaml", "services:\n  a:\n    image: golang:1.24\n    mem_limit: 20m\n")
    assert "/tmp" not in tiny and "GOMEMLIMIT: 18MiB" in tiny  # 0.9 x 20, no tmpfs


def test_a_malformed_gomemlimit_is_fixed_within_the_budget() -> None:
    text = "services:\n  a:\n    image: golang:1.24\n    mem_limit: 128m\n    environment:\n      GOMEMLIMIT: 1g\n"
    assert "GOMEMLIMIT: 86MiB" in fixed("compose", "compose.yaml", text)


def test_docker_run_flags() -> None:
    text = ("#!/bin/sh\ndocker run -d -m 128m example/a\ndocker run -d -m 20m example/b\n"
            "docker run -d -m 256m --tmpfs /tmp:size=1g example/c\n")
    out = fixed("shell", "run.sh", text).splitlines()
    assert "--tmpfs /tmp:rw,size=32m,mode=1777" in out[1]
    assert "--tmpfs" not in out[2]
    assert "--tmpfs /tmp:size=64m " in out[3]


def test_docker_py() -> None:
    text = ("import docker\nc = docker.from_env()\nc.containers.run('a', detach=True, mem_limit='128m')\n"
            "c.containers.run('b', detach=True, mem_limit='256m', tmpfs={'/tmp': 'size=1g'})\n")
    out = fixed("python", "run.py", text).splitlines()
    assert "tmpfs={'/tmp': 'size=32m,mode=1777'}" in out[2]
    assert "tmpfs={'/tmp': 'size=64m'}" in out[3]
