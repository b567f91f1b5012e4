"""Go-aware remediation: GOMEMLIMIT/GOMAXPROCS for Compose services, Dockerfile anti-patterns."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixture_runner import Case, cases, fixed_bytes, modes, run  # noqa: E402

from rewriter.golang import split_image  # noqa: E402
from transforms import resolve_profile  # noqa: E402
from rewriter.detectors.go import go_mod_version, of_build  # noqa: E402
from rewriter.project import (  # noqa: E402
    closure,
    stages_of,
    substitute,
)
from rewriter.sizes import ByteSize  # noqa: E402
from rewriter.source import SourceFile  # noqa: E402
from transforms.go_runtime import gomemlimit_value, loose_size  # noqa: E402
from transforms.image_antipatterns import classify, madvdontneed_rest  # noqa: E402

CASES = cases("go", "dockerfile")
BARE = resolve_profile("bare", {"bare": {"tmpfs-size": "none", "nofile": "none", "mem-limit": "none",
                                         "pids-limit": "none", "swap": "keep"}})
def test_every_fixture_case_is_exercised() -> None:
    names = {c.id for c in CASES}
    for wanted in ("go/anchor-shared", "go/arg-before-from", "go/build-args-125", "go/target-not-go",
                   "go/gomod-vs-tag", "dockerfile/heredoc", "dockerfile/escape-backtick",
                   "go/env-list", "go/env-mapping"):
        assert wanted in names


# -- BuildKit accepts what dockfix writes, and only the intended instructions change -----------

DOCKERFILE_CASES = [c for c in CASES if c.kind == "dockerfile"]


def _instructions(path: Path) -> list[tuple[object, ...]]:
    import dockerfile

    return [(c.cmd, c.flags, c.value, tuple(h.content for h in c.heredocs))
            for c in dockerfile.parse_string(path.read_bytes().decode("utf-8").lstrip("\ufeff"))]


@pytest.mark.parametrize("case", DOCKERFILE_CASES, ids=[c.id for c in DOCKERFILE_CASES])
def test_buildkit_accepts_output_and_changes_only_flagged_instructions(case: Case) -> None:
    before = _instructions(case.input)
    for profile, unsafe in modes(case):
        expected = case.expected_for(profile, unsafe)
        after = _instructions(expected)  # parses, or the test fails
        # the instructions (numbered in the input) that have a fix this mode may apply
        outcome = run(case.input, case.kind, profile, unsafe, fix=False)
        touched = {int(f.scope.split(".")[1]) for f in outcome.findings
                   if f.fix is not None and f.fix.applicability >= (1 if unsafe else 2)}
        removed = len(before) - len(after)
        kept = [ins for n, ins in enumerate(before) if n not in touched]
        # every instruction no fix was for is still there, unchanged and in order
        it = iter(after)
        assert all(any(ins == other for other in it) for ins in kept)
        assert removed <= len(touched)


def test_cmd_with_cgroup_write_still_starts_the_app(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\nCMD echo 67108864 > /sys/fs/cgroup/memory.max && exec app\n")
    out = fixed_bytes(path, "dockerfile", "prod", True).decode()
    assert out == "FROM alpine\nCMD exec app\n"
    outcome = run(path, "dockerfile", "prod", False)
    codes = {f.code: f for f in outcome.findings}
    assert codes["DF703"].severity.value == "error"
    assert codes["DF703"].line == 2


def test_dockerfile_findings_point_at_their_lines() -> None:
    case = next(c for c in DOCKERFILE_CASES if c.id == "dockerfile/heredoc")
    outcome = run(case.input, "dockerfile", "prod", False)
    got = sorted((f.line, f.code) for f in outcome.findings if f.code != "DF706")
    assert got == [(6, "DF702"), (7, "DF701"), (10, "DF701")]


def test_suppression_above_the_instruction() -> None:
    case = next(c for c in DOCKERFILE_CASES if c.id == "dockerfile/suppressed")
    codes = [f.code for f in run(case.input, "dockerfile", "prod", False).findings]
    assert "DF702" not in codes and "DF701" in codes


def test_compose_and_dockerfile_findings_name_each_other() -> None:
    case = next(c for c in DOCKERFILE_CASES if c.id == "dockerfile/compose-linked")
    findings = run(case.input, "dockerfile", "prod", False).findings
    df701 = next(f for f in findings if f.code == "DF701")
    assert "service 'api' in compose.yaml" in df701.message
    compose = case.directory / "compose.yaml"
    assert not [f for f in run(compose, "compose", "prod", False).findings if f.code.startswith("DF70")]
    side = run(compose, "compose", BARE, False).findings  # the profile adds none of them itself
    linked = {f.code: f for f in side if f.code in ("DF701", "DF702", "DF703")}
    assert set(linked) == {"DF701", "DF702", "DF703"}
    assert "input.Dockerfile line 4" in linked["DF701"].message
    assert "mem_limit '256m'" in linked["DF703"].message
    assert "size=128m" in linked["DF702"].message


def test_compose_side_moves_the_intent_with_unsafe_fixes() -> None:
    case = next(c for c in DOCKERFILE_CASES if c.id == "dockerfile/compose-linked")
    compose = case.directory / "compose.yaml"
    out = fixed_bytes(compose, "compose", BARE, True).decode()
    assert out.endswith("    environment:\n      - PORT=8080\n"
                        "      - GOMEMLIMIT=115MiB\n"  # 0.9 x (256m - 128m)
                        "    ulimits:\n      nofile:\n        soft: 65536\n        hard: 65536\n"
                        "    tmpfs:\n      - /tmp:size=128m,mode=1777\n"
                        "    mem_limit: 256m\n"), out
    assert fixed_bytes(compose, "compose", BARE, True, data=out.encode()) == out.encode()
    # without --unsafe-fixes neither side moves
    assert fixed_bytes(compose, "compose", BARE, False) == compose.read_bytes()


def test_dockerfile_only_repo_is_told_what_to_pass_at_run_time(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "Dockerfile"
    path.write_text("FROM golang:1.24 AS b\nRUN go build -o /a .\nFROM scratch\nCOPY --from=b /a /a\n")
    findings = run(path, "dockerfile", "prod", True).findings
    note = next(f for f in findings if f.code == "DF706")
    assert note.fix is None and note.line == 3
    assert "--memory 512m" in note.message and "GOMEMLIMIT=403MiB" in note.message
    assert fixed_bytes(path, "dockerfile", "prod", True) == path.read_bytes()  # nothing baked in


def test_run_time_advice_comes_from_the_active_profile(tmp_path: Path) -> None:
    """DF706 used to print prod's values whatever the profile (``--memory 512m`` under dev)."""
    from rewriter.profiles import parse_config as parse_with
    from transforms import OPTIONS

    (tmp_path / ".git").mkdir()
    path = tmp_path / "Dockerfile"
    path.write_text("FROM golang:1.24 AS b\nRUN go build -o /a .\nFROM scratch\nCOPY --from=b /a /a\n")

    def advice(profile: object) -> str:
        return next(f for f in run(path, "dockerfile", profile, True).findings if f.code == "DF706").message

    dev = advice("dev")  # no memory or pids limit in dev: nothing to compute GOMEMLIMIT from either
    assert dev.endswith("docker run --tmpfs /tmp:size=256m,mode=1777 --ulimit nofile=65536:65536"), dev
    config = parse_with(str(tmp_path / "dockfix.toml"), '[profiles.big]\nextends = "prod"\nmem-limit = "1g"\npids-limit = 1024\n'
                        'gomemlimit-ratio = 0.8\n', options=OPTIONS)
    assert config is not None
    big = advice(config.resolve_profile("big"))  # 0.8 x (1024 MiB - 64 MiB) = 768 MiB
    assert ("docker run --memory 1g --memory-swap 1g --tmpfs /tmp:size=64m,mode=1777 "
            "--ulimit nofile=65536:65536 --pids-limit 1024 -e GOMEMLIMIT=768MiB (0.8 x (memory - tmpfs), in MiB)"
            ) in big, big
    small = advice(config.replace(profiles={"small": {"mem-limit": "128m", "swap": "keep"}}).resolve_profile("small"))
    # swap kept: no --memory-swap; no built-in profile under it: no tmpfs, nofile or pids either
    assert small.endswith("docker run --memory 128m -e GOMEMLIMIT=115MiB (0.9 x memory, in MiB)"), small
    bare = config.replace(profiles={"bare": {}}).resolve_profile("bare")
    assert [f.code for f in run(path, "dockerfile", bare, True).findings if f.code == "DF706"] == []


