"""Issue 12, the project half: whole Compose projects, file roles, one-off jobs, interpolation,
layout, discovery and scripts. Each case in ``fixtures/projects/<case>/`` is a small repository
shaped like the real stacks the issue reviewed; ``dockfix apply --profile prod`` must turn
``input/`` into ``expected.prod/`` byte for byte, a second run must change nothing, and the
messages must say what was decided and why."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rewriter.cli import main
from rewriter.compose_project import chains_for, has_variables, interpolate, parse_dotenv
from rewriter.errors import ConfigError
from transforms import parse_config
from fixture_runner import tree

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
CASES = ("overlays", "interpolation", "roles", "jobs", "layout", "discovery", "scripts")


def _copy(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / case
    shutil.copytree(PROJECTS / case / "input", target)
    (target / ".git").mkdir()  # the project root (roles are read below it)
    monkeypatch.chdir(target)
    return target


# The overlays case is about *where* each fix goes; whether changing the overlay's own explicit
# memswap_limit is safe or a suggestion is the evidence rules' call, so it runs with suggestions on.
UNSAFE = {"overlays"}


def _apply(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["apply", "--profile", "prod", "--jobs", "1", "--no-cache", *extra, "."])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("case", CASES)
def test_apply_prod_gives_the_expected_project(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    project = _copy(case, tmp_path, monkeypatch)
    extra = ("--unsafe-fixes",) if case in UNSAFE else ()
    _apply(capsys, *extra)
    assert tree(project) == tree(PROJECTS / case / "expected.prod")
    _apply(capsys, *extra)
    assert tree(project) == tree(PROJECTS / case / "expected.prod")  # a second run changes nothing


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    main(["check", "--profile", "prod", "--jobs", "1", "--no-cache", *args])
    captured = capsys.readouterr()
    return captured.out + captured.err


# -- class 1: the project, not the file ------------------------------------------------------------


def test_overlays_are_read_with_their_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    _copy("overlays", tmp_path, monkeypatch)
    out = _check(capsys, ".")
    lines = out.splitlines()
    # the overlay's own memswap_limit is fixed where it is set, against the base's deploy limit
    assert any(line.startswith("compose.override.yaml:4:20: DF302") and "deploy.resources.limits.memory '256M' "
               "(set in compose.yaml)" in line for line in lines), out
    # nothing is asked of a partial overlay (CI's `web: {}`), nor of the default override's `web`
    assert not any(line.startswith("compose.ci.yaml") for line in lines), out
    assert not any(line.startswith("compose.override.yaml") and "'web'" in line for line in lines), out
    # the base's nofile 1048576 counts; compose.full.yaml's mem_limit 2g takes the swap finding
    assert not any("'search'" in line and "DF20" in line for line in lines), out
    assert any(line.startswith("compose.full.yaml:3:3: DF302") and "mem_limit '2g'" in line for line in lines), out
    assert not any(line.startswith("compose.yaml") and "'search'" in line and "DF302" in line for line in lines)


def test_header_comment_and_default_override_make_chains(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: x\n")
    (tmp_path / "compose.override.yaml").write_text("services:\n  a:\n    environment: {A: '1'}\n")
    full = "# docker compose -f compose.yaml -f compose.full.yaml up\nservices:\n  b:\n    image: y\n"
    (tmp_path / "compose.full.yaml").write_text(full)
    base, override, hinted = (str(tmp_path / n) for n in ("compose.yaml", "compose.override.yaml",
                                                          "compose.full.yaml"))
    assert chains_for(override, (tmp_path / "compose.override.yaml").read_text()) == [(base, override)]
    assert chains_for(hinted, full) == [(base, hinted)]
    assert chains_for(base, "services:\n  a:\n    image: x\n") == [(base, override), (base, hinted)]


def test_compose_file_in_dotenv_with_its_separator(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text("services:\n  a:\n    image: x\n")
    (tmp_path / "prod.yml").write_text("services:\n  a:\n    mem_limit: 1g\n")
    (tmp_path / ".env").write_text("COMPOSE_PATH_SEPARATOR=,\nCOMPOSE_FILE=base.yml,prod.yml\n")
    prod = str(tmp_path / "prod.yml")
    assert chains_for(prod, (tmp_path / "prod.yml").read_text()) == [(str(tmp_path / "base.yml"), prod)]


def test_compose_files_declared_in_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "dockfix.toml").write_text('compose-files = [["stack.yml", "stack-prod.yml"]]\n'
                                           '[profiles.prod]\nmem-limit = "512m"\n')
    (tmp_path / "stack.yml").write_text("services:\n  api:\n    image: x\n    mem_limit: 1g\n")
    (tmp_path / "stack-prod.yml").write_text("services:\n  api:\n    pids_limit: 64\n")
    monkeypatch.chdir(tmp_path)
    out = _check(capsys, "stack.yml", "stack-prod.yml")
    # the overlay sets pids, so the pids finding is its own; everything else belongs to the base
    assert "stack-prod.yml:3:17: DF402" in out
    assert not any(line.startswith("stack-prod.yml") and "DF40" not in line for line in out.splitlines()[:-1]), out
    assert "stack.yml:2:3: DF302" in out and "mem_limit '1g'" in out


def test_a_walk_checks_the_files_a_declared_chain_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`compose-files = [["compose.yaml", "deploy/overlay.yaml"]]`: the overlay is part of the
    project the user named, but `dockfix check .` kept only Compose names and never checked it
    (its Elasticsearch with `env_file: search.env`, the project directory's, went unseen)."""
    from rewriter.api import Settings, fix_files

    (tmp_path / ".git").mkdir()
    (tmp_path / "deploy").mkdir()
    (tmp_path / "dockfix.toml").write_text('compose-files = [["compose.yaml", "deploy/overlay.yaml"]]\n')
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    (tmp_path / "deploy" / "overlay.yaml").write_text("services:\n  search:\n    image: elasticsearch:8.11.1\n"
                                                    "    env_file: search.env\n")
    (tmp_path / "search.env").write_text("ES_JAVA_OPTS=-Xmx1g\n")
    (tmp_path / "deploy" / "search.env").write_text("ES_JAVA_OPTS=-Xmx3g\n")
    monkeypatch.chdir(tmp_path)
    out = _check(capsys, ".")
    assert "deploy/overlay.yaml:2:3: DF301 [*] service 'search'" in out, out
    assert "(mem_limit '2g': -Xmx1g in env_file ../search.env (ES_JAVA_OPTS)" in out, out
    # the pull request's run (dockfix pr) walks the same way
    names = {os.path.relpath(r.job.path, tmp_path) for r in fix_files([str(tmp_path)], Settings(profile="prod"))}
    assert "deploy/overlay.yaml" in names, names


