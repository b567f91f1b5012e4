"""The Go-facing Container methods (image, env, set_env, remove_env, cpu_limit) on the shell and
Python surfaces. Each change is applied and checked by the engine's oracle, as in a real run."""

from __future__ import annotations

import pytest

from rewriter.edits import Fix, apply_edits
from rewriter.engine import verify
from rewriter.source import SourceFile
from rewriter.surfaces import load
from rewriter.yamlpatch import Refusal


def _apply(kind: str, path: str, text: str, change: str, *args: str) -> str:
    src = SourceFile.from_text(path, text)
    loaded = load(kind, src)
    assert len(loaded.containers) == 1
    fix: Fix = getattr(loaded.containers[0], change)(*args)
    new = apply_edits(text, fix.edits)
    assert verify(kind, src, loaded.make_model(), new, [fix]) == ""
    return new


SHELL_CASES = [
    ("docker run --rm app:1\n", "set_env", ("GOMEMLIMIT", "460MiB"),
     "docker run --rm -e GOMEMLIMIT=460MiB app:1\n"),
    ("docker run --rm \\\n  -e GOMEMLIMIT=900MiB \\\n  app:1\n", "set_env", ("GOMEMLIMIT", "460MiB"),
     "docker run --rm \\\n  -e GOMEMLIMIT=460MiB \\\n  app:1\n"),
    ("docker run --rm --env=GOMEMLIMIT=1GiB app:1\n", "set_env", ("GOMEMLIMIT", "460MiB"),
     "docker run --rm --env=GOMEMLIMIT=460MiB app:1\n"),
    ("docker run --rm \\\n  -e GOMAXPROCS=4 \\\n  -e A=1 \\\n  app:1\n", "remove_env", ("GOMAXPROCS",),
     "docker run --rm \\\n  -e A=1 \\\n  app:1\n"),
    ("docker run --rm -e GOMAXPROCS=4 -e A=1 app:1\n", "remove_env", ("GOMAXPROCS",),
     "docker run --rm -e A=1 app:1\n"),
]


@pytest.mark.parametrize(("text", "change", "args", "expected"), SHELL_CASES)
def test_shell_env_changes(text: str, change: str, args: tuple[str, ...], expected: str) -> None:
    assert _apply("shell", "run.sh", text, change, *args) == expected


def test_shell_facts() -> None:
    src = SourceFile.from_text("run.sh", 'docker run --cpus 1.5 -e A=1 -e B "$IMAGE" go run .\n')
    container = load("shell", src).containers[0]
    assert container.image() == "$IMAGE"  # type: ignore[attr-defined]
    env = container.env()  # type: ignore[attr-defined]
    assert env["A"].value == "1" and env["B"].value is None
    cpus = container.cpu_limit()  # type: ignore[attr-defined]
    assert cpus is not None and cpus.value == 1.5


def test_shell_refuses_bundled_removal() -> None:
    src = SourceFile.from_text("run.sh", "docker run -deGOMAXPROCS=2 app:1\n")
    container = load("shell", src).containers[0]
    with pytest.raises(Refusal):
        container.remove_env("GOMAXPROCS")  # type: ignore[attr-defined]


PY_CASES = [
    ('import docker\ndocker.from_env().containers.run("app:1")\n', "set_env", ("GOMEMLIMIT", "460MiB"),
     'import docker\ndocker.from_env().containers.run("app:1", environment={"GOMEMLIMIT": "460MiB"})\n'),
    ('c.containers.run(\n    "app:1",\n    environment={"A": "1"},\n)\n', "set_env", ("GOMEMLIMIT", "460MiB"),
     'c.containers.run(\n    "app:1",\n    environment={"A": "1", "GOMEMLIMIT": "460MiB"},\n)\n'),
    ("c.containers.run('app:1', environment=['GOMEMLIMIT=1GiB'])\n", "set_env", ("GOMEMLIMIT", "460MiB"),
     "c.containers.run('app:1', environment=['GOMEMLIMIT=460MiB'])\n"),
    ('c.containers.run("app:1", environment={\n    "GOMAXPROCS": "4",\n    "A": "1",\n})\n', "remove_env",
     ("GOMAXPROCS",), 'c.containers.run("app:1", environment={\n    "A": "1",\n})\n'),
    ('c.containers.run("app:1", environment={"A": "1", "GOMAXPROCS": "4"})\n', "remove_env",
     ("GOMAXPROCS",), 'c.containers.run("app:1", environment={"A": "1"})\n'),
    ('DockerContainer("app:1").with_env("A", "1")\n', "set_env", ("GOMEMLIMIT", "460MiB"),
     'DockerContainer("app:1").with_env("A", "1").with_env("GOMEMLIMIT", "460MiB")\n'),
    ('x = (\n    DockerContainer("app:1")\n    .with_env("GOMAXPROCS", "4")\n    .with_exposed_ports(80)\n)\n',
     "remove_env", ("GOMAXPROCS",), 'x = (\n    DockerContainer("app:1")\n    .with_exposed_ports(80)\n)\n'),
]


@pytest.mark.parametrize(("text", "change", "args", "expected"), PY_CASES)
def test_python_env_changes(text: str, change: str, args: tuple[str, ...], expected: str) -> None:
    assert _apply("python", "app.py", text, change, *args) == expected


def test_python_facts() -> None:
    src = SourceFile.from_text("app.py", 'c.containers.run(IMAGE, nano_cpus=1_500_000_000)\n'
                                         'DockerContainer("golang:1.24", env={"A": "1"})\n')
    call, chain = load("python", src).containers
    assert call.image() == "IMAGE"  # type: ignore[attr-defined]
    cpus = call.cpu_limit()  # type: ignore[attr-defined]
    assert cpus is not None and cpus.value == 1.5
    assert chain.image() == "golang:1.24"  # type: ignore[attr-defined]
    assert chain.env()["A"].value == "1"  # type: ignore[attr-defined]


def test_oracle_catches_a_stray_edit() -> None:
    """The resolved model sees a change outside the intended one."""
    text = "echo start\ndocker run --rm app:1\n"
    src = SourceFile.from_text("run.sh", text)
    loaded = load("shell", src)
    fix = loaded.containers[0].set_pids_limit(512, None)
    new = apply_edits(text, fix.edits).replace("echo start", "echo begin")
    assert verify("shell", src, loaded.make_model(), new, [fix]) != ""
