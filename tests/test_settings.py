"""Typed settings (rewriter/settings.py): keys, typed values, and each surface's codec table.

Policy asks a container for a key and gets a typed value, whatever the file spells; it hands a
typed value to ``set`` and the surface writes it in its own form (``64m`` for Docker and Compose,
``64Mi`` only for Kubernetes).
"""

from __future__ import annotations

import pytest

from rewriter.edits import apply_edits
from rewriter.model import ContainerDefaults
from rewriter.settings import (CPU, MEMORY, NOFILE, PIDS, SWAP, Found, TmpfsSpec, Ulimits, env, format_options,
                               mount, parse_options, tmpfs, tmpfs_options, tmpfs_spec)
from rewriter.sizes import ByteSize
from rewriter.source import SourceFile
from rewriter.surfaces import compose, compose_extends, compose_override, python_sdk, shell
from rewriter.yamlpatch import Refusal


@pytest.mark.parametrize(("text", "size"), [
    ("64Mi", 64 * 1024**2), ("1Gi", 1024**3), ("0.5Gi", 512 * 1024**2), ("1G", 10**9),
    ("129e6", 129 * 10**6), ("128974848", 128974848), ("512m", 1), ("1500m", 2), (".5Ki", 512),
])
def test_kubernetes_quantities_parse_as_the_api_server_reads_them(text: str, size: int) -> None:
    """``512m`` is 0.512 bytes to Kubernetes (rounded up to one), not 512 MiB."""
    assert ByteSize.parse_kubernetes(text) == ByteSize(size)


@pytest.mark.parametrize("text", ["64MB", "64 Mi", "Mi", "-1Mi", "1.2.3", ""])
def test_kubernetes_quantities_refuse_other_spellings(text: str) -> None:
    assert ByteSize.parse_kubernetes(text) is None


def test_one_size_formats_per_surface() -> None:
    size = ByteSize.mib(64)
    assert (size.docker(), size.gomemlimit(), size.kubernetes()) == ("64m", "64MiB", "64Mi")
    assert ByteSize.parse_docker("64Mi") is None  # go-units rejects the Kubernetes spelling


def test_tmpfs_options_keep_what_a_change_does_not_touch() -> None:
    written = parse_options("size=64M,noexec,uid=1000")
    spec = tmpfs_spec("/tmp", written, ByteSize.parse_docker)
    assert (spec.size, spec.mode, spec.flags) == (ByteSize.mib(64), None, ("noexec",))
    exec_ = spec.without_flag("noexec").with_flag("exec")
    assert format_options(tmpfs_options(exec_, ByteSize.parse_docker, ByteSize.docker)) == "size=64M,uid=1000,exec"
    smaller = spec.replace(size=ByteSize.mib(16))
    assert format_options(tmpfs_options(smaller, ByteSize.parse_docker, ByteSize.docker)) == \
        "size=16m,noexec,uid=1000"
    new = TmpfsSpec("/tmp", ByteSize.mib(64), 0o1777, ("exec",))
    assert format_options(tmpfs_options(new, ByteSize.parse_docker, ByteSize.docker)) == "size=64m,mode=1777,exec"


def _compose(text: str) -> compose.ComposeService:
    return compose.load(SourceFile("compose.yaml", text)).services[0]


def test_compose_reads_typed_values_with_its_own_spelling() -> None:
    svc = _compose("services:\n  api:\n    image: a\n    mem_limit: 512m\n    memswap_limit: 536870912\n"
                   "    pids_limit: 100\n    cpus: 1.5\n    ulimits:\n      nofile: 1024\n"
                   "    tmpfs: [/tmp:size=64m]\n    environment: [GOMEMLIMIT=400MiB]\n")
    memory = svc.get(MEMORY)
    assert memory is not None and memory.value == ByteSize.mib(512) and memory.described() == "mem_limit '512m'"
    swap = svc.get(SWAP)
    assert swap is not None and swap.value == ByteSize.mib(512)
    assert [f.value for f in svc.find(PIDS)] == [100]
    cpu = svc.get(CPU)
    assert cpu is not None and cpu.value == 1.5
    nofile = svc.get(NOFILE)
    assert nofile is not None and nofile.value == Ulimits(1024, 1024)
    tmp = svc.get(tmpfs("/tmp/"))
    assert tmp is not None and tmp.value is not None and tmp.value.size == ByteSize.mib(64)
    variable = svc.get(env("GOMEMLIMIT"))
    assert variable is not None and variable.value == "400MiB"
    assert [f.key for f in svc.find(env())] == [env("GOMEMLIMIT")]
    assert svc.find(mount("/data")) == []


def test_compose_writes_a_typed_size_in_docker_units() -> None:
    text = "services:\n  api:\n    image: a\n"
    svc = _compose(text)
    fix = svc.set(MEMORY, ByteSize.mib(1536))
    assert apply_edits(text, fix.edits).endswith("    mem_limit: 1536m\n")
    assert svc.spelled(MEMORY) == "mem_limit"
    assert svc.spelled(NOFILE) == "ulimits.nofile"


