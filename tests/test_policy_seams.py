"""Issue 11, policy in the right place: each concern declares its profile options, the planned
state is computed once, Go is a detector over the project model, and the surfaces give the raw
facts the one-off-job policy decides from."""

from __future__ import annotations

from pathlib import Path

import pytest

from rewriter import profiles
from rewriter.engine import Options, process
from rewriter.errors import ConfigError
from rewriter.runfacts import CommandRun, ServiceRun
from rewriter.sizes import ByteSize
from rewriter.source import SourceFile
from transforms import OPTIONS, memory, parse_config, resolve_profile
from transforms.project import job_reason, one_off, tool_run


# -- each concern owns its options ---------------------------------------------------------------


def test_every_option_is_declared_by_one_concern() -> None:
    names = [o.name for o in OPTIONS]
    assert names == ["tmpfs-size", "tmpfs-mode", "nofile", "mem-limit", "swap", "pids-limit",
                     "gomemlimit-ratio", "config-mounts"]  # the order values are checked in
    for option in OPTIONS:
        assert option.doc, option.name
        assert {p for p, _ in option.defaults} <= set(profiles.BUILTIN_NAMES)
    # the built-in profiles are the declarations' defaults; staging extends prod
    builtin = profiles.builtin_profiles(OPTIONS)
    assert builtin["staging"] == {"extends": "prod"}
    assert builtin["prod"]["mem-limit"] == "512m" and builtin["dev"]["mem-limit"] == "none"
    assert "config-mounts" not in builtin["prod"]


def test_profiles_resolve_any_declared_option() -> None:
    """profiles.py knows no concern: an option declared elsewhere is checked, typed and sourced."""
    threads = profiles.Option("max-threads", profiles.count_option(1, 64), (("prod", 8), ("dev", "none")),
                              doc="a made-up concern's key")
    prod = profiles.resolve_profile("prod", {}, "", (threads,))
    assert prod.get(threads) == 8 and not prod.chose("max-threads")
    assert profiles.resolve_profile("dev", {}, "", (threads,)).get(threads) is None
    mine = profiles.resolve_profile("team", {"team": {"extends": "prod", "max-threads": 16}}, "/r/dockfix.toml",
                                    (threads,))
    assert mine.get(threads) == 16 and mine.chose("max-threads") and mine.user_keys == ("max-threads",)
    assert mine.source("max-threads") == "max-threads in profile team (/r/dockfix.toml)"
    with pytest.raises(ConfigError, match=r"profile 'bad': max-threads: 99 is out of range \(must be between 1 and 64\)"):
        profiles.resolve_profile("bad", {"bad": {"max-threads": 99}}, "", (threads,))
    # a key no concern declares is an unknown key, and the message lists the declared ones
    with pytest.raises(ConfigError, match=r"unknown key 'mem-limit' \(known: extends, max-threads\)"):
        profiles.parse_config("dockfix.toml", '[profiles.x]\nmem-limit = "1g"\n', options=(threads,))


def test_a_job_and_a_tool_run_get_the_options_their_concerns_declare() -> None:
    prod = resolve_profile("prod")
    job = prod.for_kind("job", OPTIONS)
    assert job.get(memory.MEM_LIMIT) is None and job.get(memory.SWAP_OFF) is True
    assert [n for n, v in job.values if v != dict(prod.values)[n]] == ["mem-limit", "pids-limit"]
    tool = prod.for_kind("tool", OPTIONS)
    assert [n for n, v in tool.values if v != dict(prod.values)[n]] == ["tmpfs-size", "nofile", "mem-limit",
                                                                          "pids-limit"]


def test_user_config_still_names_its_keys() -> None:
    config = parse_config("/repo/dockfix.toml", '[profiles.edge]\nextends = "prod"\nmem-limit = "1g"\n')
    assert config is not None
    edge = config.resolve_profile("edge")
    assert edge.get(memory.MEM_LIMIT) == ByteSize.parse_docker("1g") and edge.chose("mem-limit")


# -- the planned state, once -----------------------------------------------------------------------