def test_fstab_advice_names_the_intended_size_or_the_profiles(tmp_path: Path) -> None:
    """DF702's ``docker run`` advice said ``size=64m`` whatever the fstab line or the profile."""
    (tmp_path / ".git").mkdir()
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\nRUN echo 'tmpfs /tmp tmpfs rw,size=100m 0 0' >> /etc/fstab\n"
                    "RUN echo 'tmpfs /tmp tmpfs rw 0 0' >> /etc/fstab\n")
    advice = [f.message for f in run(path, "dockerfile", "dev", False).findings if f.code == "DF702"]
    assert [m.split("; ", 1)[1] for m in advice] == [
        "pass --tmpfs /tmp:size=100m,mode=1777 at docker run instead",  # what the line meant
        "pass --tmpfs /tmp:size=256m,mode=1777 at docker run instead"]  # no size: the dev profile's


# -- values ------------------------------------------------------------------------------------


def test_gomemlimit_formula() -> None:
    value = gomemlimit_value(ByteSize.parse_docker("768m") or ByteSize(0), ByteSize.mib(64), 0.9)
    assert value is not None and value.gomemlimit() == "633MiB"
    assert gomemlimit_value(ByteSize.mib(64), ByteSize.mib(64), 0.9) is None


@pytest.mark.parametrize(("text", "mib"), [("512M", 512), ("512Mi", 512), ("512mb", 512), ("1g", 1024)])
def test_loose_size(text: str, mib: int) -> None:
    assert loose_size(text) == ByteSize.mib(mib)
    assert ByteSize.parse_gomemlimit(text) is None


