"""``dockfix apply -`` as an editor's formatter (issue 14): editors that merge stderr into the
result (Neovim's ``systemlist()``) must get only the file, so the summary line goes to stderr
only when stderr is a terminal, and never with ``-q``; bad input still exits 2 with the input
echoed unchanged, ``--exit-zero`` or not."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

COMPOSE = b"services:\n  api:\n    image: a\n"
# with a memory limit of its own nothing remains (without one, the built-in limit is a suggestion)
LIMITED = b"services:\n  api:\n    image: a\n    mem_limit: 256m\n"
BROKEN = b'services:\n  api:\n    ports: [\n      "80:80"\n    image: x\n'


def apply(tmp_path: Path, data: bytes, *extra: str, tty: bool = False) -> tuple[int, bytes, bytes]:
    """Run ``dockfix apply -``; with ``tty`` its stderr is a pseudo-terminal."""
    argv = [sys.executable, "-m", "rewriter", "apply", "-", "--stdin-filename", "compose.yaml", *extra]
    if not tty:
        proc = subprocess.run(argv, input=data, capture_output=True, cwd=tmp_path)
        return proc.returncode, proc.stdout, proc.stderr
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=follower, cwd=tmp_path)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return proc.returncode, proc.stdout, b"".join(chunks).replace(b"\r\n", b"\n")


def test_summary_stays_out_of_captured_stderr(tmp_path: Path) -> None:
    code, out, err = apply(tmp_path, COMPOSE)
    # the suggested memory limit remains (exit 1), but neither it nor the summary reaches the file
    assert code == 1 and out != COMPOSE and b"tmpfs:" in out
    assert err == b""
    # what Neovim's systemlist() gets when it merges the two streams: the file and nothing else
    merged = subprocess.run(f"'{sys.executable}' -m rewriter apply - --stdin-filename compose.yaml 2>&1",
                            shell=True, input=COMPOSE, capture_output=True, cwd=tmp_path).stdout
    assert merged == out


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal")
def test_summary_on_a_terminal_unless_quiet(tmp_path: Path) -> None:
    code, out, err = apply(tmp_path, LIMITED, tty=True)
    assert code == 0 and b"tmpfs:" in out
    assert err.startswith(b"Fixed 4 findings in 1 file; 0 remaining.")
    for flag in ("-q", "--quiet"):
        assert apply(tmp_path, LIMITED, flag, tty=True)[2] == b""
    # on a terminal the findings that remain are listed too
    code, _, err = apply(tmp_path, COMPOSE, tty=True)
    assert code == 1 and b"DF301" in err and err.rstrip().endswith(b"2 remaining.")


def test_skipped_stdin_file_says_nothing_when_captured(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "rewriter", "apply", "-", "--stdin-filename", "values.yaml"]
    proc = subprocess.run(argv, input=COMPOSE, capture_output=True, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, COMPOSE, b"")


@pytest.mark.parametrize("extra", [(), ("--exit-zero",), ("--exit-zero", "-q")])
def test_invalid_yaml_exits_2_and_echoes_the_input(tmp_path: Path, extra: tuple[str, ...]) -> None:
    code, out, err = apply(tmp_path, BROKEN, *extra)
    assert code == 2 and out == BROKEN
    assert err.startswith(b"compose.yaml:3:12: invalid YAML: ")