def test_a_kubernetes_spelling_is_no_compose_limit() -> None:
    """``512Mi`` is not a size to docker compose: the typed value is None, not 512 MiB."""
    svc = _compose("services:\n  api:\n    image: a\n    mem_limit: 512Mi\n")
    memory = svc.get(MEMORY)
    assert memory is not None and memory.value is None and memory.written == "512Mi"


def test_swap_follows_the_memory_limit_as_written() -> None:
    """A Found as the value: the swap limit copies the limit's own spelling and variable."""
    text = "services:\n  api:\n    image: a\n    mem_limit: ${API_MEMORY:-1G}\n"
    svc = _compose(text)
    memory = svc.get(MEMORY)
    assert memory is not None and memory.value == ByteSize(1024**3)
    fix = svc.set(SWAP, memory)
    assert apply_edits(text, fix.edits).endswith("    memswap_limit: ${API_MEMORY:-1G}\n")


def test_shell_and_python_spell_the_same_keys_their_way() -> None:
    sh = shell.load(SourceFile("run.sh", "docker run -d --memory 512m --ulimit nofile=1024:2048 app\n")).containers[0]
    memory = sh.get(MEMORY)
    assert memory is not None and memory.value == ByteSize.mib(512) and memory.name == "--memory"
    assert sh.get(NOFILE) is not None and sh.get(NOFILE).value == Ulimits(1024, 2048)  # type: ignore[union-attr]
    assert sh.spelled(NOFILE) == "--ulimit nofile"
    py = python_sdk.load(SourceFile("run.py", "import docker\nclient = docker.from_env()\n"
                                               "client.containers.run('app', mem_limit='1g')\n")).containers[0]
    limit = py.get(MEMORY)
    assert limit is not None and limit.value == ByteSize(1024**3) and py.spelled(PIDS) == "pids_limit="


def test_an_unresolved_extends_writes_nothing_through_the_typed_api(tmp_path: object) -> None:
    """``set`` on a service whose ``extends`` cannot be read refuses, as ``set_*`` did."""
    text = "services:\n  web:\n    image: a\n    extends:\n      service: missing\n"
    file = compose.load(SourceFile("compose.yaml", text))
    (svc,) = compose_extends.with_extends(file)
    assert isinstance(svc, compose_override.UnresolvedExtends)
    assert svc.get(MEMORY) is None
    with pytest.raises(Refusal):
        svc.set(MEMORY, ByteSize.mib(512))


def test_found_says_where_it_comes_from() -> None:
    svc = _compose("x: &d\n  mem_limit: 1g\nservices:\n  api:\n    <<: *d\n    image: a\n")
    memory = svc.get(MEMORY)
    assert isinstance(memory, Found)
    assert memory.described() == "mem_limit '1g' (inherited from '&d')"


def test_a_size_written_twice_stays_as_written_when_only_a_flag_changes() -> None:
    spec = tmpfs_spec("/tmp", parse_options("size=1g,size=2g"), ByteSize.parse_docker)
    assert format_options(tmpfs_options(spec.with_flag("exec"), ByteSize.parse_docker, ByteSize.docker)) == \
        "size=1g,size=2g,exec"
    assert format_options(tmpfs_options(spec.replace(size=ByteSize.mib(16)), ByteSize.parse_docker,
                                        ByteSize.docker)) == "size=16m,size=16m"


def test_python_says_it_cannot_read_a_tmpfs_or_ulimits_variable() -> None:
    """``tmpfs=TMPFS`` may mount anything: the surface says it cannot carry a tmpfs there
    (supports() is False) instead of inventing a ``/tmp`` mount to keep the tmpfs rules quiet."""
    text = ("import docker\nclient = docker.from_env()\nTMPFS = {'/tmp': 'size=1g'}\nLIMITS = []\n"
            "client.containers.run('app', tmpfs=TMPFS, ulimits=LIMITS, mem_limit='1g')\n")
    py = python_sdk.load(SourceFile("run.py", text)).containers[0]
    assert not py.supports(tmpfs("/tmp")) and py.find(tmpfs()) == [] and py.get(tmpfs("/tmp")) is None
    assert not py.supports(NOFILE) and py.get(NOFILE) is None
    assert py.supports(MEMORY)
    with pytest.raises(Refusal):
        py.set(tmpfs("/tmp"), TmpfsSpec("/tmp", ByteSize.mib(64), 0o1777))


def test_the_tmpfs_and_ulimit_rules_leave_an_unreadable_python_setting_alone(tmp_path: object) -> None:
    import pathlib

    from fixture_runner import run

    path = pathlib.Path(str(tmp_path)) / "run.py"
    path.write_text("import docker\nclient = docker.from_env()\n"
                    "client.containers.run('app', tmpfs=TMPFS, ulimits=LIMITS, mem_limit='1g', pids_limit=512)\n")
    outcome = run(path, "python", "prod", False, fix=False)
    codes = sorted(f.code for f in outcome.findings)
    assert not [c for c in codes if c.startswith(("DF1", "DF2"))], codes
    assert "DF302" in codes  # the rest of the call is checked as before