def test_an_overlay_without_its_base_gets_a_note_and_nothing_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "docker-compose.ci.yml").write_text("services:\n  app:\n    environment:\n      CI: 'true'\n")
    monkeypatch.chdir(tmp_path)
    out = _check(capsys, ".")
    assert out.count("DF") == 1 and "docker-compose.ci.yml:2:3: DF901" in out, out
    assert "neither 'image' nor 'build'" in out and "compose-files" in out


def test_a_compose_file_on_stdin_is_read_with_its_overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "compose.override.yaml").write_text("services:\n  api:\n    mem_limit: 2g\n")
    monkeypatch.chdir(tmp_path)
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"services:\n  api:\n    image: x\n")))
    main(["apply", "--profile", "prod", "--stdin-filename", "compose.yaml", "-"])
    out = capsys.readouterr().out
    # the override's mem_limit 2g decides the memory family: the base gets no 512m of its own
    assert "mem_limit" not in out and "memswap_limit" not in out and "pids_limit: 512" in out, out


# -- class 8: interpolation -----------------------------------------------------------------------


@pytest.mark.parametrize("text, env, value", [
    ("${A:-768m}", {}, "768m"),
    ("${A:-768m}", {"A": ""}, "768m"),
    ("${A-768m}", {"A": ""}, ""),
    ("${A-768m}", {}, "768m"),
    ("${A}", {"A": "1g"}, "1g"),
    ("$A/x", {"A": "a"}, "a/x"),
    ("${A:?set A}", {}, None),
    ("${A}", {}, None),
    ("${A:+on}", {"A": "1"}, "on"),
    ("${A:+on}", {}, ""),
    ("$${A}", {"A": "1"}, "${A}"),
    ("${A:-${B:-/tmp}}", {}, "/tmp"),
])
def test_interpolation_reads_as_compose_does(text: str, env: dict[str, str], value: str | None) -> None:
    assert interpolate(text, env).value == value


def test_dotenv_and_dollar_dollar() -> None:
    env = parse_dotenv("# c\nexport A=1\nB='x $A'\nC=\"line\\nnext\"\nD=v # comment\nE=${A}2\n")
    assert env == {"A": "1", "B": "x $A", "C": "line\nnext", "D": "v", "E": "12"}
    assert not has_variables("$$9.99") and has_variables("${X}") and has_variables("$X")