def test_godebug_keeps_other_keys() -> None:
    assert madvdontneed_rest("http2client=0, madvdontneed=1,x509sha1=1") == "http2client=0,x509sha1=1"
    assert madvdontneed_rest("madvdontneed=1") == ""
    assert madvdontneed_rest("madvdontneed=0") is None


@pytest.mark.parametrize(("text", "code"), [
    ("echo 'ulimit -n 65536' >> /etc/profile.d/x.sh", "DF701"),
    ("echo '* hard nofile 65536' | tee -a /etc/security/limits.conf", "DF701"),
    ("echo 'tmpfs /tmp tmpfs size=1g 0 0' >> /etc/fstab", "DF702"),
    ("echo max > /sys/fs/cgroup/pids.max", "DF703"),
    ("printf 1 | tee /sys/fs/cgroup/memory.oom.group", "DF703"),
])
def test_classify(text: str, code: str) -> None:
    found = classify(text)
    assert found is not None and found[0].code == code


@pytest.mark.parametrize("text", ["cat /sys/fs/cgroup/memory.max", "ulimit -n", "grep tmpfs /etc/fstab",
                                  "echo hello > /etc/profile.d/greeting.sh"])
def test_classify_leaves_harmless_commands(text: str) -> None:
    assert classify(text) is None


def test_substitute_and_split() -> None:
    values = {"GO": "1.24", "EMPTY": ""}
    assert substitute("golang:${GO}-alpine", values) == "golang:1.24-alpine"
    assert substitute("golang:${NOPE:-1.23}", values) == "golang:1.23"
    assert substitute("golang:${EMPTY:-1.22}", values) == "golang:1.22"
    assert substitute("golang:$GO", values) == "golang:1.24"
    assert split_image("localhost:5000/golang:1.24@sha256:ab") == ("localhost:5000/golang", "1.24")
    assert split_image("golang") == ("golang", "")