def test_gomemlimit_subtracts_no_tmpfs_it_cannot_see(tmp_path: object) -> None:
    """It used to subtract the profile's 64m for the invented ``/tmp`` mount: 0.9 x (1024 - 64)."""
    import pathlib

    from fixture_runner import run

    path = pathlib.Path(str(tmp_path)) / "run.py"
    path.write_text("import docker\nclient = docker.from_env()\n"
                    "client.containers.run('golang:1.24', tmpfs=TMPFS, mem_limit='1g')\n")
    outcome = run(path, "python", "prod", False, fix=False)
    (gomemlimit,) = [f for f in outcome.findings if f.code == "DF501"]
    assert "GOMEMLIMIT = 0.9 x (mem_limit '1g') = 921MiB" in gomemlimit.message, gomemlimit.message


class _Manifest(ContainerDefaults):
    """A container of a file kind that knows memory and environment only, spelled the Kubernetes
    way: its codec table is all the policy needs (no transform knows about it); what only some
    kinds know (run facts, env_file, a memory request) it answers as ContainerDefaults does."""

    from rewriter.settings import Codec, Codecs, as_text, kubernetes_size, same

    CODECS = Codecs({"memory": Codec("resources.limits.memory", kubernetes_size, ByteSize.kubernetes),
                     "env": Codec("env", as_text, same)})

    def __init__(self, memory: str | None) -> None:
        from rewriter.model import Span

        self.scope, self.label, self.span, self.name = "containers.app", "container 'app'", Span(0, 3), "app"
        self.memory = memory
        self.written: list[tuple[object, object]] = []

    def find(self, key):  # type: ignore[no-untyped-def]
        from rewriter.model import Span

        if key.kind == "memory" and self.memory is not None:
            codec = self.CODECS.of(key)
            return [Found(key, codec.parse(self.memory), codec.spelled(key), self.memory, Span(10, 15))]
        return []

    def get(self, key):  # type: ignore[no-untyped-def]
        found = self.find(key)
        return found[-1] if found else None

    def set(self, key, value, where=None):  # type: ignore[no-untyped-def]
        from rewriter.edits import Edit, Fix

        self.written.append((key, value))
        return Fix("", (Edit(0, 0, self.formatted(key, value)),))

    def supports(self, key):  # type: ignore[no-untyped-def]
        return self.CODECS.supports(key)

    def spelled(self, key):  # type: ignore[no-untyped-def]
        return self.CODECS.spelled(key)

    def formatted(self, key, value):  # type: ignore[no-untyped-def]
        return self.CODECS.formatted(key, value)

    def limit_twins(self):  # type: ignore[no-untyped-def]
        return []

    def image(self) -> str:
        return "example/app"

    def build(self) -> None:
        return None

    def command(self) -> tuple[str, ...]:
        return ()


def _memory_reports(container: _Manifest) -> list[object]:
    from rewriter.profiles import Profile
    from transforms import memory, resolve_profile
    from transforms.base import Context

    profile: Profile = resolve_profile("prod", {})
    return list(memory.check(container, Context(profile)))  # type: ignore[arg-type]


def test_a_surface_is_its_codec_table_to_the_memory_rules() -> None:
    """A new file kind needs no transform change: DF301 names and writes the limit the way the
    surface spells it (512Mi, not Docker's 512m, which Kubernetes reads as 0.512 bytes), and no
    DF302 is asked of a surface without swap settings."""
    container = _Manifest(None)
    (missing,) = _memory_reports(container)
    assert "resources.limits.memory '512Mi'" in missing.message  # type: ignore[attr-defined]
    fix = missing.fix  # type: ignore[attr-defined]
    assert fix is not None and [e.content for e in fix.edits] == ["512Mi"]
    assert container.written == [(MEMORY, ByteSize.mib(512))]


def test_a_kubernetes_limit_reads_as_a_size() -> None:
    """``1Gi`` is a limit (no DF301); before the seam, go-units rules read it as no limit at all."""
    assert _memory_reports(_Manifest("1Gi")) == []


def test_an_unresolved_extends_reads_its_env_files(tmp_path: object) -> None:
    """UnresolvedExtends is an explicit class now: the facts the rules probe for (``env_file``
    evidence) are read through, as its ``__getattr__`` used to."""
    import pathlib

    root = pathlib.Path(str(tmp_path))
    (root / "app.env").write_text("JAVA_OPTS=-Xmx1g\n")
    text = "services:\n  web:\n    image: a\n    env_file: app.env\n    extends:\n      service: missing\n"
    (root / "compose.yaml").write_text(text)
    file = compose.load(SourceFile(str(root / "compose.yaml"), text))
    (svc,) = compose_extends.with_extends(file)
    assert isinstance(svc, compose_override.UnresolvedExtends)
    assert [shown for shown, _ in svc.env_files()] == ["app.env"]
