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


def _outputs(case: Path) -> dict[str, bytes]:
    """``expected.<name>``: what ``<name>`` must hold after the run (the other files stay as they are)."""
    return {f.name[len("expected."):]: f.read_bytes() for f in case.iterdir() if f.name.startswith("expected.")}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_apply_writes_the_override_and_is_idempotent(run_cli, tmp_path: Path, case: Path) -> None:
    work = _copy(case, tmp_path)
    before = {f.name: f.read_bytes() for f in work.iterdir()}
    outputs = _outputs(case)
    code, _, err = run_cli("apply", "--write-to", "override", ".", cwd=work)
    assert code in (0, 1), err
    assert {f.name: f.read_bytes() for f in work.iterdir()} == {**before, **outputs}
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
    for name, data in _outputs(case).items():
        assert (work / name).read_bytes() == data


def test_override_follows_the_profile_and_base_name(run_cli, tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  a:\n    image: a\n")
    (tmp_path / "docker-compose.override.yml").write_text("services:\n  a:\n    ports: ['80:80']\n")
    run_cli("apply", "--write-to", "override", "--profile", "dev", ".", cwd=tmp_path)
    assert (tmp_path / "docker-compose.dev.yml").read_text() == (
        "services:\n  a:\n    tmpfs:\n      - /tmp:size=256m,mode=1777\n"
        "    ulimits:\n      nofile:\n        soft: 65536\n        hard: 65536\n")
    # every Compose file gets its own <stem>.<profile>.<ext>, an .override. file too (issue 10)
    assert (tmp_path / "docker-compose.override.dev.yml").read_text() == (
        "services:\n  a:\n    tmpfs:\n      - /tmp:size=256m,mode=1777\n"
        "    ulimits:\n      nofile:\n        soft: 65536\n        hard: 65536\n")
    assert not (tmp_path / "docker-compose.dev.dev.yml").exists()


def test_memswap_next_to_an_interpolated_limit_copies_the_expression(run_cli, tmp_path: Path) -> None:
    """As in place (README "Interpolation"): the override's memswap_limit is the base limit's
    expression, so the two follow API_MEMORY together; before, the override got the literal '1g'
    (found by the Compose oracle on compose/swap-forms)."""
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: a\n    mem_limit: ${API_MEMORY:-1g}\n")
    run_cli("apply", "--write-to", "override", "--profile", "prod", ".", cwd=tmp_path)
    text = (tmp_path / "compose.prod.yaml").read_text()
    assert "memswap_limit: ${API_MEMORY:-1g}" in text, text


def test_base_tmpfs_without_size_is_reported_not_duplicated(run_cli, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: a\n    tmpfs:\n      - /tmp\n")
    code, out, _ = run_cli("apply", "--write-to", "override", "--select", "DF1", ".", cwd=tmp_path)
    assert code == 1
    assert b"DF102" in out and b"fix it there" in out
    assert not (tmp_path / "compose.prod.yaml").exists()


@pytest.mark.parametrize(("name", "override"), [
    ("docker-compose.test.yml", "docker-compose.test.prod.yml"),
    ("compose.base.yml", "compose.base.prod.yml"),
    ("docker-compose-tls.yml", "docker-compose-tls.prod.yml"),
    ("compose.override.yaml", "compose.override.prod.yaml"),
    ("stack.yaml", "stack.prod.yaml"),
])
def test_every_compose_file_gets_an_override(run_cli, tmp_path: Path, name: str, override: str) -> None:
    """Not only compose.y(a)ml: any Compose file gets <stem>.<profile>.<ext> beside it (issue 10)."""
    base = b"services:\n  a:\n    image: a\n"
    (tmp_path / name).write_bytes(base)
    code, _, err = run_cli("apply", "--write-to", "override", name, cwd=tmp_path)
    assert code == 1, err  # the built-in memory limit (and its swap setting) stay suggestions
    assert "Fixed 3 findings in 1 file; 2 remaining" in err
    assert (tmp_path / name).read_bytes() == base
    assert b"    pids_limit: 512\n" in (tmp_path / override).read_bytes()
    assert run_cli("diff", "--write-to", "override", name, cwd=tmp_path)[:2] == (0, b"")
    # the walk finds the base and the override, and does the override only as the base's
    assert run_cli("diff", "--write-to", "override", ".", cwd=tmp_path)[:2] == (0, b"")


def test_an_override_named_alone_is_fixed_against_its_base(run_cli, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: a\n")
    (tmp_path / "compose.prod.yaml").write_text("services:\n  a:\n    mem_limit: 1g\n")
    code, out, err = run_cli("diff", "--write-to", "override", "compose.prod.yaml", cwd=tmp_path)
    assert code == 1, err
    assert b"+++ b/compose.prod.yaml" in out and b"+    memswap_limit: 1g" in out
    assert not (tmp_path / "compose.prod.prod.yaml").exists()


def test_an_overlays_override_is_built_on_its_project(run_cli, tmp_path: Path) -> None:
    """``compose.override.prod.yaml`` is used after compose.yaml and compose.override.yaml, so it is
    built on the two merged (README "Compose projects"): the worker's limits stay in the base's
    ``deploy.resources.limits`` (only the overlay's wrong memswap is overridden) and the api's
    memswap copies the base's ``${API_MEM:-768m}``. Before, the overlay was read alone: both got
    ``mem_limit: 512m`` (the worker's beside ``limits.memory: 256M``, which Compose refuses: "can't
    set distinct values on 'mem_limit' and 'deploy.resources.limits.memory'"). An overlay whose
    base is not found gets its DF901 note and no override, as in place."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  worker:\n    image: w\n    deploy:\n      resources:\n        limits:\n"
        "          memory: 256M\n          pids: 512\n  api:\n    image: a\n    mem_limit: ${API_MEM:-768m}\n")
    (tmp_path / "compose.override.yaml").write_text(
        "services:\n  worker:\n    memswap_limit: 512m\n  api:\n    environment:\n      DEBUG: \"1\"\n")
    (tmp_path / "orphan").mkdir()
    (tmp_path / "orphan" / "compose.ci.yaml").write_text("services:\n  app:\n    environment:\n      A: \"1\"\n")
    # unsafe too: the overlay's explicit memswap_limit: 512m (over 256M) is a decision (DF302)
    code, out, err = run_cli("apply", "--write-to", "override", "--unsafe-fixes", "compose.override.yaml",
                             "orphan/compose.ci.yaml", cwd=tmp_path)
    assert code == 0 and b"DF901 service 'app'" in out, err  # a note: exit 0
    nofile = "    ulimits:\n      nofile:\n        soft: 65536\n        hard: 65536\n"
    assert (tmp_path / "compose.override.prod.yaml").read_text() == (
        "services:\n  worker:\n    tmpfs:\n      - /tmp:size=64m,mode=1777\n" + nofile
        + "    memswap_limit: 256M\n  api:\n    tmpfs:\n      - /tmp:size=64m,mode=1777\n" + nofile
        + "    memswap_limit: ${API_MEM:-768m}\n    pids_limit: 512\n")
    assert not (tmp_path / "orphan" / "compose.ci.prod.yaml").exists()
    assert run_cli("diff", "--write-to", "override", "--unsafe-fixes", "compose.override.yaml",
                   cwd=tmp_path)[:2] == (0, b"")


def test_a_file_that_cannot_get_an_override_is_an_error(run_cli, tmp_path: Path) -> None:
    (tmp_path / "Stackfile").write_text("services:\n  a:\n    image: a\n")
    code, _, err = run_cli("apply", "--write-to", "override", "--file-type", "compose", "Stackfile", cwd=tmp_path)
    assert code == 2
    assert "Stackfile: --write-to override" in err and "nothing was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Stackfile"]


@pytest.mark.parametrize("count", [15, 40, 200])
def test_override_settles_whatever_the_number_of_services(run_cli, tmp_path: Path, count: int,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Each pass creates every missing service at once: the passes do not grow with the services
    (one service per pass made 15 services end with 'did not settle after 16 passes')."""
    from rewriter import engine

    passes: list[int] = []
    real = engine._apply_checked

    def counting(*args: object, **kwargs: object) -> object:
        passes.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_apply_checked", counting)
    text = "services:\n" + "".join(f"  svc{i}:\n    image: example/s{i}\n" for i in range(count))
    (tmp_path / "compose.yaml").write_text(text)
    code, _, err = run_cli("apply", "--unsafe-fixes", "--write-to", "override", ".", cwd=tmp_path)
    assert code == 0, err
    assert len(passes) <= 4
    over = (tmp_path / "compose.prod.yaml").read_text()
    assert over.count("    pids_limit: 512\n") == count and over.count("/tmp:size=64m") == count
    assert (tmp_path / "compose.yaml").read_text() == text
