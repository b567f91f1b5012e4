"""Shell and Python surfaces on real scripts, and the heavy imports they must not cause.

(Their byte-exact fixture cases run in tests/test_fixtures.py.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixture_runner import fixed_bytes, syntax_error  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _fix(kind: str, path: Path, data: bytes, profile: str) -> bytes:
    return fixed_bytes(path, kind, profile, False, data=data)


def _real_shell_files() -> list[Path]:
    base = FIXTURES / "real" / "shell"
    return sorted(p for p in base.rglob("*") if p.is_file() and not p.name.startswith("LICENSE"))


@pytest.mark.parametrize("path", _real_shell_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_real_shell_scripts(path: Path) -> None:
    """Real scripts: no crash; the fixed text passes bash -n and is stable on a second run."""
    data = path.read_bytes()
    got = _fix("shell", path, data, "prod")
    assert syntax_error("shell", path, got) == ""
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