def test_the_memory_plan_is_computed_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = memory._plan

    def counting(container: object, ctx: object) -> object:
        calls.append(getattr(container, "scope"))
        return real(container, ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(memory, "_plan", counting)
    text = "services:\n  api:\n    image: golang:1.24\n  web:\n    image: nginx\n"
    process("compose", SourceFile.from_text("compose.yaml", text), Options(profile=resolve_profile("prod")),
            fix=False)
    # tmpfs (cap), memory (DF301/DF302/DF304) and go_runtime (GOMEMLIMIT) all read the one plan
    assert sorted(calls) == ["services.api", "services.web"]


# -- Go as a detector --------------------------------------------------------------------------------


def test_go_is_detected_over_the_project_model(tmp_path: Path) -> None:
    from rewriter.detectors import NOT_GO, detect_go
    from rewriter.detectors.go import of_build
    from rewriter.model import BuildSpec
    from rewriter.profiles import ServiceConfig
    from rewriter.project import resolve_build

    (tmp_path / ".git").mkdir()
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text("FROM golang:1.25 AS b\nRUN go build -o /a .\nFROM scratch\n"
                                                 "COPY --from=b /a /a\n")
    (tmp_path / "api" / "go.mod").write_text("module x\n\ngo 1.24\n")
    built = resolve_build(str(tmp_path / "compose.yaml"), BuildSpec(context="api"))
    assert built is not None
    facts = of_build(built)  # go.mod's line governs the runtime defaults, not the image's tag
    assert facts.is_go and facts.version == (1, 24) and "go.mod" in facts.version_source
    assert "1.25" in facts.note
    assert detect_go("nginx", None, None) is NOT_GO
    assert detect_go("golang:1.23-alpine", None, None).version == (1, 23)
    assert not detect_go("golang:1.23", None, ServiceConfig("api", go=False)).is_go
    assert detect_go("example/api", built, ServiceConfig("api", go_version=(1, 22))).version == (1, 22)


# -- the surfaces give facts, the policy decides --------------------------------------------------------


def _service_facts(text: str, name: str) -> ServiceRun:
    from rewriter.surfaces import compose

    loaded = compose.load(SourceFile.from_text("compose.yaml", text))
    service = next(s for s in loaded.services if s.name == name)
    return service.run_facts()


def test_compose_gives_raw_run_facts() -> None:
    text = ("services:\n  migrate:\n    image: app\n    restart: no\n    profiles: [tools, ops]\n"
            "    command: /bin/true\n  web:\n    image: app\n    ports: ['80:80']\n    depends_on:\n"
            "      migrate:\n        condition: service_completed_successfully\n")
    assert _service_facts(text, "migrate") == ServiceRun("migrate", "no", False, ("tools", "ops"), "/bin/true", True)
    assert _service_facts(text, "web") == ServiceRun("web", None, True, (), None, False)


@pytest.mark.parametrize(("facts", "why"), [
    (ServiceRun("api", None, False, (), None, True), "another service waits for it"),
    (ServiceRun("api", "always", False, (), "true", False), "its command is 'true'"),
    (ServiceRun("migrate", "always", False, (), None, False), ""),  # restart always: it serves
    (ServiceRun("api", "no", True, (), None, False), ""),  # publishes ports: it serves
    (ServiceRun("api", " No ", False, (), None, False), "restart: \"no\""),
    (ServiceRun("prometheus", None, False, ("metrics",), None, False), ""),
    (ServiceRun("api", None, False, ("Tools",), None, False), "profiles: [Tools]"),
    (ServiceRun("kafka_init", None, False, (), None, False), "its name 'kafka_init' says so"),
])
def test_job_policy_decides_from_the_facts(facts: ServiceRun, why: str) -> None:
    got = job_reason(facts)
    assert (why in got) if why else got == "", got


def test_docker_run_gives_raw_run_facts_and_the_policy_decides(tmp_path: Path) -> None:
    from rewriter.surfaces import shell

    script = tmp_path / "scripts" / "test.sh"
    text = ("docker run --rm -v \"$PWD:/src\" linter:1 /src\ndocker run -d --name api app:1\n"
            "docker run --restart=always app:1\ndocker create app:1\n")
    loaded = shell.load(SourceFile.from_text(str(script), text))
    facts = [c.run_facts() for c in loaded.containers]
    assert facts == [CommandRun("run", True, True, None, None, "script"),
                     CommandRun("run", True, False, "", None, "script"),
                     CommandRun("run", True, False, None, "always", "script"),
                     CommandRun("create", True, False, None, None, "script")]
    assert [tool_run(f, str(script)) for f in facts] == [
        "not detached and without --restart, in the test script 'test.sh'", "", "", ""]
    assert tool_run(facts[0], str(tmp_path / "deploy.sh")) == ""  # a deploy script keeps every rule
    assert one_off(loaded.containers[0], str(script)) == (tool_run(facts[0], str(script)), True)


def test_the_readme_lists_every_declared_option() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    keys = readme.split("Profile keys: ", 1)[1].split("\n\n", 1)[0]
    for option in OPTIONS:
        assert f"`{option.name}`" in keys, option.name


# -- no duck-typed probes across the seam ------------------------------------------------------------

# Where policy and the project model meet the containers. A getattr/setattr/hasattr there asks a
# container for something the Container protocol (or compose_merge.Service) does not declare, which
# mypy --strict cannot check; the only ones left are on objects that are not containers.
SEAM_FILES = ("transforms/*.py", "rewriter/compose_project.py", "rewriter/compose_service.py",
              "rewriter/kubernetes_project.py", "rewriter/compose_merge.py", "rewriter/engine.py",
              "rewriter/surfaces/compose*.py", "rewriter/surfaces/docker_settings.py",
              "rewriter/surfaces/kubernetes.py", "rewriter/detectors/*.py")
NOT_CONTAINERS = {
    ("transforms/project.py", "getattr(ctx, slot)"),  # a Context copied slot by slot (a job's context)
    ("transforms/project.py", "setattr(own, slot, getattr(ctx, slot))"),
    ("rewriter/surfaces/compose_override.py", "getattr(key, 'value', None)"),  # a PyYAML key node
}


def test_nothing_probes_a_container_with_getattr() -> None:
    import ast

    root = Path(__file__).resolve().parent.parent
    found = set()
    for pattern in SEAM_FILES:
        for path in sorted(root.glob(pattern)):
            rel = path.relative_to(root).as_posix()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                        node.func.id in ("getattr", "setattr", "hasattr"):
                    found.add((rel, ast.unparse(node)))
                if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
                    found.add((rel, "__getattr__"))
    assert found <= NOT_CONTAINERS, sorted(found - NOT_CONTAINERS)


def test_every_container_class_answers_the_optional_members() -> None:
    """Each surface's container class derives from ContainerDefaults, so a member only some file
    kinds have (run facts, env_file, a memory request...) is a call mypy checks, not a probe."""
    from rewriter.compose_service import ProjectService
    from rewriter.model import ContainerDefaults
    from rewriter.surfaces.compose import ComposeService
    from rewriter.surfaces.compose_override import OverlayService, UnresolvedExtends
    from rewriter.surfaces.kubernetes import KubernetesContainer
    from rewriter.surfaces.python_sdk import SdkCall, TcChain
    from rewriter.surfaces.shell import DockerCommand

    for cls in (ComposeService, OverlayService, UnresolvedExtends, ProjectService, KubernetesContainer,
                SdkCall, TcChain, DockerCommand):
        assert issubclass(cls, ContainerDefaults), cls
    # the answers of a kind without them
    defaults = ContainerDefaults()
    assert (defaults.run_facts(), defaults.env_files(), defaults.reports_here("DF101"), defaults.orphan,
            defaults.patch_of, defaults.memory_request(), defaults.memory_quantities()) == \
        (None, [], True, "", "", None, [])


def test_an_unresolved_extends_reads_its_service_through_typed_members(tmp_path: Path) -> None:
    """An ``extends`` that cannot be resolved reads env_file, profiles and its file through its
    service (before, through getattr probes that fell back to nothing): a job-named profile
    group still makes it a one-off job, and its env_file is still evidence."""
    from rewriter.surfaces.compose import load
    from rewriter.surfaces.compose_extends import with_extends
    from rewriter.surfaces.compose_override import UnresolvedExtends

    (tmp_path / "app.env").write_text("JAVA_OPTS=-Xmx1g\n")
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  seed:\n    extends: {service: base, file: missing.yaml}\n"
                    "    env_file: app.env\n    profiles: [tools]\n")
    (svc,) = with_extends(load(SourceFile.from_text(str(path), path.read_text())))
    assert isinstance(svc, UnresolvedExtends)
    assert svc.env_files() == [("app.env", str(tmp_path / "app.env"))]
    assert svc.profile_groups() == ("tools",)
    facts = svc.run_facts()
    assert facts.profiles == ("tools",) and facts.name == "seed"
    assert svc.file_doc() is not None
