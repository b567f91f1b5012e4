"""Byte-exact fixture tests for the shell and Python surfaces.

Each ``fixtures/<surface>/<case>/`` holds ``input.<ext>`` and, per profile, ``expected.<profile>.<ext>``;
a profile without an expected file must leave the input unchanged. Every expected file is run
again and must come back unchanged. Shell results must also pass ``bash -n`` (each run: block or
recipe on its own), Python results must compile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rewriter.engine import Options, process
from rewriter.profiles import resolve_profile
from rewriter.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PROFILES = ("prod", "staging", "dev")
SURFACES = {"shell": "shell", "python": "python"}


def _cases() -> list[tuple[str, Path, str]]:
    out = []
    for surface, kind in SURFACES.items():
        base = FIXTURES / surface
        if not base.is_dir():
            continue
        for case in sorted(p for p in base.iterdir() if p.is_dir()):
            for profile in PROFILES:
                out.append((kind, case, profile))
    return out


def _input(case: Path) -> Path:
    found = sorted(case.glob("input.*"))
    assert len(found) == 1, f"{case}: exactly one input.* expected"
    return found[0]


def _fix(kind: str, path: Path, data: bytes, profile: str) -> bytes:
    src = SourceFile.from_bytes(str(path), data)
    outcome = process(kind, src, Options(profile=resolve_profile(profile, {})), fix=True)
    if outcome.new_text is None:
        return data
    return src.with_text(outcome.new_text).to_bytes()


def _syntax_ok(kind: str, path: Path, data: bytes) -> None:
    text = data.decode("utf-8")
    if kind == "python":
        compile(text, str(path), "exec")
        return
    if shutil.which("bash") is None:
        return
    from rewriter.surfaces.shell import regions_of

    for region in regions_of(SourceFile.from_text(str(path), text)):
        result = subprocess.run(["bash", "-n"], input=region.text.encode(), capture_output=True)
        assert result.returncode == 0, f"bash -n failed on {path}: {result.stderr.decode()}"


@pytest.mark.parametrize(("kind", "case", "profile"), _cases(),
                         ids=lambda v: v.name if isinstance(v, Path) else str(v))
def test_fixture(kind: str, case: Path, profile: str) -> None:
    source = _input(case)
    data = source.read_bytes()
    expected_path = case / f"expected.{profile}{''.join(source.suffixes)}"
    expected = expected_path.read_bytes() if expected_path.exists() else data
    got = _fix(kind, source, data, profile)
    assert got == expected
    _syntax_ok(kind, source, got)
    # idempotence: the expected output is already fixed
    assert _fix(kind, expected_path if expected_path.exists() else source, expected, profile) == expected


def _real_shell_files() -> list[Path]:
    base = FIXTURES / "real" / "shell"
    return sorted(p for p in base.rglob("*") if p.is_file() and not p.name.startswith("LICENSE"))


@pytest.mark.parametrize("path", _real_shell_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_real_shell_scripts(path: Path) -> None:
    """Real scripts: no crash; the fixed text passes bash -n and is stable on a second run."""
    data = path.read_bytes()
    got = _fix("shell", path, data, "prod")
    _syntax_ok("shell", path, got)
    assert _fix("shell", path, got, "prod") == got


def test_cli_walk_over_real_shell_scripts(tmp_path: Path) -> None:
    """`dockfix check` over the whole real shell directory exits with findings, not an error."""
    target = tmp_path / "shell"
    shutil.copytree(FIXTURES / "real" / "shell", target)
    files = [str(p) for p in _real_shell_files()]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for args in (["check", str(target)], ["check", "--isolated", *files]):
        result = subprocess.run([sys.executable, "-m", "rewriter", *args], capture_output=True,
                                cwd=tmp_path, env=env)
        assert result.returncode == 1, result.stderr.decode()
        assert b"internal error" not in result.stderr


def test_shell_run_does_not_import_libcst(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("docker run --rm app:1\n")
    code = ("import sys\nfrom rewriter.cli import main\nmain(['check', '--isolated', sys.argv[1]])\n"
            "assert 'libcst' not in sys.modules, 'libcst imported'\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code, str(script)], capture_output=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.stdout.strip().endswith(b"ok"), result.stderr.decode()


def test_python_without_markers_does_not_import_libcst(tmp_path: Path) -> None:
    module = tmp_path / "plain.py"
    module.write_text("print('no containers here')\n")
    code = ("import sys\nfrom rewriter.cli import main\nmain(['check', '--isolated', sys.argv[1]])\n"
            "assert 'libcst' not in sys.modules and 'tree_sitter' not in sys.modules\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code, str(module)], capture_output=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.stdout.strip().endswith(b"ok"), result.stderr.decode()
