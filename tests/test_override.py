"""``--write-to override``: the settings go into compose.<profile>.yaml, the base file is untouched."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES

CASES = sorted(p for p in (FIXTURES / "override").iterdir() if p.is_dir())


def _copy(case: Path, dest: Path) -> Path:
    work = dest / case.name
    work.mkdir()
    for f in case.iterdir():
        if not f.name.startswith("expected."):
            shutil.copy(f, work / f.name)
    return work


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_apply_writes_the_override_and_is_idempotent(run_cli, tmp_path: Path, case: Path) -> None:
    work = _copy(case, tmp_path)
    base = (work / "compose.yaml").read_bytes()
    code, _, err = run_cli("apply", "--write-to", "override", ".", cwd=work)
    assert code in (0, 1), err
    assert (work / "compose.yaml").read_bytes() == base
    assert (work / "compose.prod.yaml").read_bytes() == (case / "expected.compose.prod.yaml").read_bytes()
    assert run_cli("diff", "--write-to", "override", ".", cwd=work)[:2] == (0, b"")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_diff_applies_with_git(run_cli, tmp_path: Path, case: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    work = _copy(case, tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    code, out, _ = run_cli("diff", "--write-to", "override", ".", cwd=work)
    assert code == 1
    (tmp_path / "p.diff").write_bytes(out)
    subprocess.run(["git", "apply", str(tmp_path / "p.diff")], cwd=work, check=True)
    assert (work / "compose.prod.yaml").read_bytes() == (case / "expected.compose.prod.yaml").read_bytes()


def test_override_follows_the_profile_and_base_name(run_cli, tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  a:\n    image: a\n")
    (tmp_path / "docker-compose.override.yml").write_text("services:\n  a:\n    ports: ['80:80']\n")
    run_cli("apply", "--write-to", "override", "--profile", "dev", ".", cwd=tmp_path)
    assert (tmp_path / "docker-compose.dev.yml").read_text() == (
        "services:\n  a:\n    tmpfs:\n      - /tmp:size=256m,mode=1777\n"
        "    ulimits:\n      nofile:\n        soft: 65536\n        hard: 65536\n")
    assert not (tmp_path / "docker-compose.override.dev.yml").exists()


def test_base_tmpfs_without_size_is_reported_not_duplicated(run_cli, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: a\n    tmpfs:\n      - /tmp\n")
    code, out, _ = run_cli("apply", "--write-to", "override", "--select", "DF1", ".", cwd=tmp_path)
    assert code == 1
    assert b"DF102" in out and b"fix it there" in out
    assert not (tmp_path / "compose.prod.yaml").exists()
