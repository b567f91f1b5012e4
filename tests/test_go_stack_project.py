"""End to end: ``dockfix apply --profile prod`` on a multi-service Go project, byte-exact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rewriter.cli import main
from fixture_runner import tree

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "go-stack"




@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the project root: the Dockerfile's Compose file is searched up to here
    target = tmp_path / "go-stack"
    shutil.copytree(PROJECT / "input", target)
    return target


def test_apply_prod_gives_each_go_service_its_values(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "--profile", "prod", "--jobs", "1", str(project)]) == 1  # Dockerfile findings remain
    assert tree(project) == tree(PROJECT / "expected.prod")
    out = capsys.readouterr().out
    # the image anti-patterns are reported at their lines, and name the services that build the image
    assert "api/Dockerfile:15:8: DF701" in out and "services 'api', 'worker'" in out
    assert "api/Dockerfile:20:5: DF703" in out and "service 'worker'" in out


def test_apply_prod_twice_changes_nothing(project: Path) -> None:
    main(["apply", "--profile", "prod", "--jobs", "1", str(project)])
    first = tree(project)
    main(["apply", "--profile", "prod", "--jobs", "1", str(project)])
    assert tree(project) == first


def test_expected_values() -> None:
    compose = (PROJECT / "expected.prod" / "compose.yaml").read_text()
    api, worker, db = (compose.split("\n  api:\n")[1].split("\n  worker:\n")[0],
                       compose.split("\n  worker:\n")[1].split("\n  db:\n")[0],
                       compose.split("\n  db:\n")[1])
    assert "GOMEMLIMIT: 633MiB" in api and 'GOMAXPROCS: "2"' in api  # 0.9 x (768m - 64m); Go 1.24, cpus 2
    assert "GOMEMLIMIT: 403MiB" in worker and "GOMAXPROCS" not in worker  # no CPU limit
    assert "GODEBUG" not in compose
    original_db = (PROJECT / "input" / "compose.yaml").read_text().split("\n  db:\n")[1]
    assert db == original_db  # the database is left alone
