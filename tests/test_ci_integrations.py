"""The GitHub Action and the pre-commit hooks: their manifests are well formed, the action uses
its inputs only through the environment (never ``${{ }}`` inside a script), and the commands they
run do what they say on real files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = "services:\n  api:\n    image: a\n"


def load(name: str) -> Any:
    return YAML(typ="safe").load((ROOT / name).read_text(encoding="utf-8"))


def dockfix_executable() -> str:
    found = Path(sys.executable).with_name("dockfix")
    return str(found) if found.exists() else (shutil.which("dockfix") or "")


# -- action.yml -------------------------------------------------------------------------------------


def test_action_is_composite_and_never_interpolates_into_scripts() -> None:
    action = load("action.yml")
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert "${{" not in step["run"], step.get("name")
        assert step["shell"] == "bash"
        for value in step.get("env", {}).values():
            assert re.fullmatch(r"\$\{\{ inputs\.[a-z-]+ \}\}", value)
    used = {m for step in action["runs"]["steps"] for m in re.findall(r"inputs\.([a-z-]+)", str(step.get("env")))}
    assert used == set(action["inputs"])


def run_action_step(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the action's 'Run dockfix' step with bash, dockfix already installed in RUNNER_TEMP."""
    exe = dockfix_executable()
    if not exe:
        pytest.skip("the dockfix console script is not installed")
    step = next(s for s in load("action.yml")["runs"]["steps"] if s.get("id") == "run")
    runner_temp = tmp_path / "runner"
    (runner_temp / "dockfix-venv" / "bin").mkdir(parents=True)
    (runner_temp / "dockfix-venv" / "bin" / "dockfix").symlink_to(exe)
    output = tmp_path / "github_output"
    output.touch()
    full_env = dict(os.environ, RUNNER_TEMP=str(runner_temp), GITHUB_OUTPUT=str(output),
                    INPUT_ARGS="check", INPUT_SRC=".", INPUT_SARIF_FILE="", DOCKFIX_OUTPUT_FORMAT="github")
    full_env.update(env)
    work = tmp_path / "repo"
    proc = subprocess.run(["bash", "-c", step["run"]], cwd=work, env=full_env, capture_output=True, text=True,
                          check=False)
    return proc, output


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    work.mkdir()
    (work / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    return work


def test_action_annotates_and_writes_sarif(tmp_path: Path, repo: Path) -> None:
    proc, output = run_action_step(tmp_path, {"INPUT_SARIF_FILE": "dockfix.sarif"})
    assert proc.returncode == 1, proc.stderr
    assert "::warning title=dockfix (DF101),file=compose.yaml,line=2,col=3," in proc.stdout
    sarif = json.loads((repo / "dockfix.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == 5
    assert output.read_text(encoding="utf-8") == "sarif-file=dockfix.sarif\n"


def test_action_inputs_are_words_not_code(tmp_path: Path, repo: Path) -> None:
    proc, _ = run_action_step(tmp_path, {"INPUT_SRC": "compose.yaml $(touch pwned) ;touch pwned2 *"})
    assert not (repo / "pwned").exists() and not (repo / "pwned2").exists()
    assert "$(touch" in proc.stderr  # dockfix was handed the words as they are (and found no such file)


# -- .pre-commit-hooks.yaml ------------------------------------------------------------------------------


def test_pre_commit_manifest() -> None:
    hooks = load(".pre-commit-hooks.yaml")
    assert [h["id"] for h in hooks] == ["dockfix", "dockfix-check"]
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python" and hook["require_serial"] is True
        files = re.compile(hook["files"])
        for name in ("compose.yaml", "deploy/docker-compose.yml", "compose.override.yaml", "compose.prod.yml",
                     "Dockerfile", "svc/Dockerfile.dev", "api.Dockerfile", "Containerfile"):
            assert files.search(name), name
        for name in ("values.yaml", "compose.json", "Dockerfile.d/x.yaml", "mycompose.yaml"):
            assert not files.search(name), name


# The fixing hook exits 1 here: the built-in memory limit is only a suggestion, which remains.
@pytest.mark.parametrize(("hook_id", "rc", "changed"), [("dockfix", 1, True), ("dockfix-check", 1, False)])
def test_pre_commit_entries(tmp_path: Path, hook_id: str, rc: int, changed: bool) -> None:
    """pre-commit runs ``entry`` plus the matching file names; a fixing hook may exit 0 (pre-commit
    sees the modified file), a checking hook must exit non-zero."""
    hook = next(h for h in load(".pre-commit-hooks.yaml") if h["id"] == hook_id)
    target = tmp_path / "compose.yaml"
    target.write_text(COMPOSE, encoding="utf-8")
    argv = hook["entry"].split()
    assert argv[0] == "dockfix"
    proc = subprocess.run([sys.executable, "-m", "rewriter", *argv[1:], "compose.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == rc, proc.stderr
    assert (target.read_text(encoding="utf-8") != COMPOSE) == changed