def test_interpolated_values_are_reported_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _copy("interpolation", tmp_path, monkeypatch)
    out = _check(capsys, ".")
    assert "memswap_limit '2g' (interpolated from '${WORKER_SWAP:-2g}': WORKER_SWAP is not set in .env: " \
           "its default '2g')" in out
    assert out.count("[no automatic fix: '${") == 3  # swap, the /tmp entry and nofile
    # /tmp written as ${CACHE_TMP:-/tmp} is /tmp: its size is reported, no second /tmp is added
    assert "DF101" not in out and "compose.yaml:20:9: DF102" in out


def test_gomemlimit_from_an_interpolated_limit_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    _copy("interpolation", tmp_path, monkeypatch)
    main(["check", "--profile", "prod", "--no-cache", "--select", "DF501", "."])
    out = capsys.readouterr().out
    assert "GOMEMLIMIT = 0.9 x (mem_limit '768m' (interpolated from '${API_MEM:-768m}': API_MEM is not set " \
           "in .env: its default '768m') - tmpfs /tmp 64m) = 633MiB" in out, out


# -- class 2: file roles --------------------------------------------------------------------------


def test_roles_say_which_profile_and_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _copy("roles", tmp_path, monkeypatch)
    out = _check(capsys, ".")
    assert "(profile dev instead of prod, for a test or CI file under 'tests/': " in out
    assert "(profile dev instead of prod, for a development file by its name 'docker-compose.dev.yml': " in out
    assert "(profile dev instead of prod, for a development container's file under '.devcontainer/': " in out
    assert "docker/test" not in out  # role none: not checked
    assert "deploy/compose.local.yml:2:3: DF301" in out  # the config's prod beats the name


def test_role_config_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="roles: 'x/\\*' must be one of prod, dev, none"):
        parse_config(str(tmp_path / "dockfix.toml"), 'roles = {"x/*" = "staging"}\n')
    with pytest.raises(ConfigError, match="'compose-files' must be a list of chains") as err:
        parse_config(str(tmp_path / "dockfix.toml"), 'profile = "prod"\ncompose-files = ["a.yaml"]\n')
    assert err.value.line == 2


def test_a_file_with_role_none_named_on_the_command_line_is_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _copy("roles", tmp_path, monkeypatch)
    assert main(["apply", "--profile", "prod", "docker/test/compose.yaml"]) == 0
    assert "skipped: role none (the config's roles 'docker/test/*')" in capsys.readouterr().err


# -- class 6: one-off jobs ------------------------------------------------------------------------


def test_one_off_jobs_are_named_with_their_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _copy("jobs", tmp_path, monkeypatch)
    out = _check(capsys, ".")
    for name, why in [("migrate", "another service waits for it with 'condition: service_completed_successfully'"),
                      ("keygen", "its command is '/bin/true'"), ("createbuckets", 'restart: "no", and it publishes no ports'),
                      ("seed", "it runs only with 'profiles: [tools]'"), ("kafka-init", "its name 'kafka-init' says so")]:
        assert f"DF902 service '{name}': a one-off job ({why}); no memory or pids limit is added" in out, name
    # restart "no" on a service that publishes ports, a metrics profile, restart always: they serve
    for name in ("web", "db", "api", "grafana"):
        assert f"'{name}': a one-off" not in out, name


# -- class 9: layout ------------------------------------------------------------------------------


def test_commented_entries_stay_with_their_block() -> None:
    fixed = (PROJECTS / "layout" / "expected.prod" / "compose.yaml").read_text()
    assert '      LOG_LEVEL: info\n      #  FEATURE_X: "true"\n      #  FEATURE_Y: "true"\n    tmpfs:\n' in fixed
    assert "      - cache:/data\n      # - ./cache.conf:/etc/cache/cache.conf:ro\n    tmpfs:\n" in fixed
    uncommented = fixed.replace('      #  FEATURE_X: "true"', '      FEATURE_X: "true"')
    import yaml

    assert yaml.safe_load(uncommented)["services"]["api"]["environment"]["FEATURE_X"] == "true"


# -- class 10: discovery --------------------------------------------------------------------------


@pytest.mark.parametrize("name, kind", [("docker-compose-monitoring.yml", "compose"),
                                        ("compose-tools.yaml", "compose"), ("deploy/compose.prod.yaml", "compose"),
                                        ("config-values.yaml", None), ("composer.yaml", None)])
def test_compose_names(name: str, kind: str | None) -> None:
    from rewriter.discovery import kind_of

    assert kind_of(name) == kind


# -- class 11: scripts ----------------------------------------------------------------------------


