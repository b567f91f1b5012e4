from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

sys.path.insert(0, str(ROOT))


@pytest.fixture
def run_cli(capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch,
            tmp_path_factory: pytest.TempPathFactory):
    """Run ``dockfix`` in-process: returns (exit code, stdout bytes, stderr text)."""
    from rewriter.cli import main

    cache_dir = tmp_path_factory.mktemp("cache")

    def run(*argv: str, stdin: bytes | None = None, cwd: Path | None = None) -> tuple[int, bytes, str]:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        if stdin is not None:
            import io

            class _Stdin:
                buffer = io.BytesIO(stdin)

            monkeypatch.setattr(sys, "stdin", _Stdin())
        monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(cache_dir))
        monkeypatch.delenv("DOCKFIX_PROFILE", raising=False)
        monkeypatch.delenv("DOCKFIX_OUTPUT_FORMAT", raising=False)
        code = main(list(argv) + ["--jobs", "1"] if argv and argv[0] in ("check", "diff", "apply") else list(argv))
        out, err = capsysbinary.readouterr()
        return code, out, err.decode("utf-8", "replace")

    return run


os.environ.setdefault("HYPOTHESIS_PROFILE", "ci")
# every dockfix run in the tests caches outside the work tree (run_cli gives each test its own)
os.environ.setdefault("DOCKFIX_CACHE_DIR", __import__("tempfile").mkdtemp(prefix="dockfix-test-cache-"))
