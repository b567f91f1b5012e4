"""Defects the real-Compose oracle (tests/test_real_compose.py) found beyond the five of issue 10.

Each test here runs dockfix alone (no Compose binary needed) and fails on the code before its fix.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import FIXTURES


def _case(case: str, dest: Path) -> Path:
    shutil.copy(FIXTURES / "compose" / case / "input.yaml", dest / "compose.yaml")
    return dest


def test_override_respects_the_base_files_suppressions(run_cli, tmp_path: Path) -> None:
    """``# dockfix: ignore[DF301,DF302]`` on a service and ``ignore[DF402]`` on ``pids_limit: 64``
    in compose.yaml held in place but not in the override: compose.prod.yaml got ``mem_limit`` for
    the first and ``pids_limit: 512`` for the second (Compose: in-place 64, override 512)."""
    work = _case("suppressions", tmp_path)
    # --unsafe-fixes: the built-in memory limit is a suggestion; applied, it must still skip api
    code, _, err = run_cli("apply", "--write-to", "override", "--unsafe-fixes", ".", cwd=work)
    assert code == 0, err
    override = (work / "compose.prod.yaml").read_text()
    api, batch = override.split("  batch:\n")
    assert "mem_limit" not in api and "memswap_limit" not in api
    assert "pids_limit" not in batch
    # the same settings as in place, nothing more
    assert run_cli("apply", "--write-to", "override", "--unsafe-fixes", ".", cwd=work)[0] == 0


def test_override_respects_a_suppression_on_an_anchor_user(run_cli, tmp_path: Path) -> None:
    work = _case("anchors-suppressed-one", tmp_path)
    run_cli("apply", "--write-to", "override", ".", cwd=work)
    legacy = (work / "compose.prod.yaml").read_text().split("  legacy:\n")[1]
    assert "ulimits" not in legacy  # DF202 is ignored for legacy: its nofile 1024 stays


def test_override_skips_a_base_file_that_says_skip_file(run_cli, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("# dockfix: skip-file\nservices:\n  a:\n    image: a\n")
    run_cli("apply", "--write-to", "override", ".", cwd=tmp_path)
    assert not (tmp_path / "compose.prod.yaml").exists()


def test_override_sees_what_a_service_inherits_through_extends(run_cli, tmp_path: Path) -> None:
    """``web: {extends: base}`` inherits ``mem_limit: 1g`` and a bare ``/tmp`` tmpfs. The override
    gave web ``mem_limit: 512m`` (halving the inherited limit) and a second ``/tmp`` entry, which
    Compose refuses: ``services.web.tmpfs[1]: target /tmp already mounted``."""
    work = _case("extends-same-file", tmp_path)
    code, out, _ = run_cli("apply", "--write-to", "override", ".", cwd=work)
    assert code == 1  # the bare /tmp in the base is reported, for base and for each user
    override = (work / "compose.prod.yaml").read_text()
    assert "mem_limit" not in override and "tmpfs" not in override
    assert override.count("memswap_limit: 1g") == 3  # the inherited limit, for base, web and worker
    assert b"service 'web': tmpfs '/tmp' has no size" in out


def test_override_refuses_to_write_for_an_unreadable_extends(run_cli, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    extends:\n      file: missing.yaml\n      service: base\n")
    code, out, _ = run_cli("apply", "--write-to", "override", ".", cwd=tmp_path)
    assert code == 1
    assert b"which cannot be read" in out
    assert not (tmp_path / "compose.prod.yaml").exists()