def test_go_mod_line() -> None:
    assert go_mod_version("module x\n\ngo 1.24.2 // pinned\n") == ((1, 24), 3)
    assert go_mod_version("module x\ntoolchain go1.25.0\n") is None


def test_stages_args_target_and_copy_from() -> None:
    from rewriter.surfaces import dockerfile

    text = ("ARG V=1.23\nFROM golang:${V} AS build\nRUN go build\nFROM alpine AS base\n"
            "FROM base AS final\nCOPY --from=build /a /a\nFROM python AS other\n")
    image = dockerfile.load(SourceFile.from_text("Dockerfile", text))
    stages = stages_of(image, {"V": "1.25"})
    assert [s.resolved for s in stages] == ["golang:1.25", "alpine", "base", "python"]
    chain, used = closure(stages, 2)
    assert chain == (2, 1) and used == (0, 1, 2)
    assert closure(stages, 3) == ((3,), (3,))


def test_real_go_projects_are_detected() -> None:
    real = Path(__file__).resolve().parent.parent / "fixtures" / "real" / "awesome-compose"
    from rewriter.model import BuildSpec
    from rewriter.project import resolve_build

    built = resolve_build(str(real / "nginx-golang-postgres" / "compose.yaml"),
                          BuildSpec(context="backend", target="builder"))
    assert built is not None and of_build(built).is_go and of_build(built).version == (1, 18)
    assert "golang:1.18-alpine" in of_build(built).evidence
    not_go = resolve_build(str(real / "flask" / "compose.yaml"), BuildSpec(context="app"))
    assert not_go is not None and not of_build(not_go).is_go


REAL_DOCKERFILES = sorted(p for p in (Path(__file__).resolve().parent.parent / "fixtures" / "real").rglob("*")
                          if p.is_file() and (p.name == "Dockerfile" or p.name.endswith(".Dockerfile"))
                          and "testfiles-negative" not in p.parts)


@pytest.mark.parametrize("path", REAL_DOCKERFILES, ids=lambda p: str(p).split("fixtures/real/")[-1])
def test_real_dockerfiles_round_trip(path: Path) -> None:
    data = path.read_bytes()
    once = fixed_bytes(path, "dockerfile", "prod", True)
    _ = SourceFile.from_bytes(str(path), once)
    assert fixed_bytes(path, "dockerfile", "prod", True, data=once) == once
    if once != data:  # whatever changed must still parse
        import dockerfile

        dockerfile.parse_string(once.decode("utf-8"))


def test_compose_only_run_does_not_import_the_dockerfile_parser(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "compose.yaml").write_text("services:\n  api:\n    image: nginx\n")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "rewriter", "check", "compose.yaml"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "rewriter.cli" in imported
    assert "dockerfile" not in imported and "rewriter.surfaces.dockerfile" not in imported


# -- config and discovery ------------------------------------------------------------------------


def test_services_config() -> None:
    from rewriter.errors import ConfigError
    from transforms import parse_config

    config = parse_config("dockfix.toml", '[services.gw]\ngo = true\ngo-version = "1.23.4"\n')
    assert config is not None
    assert [(s.name, s.go, s.go_version) for s in config.services] == [("gw", True, (1, 23))]
    for bad in ('[services.gw]\ngo = "yes"\n', '[services.gw]\ngo-version = "go1.23"\n',
                '[services.gw]\nis-go = true\n'):
        with pytest.raises(ConfigError):
            parse_config("dockfix.toml", bad)


@pytest.mark.parametrize(("name", "kind"), [
    ("Dockerfile", "dockerfile"), ("Containerfile", "dockerfile"), ("api.Dockerfile", "dockerfile"),
    ("Dockerfile.dev", "dockerfile"), ("x/Dockerfile.dockerignore", None), ("dockerfile.py", "python"),
    ("compose.yaml", "compose"),
])
def test_dockerfile_discovery(name: str, kind: str | None) -> None:
    from rewriter.discovery import kind_of

    assert kind_of(name) == kind
