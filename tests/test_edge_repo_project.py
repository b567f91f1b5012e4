"""End to end: one repository with a Compose stack, a deploy script, a Python launcher and a user
profile ``edge``; ``dockfix apply --profile edge`` gives every surface the same settings (and the
Go services their GOMEMLIMIT), or with ``--write-to override`` puts the Compose part into
``compose.edge.yaml``; a second run changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rewriter.cli import main
from fixture_runner import tree

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "edge-repo"




@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(PROJECT / "input", target)
    monkeypatch.chdir(target)
    return target


@pytest.mark.parametrize("mode, expected", [([], "expected.edge"),
                                            (["--write-to", "override"], "expected.edge-override")])
def test_one_apply_reaches_every_surface(project: Path, mode: list[str], expected: str) -> None:
    # 1: the database's memory limit stays a suggestion (a heavy image with no heap setting)
    assert main(["apply", "--profile", "edge", "--jobs", "1", *mode, "."]) == 1
    assert tree(project) == tree(PROJECT / expected)
    assert main(["diff", "--profile", "edge", "--jobs", "1", *mode, "."]) == 0
    main(["apply", "--profile", "edge", "--jobs", "1", *mode, "."])
    assert tree(project) == tree(PROJECT / expected)


def test_the_values_agree_across_surfaces() -> None:
    compose = (PROJECT / "expected.edge" / "compose.yaml").read_text()
    script = (PROJECT / "expected.edge" / "scripts" / "deploy.sh").read_text()
    launcher = (PROJECT / "expected.edge" / "launcher.py").read_text()
    assert "mem_limit: 1g" in compose and "--memory 1g" in script and 'mem_limit="1g"' in launcher
    assert "size=128m,mode=1777" in compose and "size=128m,mode=1777" in script and "size=128m,mode=1777" in launcher
    # 0.9 x (1g - 128m) = 806.4 MiB, for the Go services on every surface
    assert "GOMEMLIMIT: 806MiB" in compose and "-e GOMEMLIMIT=806MiB" in script and '"GOMEMLIMIT": "806MiB"' in launcher
    assert "./config/edge/api.yaml:/etc/app/config.yaml:ro" in compose