def test_tool_runs_in_build_and_test_scripts_get_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    _copy("scripts", tmp_path, monkeypatch)
    out = _check(capsys, ".")
    assert "release.sh" not in out and "lint.sh" not in out
    assert "scripts/test.sh:4" not in out  # the --rm test run: a tool run
    assert "scripts/deploy.sh:2:1: DF101" in out  # a deploy script's foreground container serves


def test_detached_containers_of_test_scripts_get_the_dev_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A script's role follows the Compose files' rules: the database test.sh starts with ``docker
    run -d`` is a test's, so it gets the dev profile (bounded /tmp and nofile, no limits); before,
    it got the prod profile's 512m limit and pids limit. So do a CI workflow's service and a
    pytest conftest's testcontainer; ci/deploy.sh deploys and keeps the prod profile."""
    _copy("scripts", tmp_path, monkeypatch)
    lines = _check(capsys, ".").splitlines()
    test_db = [line for line in lines if line.startswith("scripts/test.sh:3:1:")]
    assert [line.split()[1] for line in test_db] == ["DF101", "DF201"], test_db
    assert all("(profile dev instead of prod, for a test or CI file by its name 'test.sh': " in line
               for line in test_db), test_db
    workflow = [line for line in lines if line.startswith(".github/workflows/main.yml")]
    assert [line.split()[1] for line in workflow] == ["DF101", "DF201"], workflow
    assert "for a test or CI file under '.github/'" in workflow[0], workflow
    conftest = [line for line in lines if line.startswith("tests/conftest.py")]
    assert conftest and not any("DF3" in line or "DF4" in line for line in conftest), conftest
    assert "for a test file by its name 'conftest.py'" in conftest[0], conftest
    deploy = [line.split()[1] for line in lines if line.startswith("ci/deploy.sh")]
    assert deploy == ["DF101", "DF201", "DF301", "DF302", "DF401"], deploy


@pytest.mark.parametrize(("path", "kind", "role"), [
    ("scripts/test.sh", "shell", "dev"), ("run-tests.sh", "shell", "dev"), ("ci.mk", "shell", "dev"),
    ("test/tests/mysql-initdb/run.sh", "shell", "dev"), ("hack/test-integration", "shell", "dev"),
    (".github/workflows/ci.yml", "shell", "dev"), (".devcontainer/post-create.sh", "shell", "dev"),
    ("scripts/start-dev.sh", "shell", "dev"), ("tests/start-server.sh", "shell", "dev"),
    ("ci/deploy.sh", "shell", "prod"), ("tests/deploy-prod.sh", "shell", "prod"), ("Makefile", "shell", "prod"),
    ("scripts/start.sh", "shell", "prod"), ("scripts/build.sh", "shell", "prod"),
    ("tests/conftest.py", "python", "dev"), ("app/test_db.py", "python", "dev"), ("app/db_test.py", "python", "dev"),
    ("app/worker.py", "python", "prod"), ("app/contest.py", "python", "prod"),
    ("test/Dockerfile", "dockerfile", "prod"),  # a Dockerfile is not classified: its image may ship
])
def test_scripts_and_programs_take_their_role_from_their_path(path: str, kind: str, role: str,
                                                              tmp_path: Path) -> None:
    from rewriter.roles import role_of

    (tmp_path / ".git").mkdir()
    assert role_of(str(tmp_path / path), kind, "", ())[0] == role


def test_cold_path_of_a_lone_compose_file_reads_only_its_directory(tmp_path: Path) -> None:
    """format-on-save: a Compose file with no siblings costs a few stats (its directory, and the
    two above it for a file that includes it), no YAML of other files."""
    from rewriter import deps

    project = tmp_path / "a" / "b"
    project.mkdir(parents=True)
    (project / "compose.yaml").write_text("services:\n  a:\n    image: x\n")
    with deps.recording() as touched:
        assert chains_for(str(project / "compose.yaml"), "services:\n  a:\n    image: x\n") == []
    allowed = {str(project), str(project.parent), str(tmp_path)}
    assert touched and all(os.path.dirname(p) in allowed for p in touched), touched
    assert str(project / "compose.yaml") not in touched and len(touched) <= 16


