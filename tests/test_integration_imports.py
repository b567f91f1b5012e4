"""The integrations cost nothing when they are not used: a check or an ``apply -`` (format on
save without LSP) never imports pygls, lsprotocol or httpx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pygls", "lsprotocol", "httpx", "rewriter.lsp", "rewriter.github", "rewriter.bot", "subprocess")


def imported(args: list[str], cwd: Path, stdin: bytes | None = None) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "rewriter", *args], cwd=cwd, input=stdin,
                          capture_output=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    names = set()
    for line in proc.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "rewriter.engine" in names  # the measurement works
    return names


@pytest.mark.parametrize("args", [["check", "compose.yaml"], ["check", "--output-format", "sarif", "."],
                                  ["apply", "-", "--stdin-filename", "compose.yaml", "--exit-zero"]])
def test_no_integration_imports(tmp_path: Path, args: list[str]) -> None:
    text = b"services:\n  api:\n    image: a\n"
    (tmp_path / "compose.yaml").write_bytes(text)
    names = imported(args, tmp_path, text if "-" in args else None)
    assert not {n for n in names if n.split(".")[0] in HEAVY or n in HEAVY}