def test_an_included_file_is_read_with_the_overlays_of_its_includer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """compose.yaml includes db/compose.yaml and compose.override.yaml sets db's mem_limit: the
    included file must not get a 512m memswap_limit below the override's 2g limit."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "db").mkdir()
    (tmp_path / "compose.yaml").write_text("include:\n  - path: db/compose.yaml\nservices:\n  api:\n    image: x\n")
    (tmp_path / "db" / "compose.yaml").write_text("services:\n  db:\n    image: example/db\n")
    (tmp_path / "compose.override.yaml").write_text("services:\n  db:\n    mem_limit: 2g\n")
    monkeypatch.chdir(tmp_path)
    out = _check(capsys, ".")
    assert "compose.override.yaml:2:3: DF302" in out and "mem_limit '2g'" in out
    assert not any(line.startswith("db/compose.yaml") and "DF30" in line for line in out.splitlines()), out
    assert "db/compose.yaml:2:3: DF401" in out


def test_the_merged_service_reads_the_last_file_and_writes_this_one() -> None:
    """The command follows Compose's later-wins rule; every change goes into this file's
    definition, a new memory limit where the project's deploy block puts it. (ProjectService is
    an explicit class: it used to forward unknown names through ``__getattr__``, which mypy
    cannot check.)"""
    from rewriter.compose_merge import relabeller, same
    from rewriter.compose_service import ProjectService
    from rewriter.model import Span
    from rewriter.settings import MEMORY, Found
    from rewriter.sizes import ByteSize

    class Layer:
        def __init__(self, command: tuple[str, ...], block: bool) -> None:
            self.name, self.scope, self.label, self.span = "api", "services.api", "service 'api'", Span(3, 6)
            self._command = command
            self._block = block
            self.written: list[tuple[object, object, Found[ByteSize] | None]] = []

        def command(self) -> tuple[str, ...]:
            return self._command

        def has_block(self, keys: tuple[str, ...]) -> bool:
            return self._block

        def set(self, key: object, value: object, where: Found[ByteSize] | None = None) -> str:
            self.written.append((key, value, where))
            return "fix"

    here = Layer((), False)
    overlay = Layer(("serve", "--fast"), True)
    service = ProjectService([(here, same), (overlay, relabeller(here.span, "set in compose.prod.yaml"))],  # type: ignore[list-item]
                             0, ["compose.yaml", "compose.prod.yaml"])
    assert service.command() == ("serve", "--fast")
    assert service.set(MEMORY, ByteSize.mib(512)) == "fix"
    assert overlay.written == []
    ((key, value, where),) = here.written
    assert (key, value) == (MEMORY, ByteSize.mib(512))
    assert where is not None and where.name == "deploy.resources.limits.memory"
    assert not hasattr(service, "set_command")


def test_each_base_file_pairs_with_its_own_override(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: x\n")
    (tmp_path / "docker-compose.yml").write_text("services:\n  b:\n    image: x\n")
    (tmp_path / "docker-compose.override.yml").write_text("services:\n  b:\n    memswap_limit: 2g\n")
    legacy, override = str(tmp_path / "docker-compose.yml"), str(tmp_path / "docker-compose.override.yml")
    assert chains_for(legacy, (tmp_path / "docker-compose.yml").read_text()) == [(legacy, override)]
    assert chains_for(override, (tmp_path / "docker-compose.override.yml").read_text()) == [(legacy, override)]
    assert chains_for(str(tmp_path / "compose.yaml"), "services:\n  a:\n    image: x\n") == []


def test_a_new_limit_goes_beside_a_deploy_block_another_file_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """compose.override.yaml gives the service a deploy limits block: the base's new pids limit goes
    into that block's key, because Compose refuses a pids_limit beside a block without pids."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text("services:\n  api:\n    image: x\n")
    (tmp_path / "compose.override.yaml").write_text(
        "services:\n  api:\n    deploy:\n      resources:\n        limits:\n          memory: 1g\n")
    monkeypatch.chdir(tmp_path)
    main(["apply", "--profile", "prod", "--no-cache", "--select", "DF4", "."])
    capsys.readouterr()
    base = (tmp_path / "compose.yaml").read_text()
    assert "pids_limit" not in base and "      resources:\n        limits:\n          pids: 512\n" in base, base


def test_project_files_are_read_only_inside_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """COMPOSE_FILE naming a FIFO, an overlay that is a link out of the repository: neither is read
    (a FIFO would block for ever), and the run goes on."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()
    (repo / "compose.yaml").write_text("services:\n  api:\n    image: x\n")
    os.mkfifo(repo / "pipe.yaml")
    (repo / ".env").write_text("COMPOSE_FILE=compose.yaml:pipe.yaml\n")
    (tmp_path / "outside.yaml").write_text("services:\n  api:\n    mem_limit: 8g\n")
    (repo / "compose.override.yaml").symlink_to(tmp_path / "outside.yaml")
    monkeypatch.chdir(repo)
    assert chains_for(str(repo / "compose.yaml"), "services:\n  api:\n    image: x\n") == []
    out = _check(capsys, "compose.yaml")
    assert "compose.yaml:2:3: DF301" in out  # the outside file's 8g was not read
