"""A real editor end to end (issue 14): a headless Neovim runs the ``init.lua`` snippets of
docs/editors.md, exactly as printed there, against ``dockfix server`` and ``dockfix apply -``.

It opens real files (a Compose file with anchors, one with CRLF line ends, Dockerfiles, one with
a non-ASCII line), waits for the diagnostics, applies the quick fix on the non-ASCII line the way
``vim.lsp.buf.code_action()`` asks for it, saves (the snippet formats in ``BufWritePre``), and the
saved bytes must be what ``dockfix apply -`` prints for the same input.

Only Neovim 0.7 can run here (Debian bookworm's 0.7.2, which ``.ci/run`` installs; there is no
0.11 in bookworm, nor a Neovim build on PyPI or npm): the 0.11 snippet is only checked to be
valid Lua. Under ``CI=true`` a missing ``nvim`` fails the test; elsewhere it skips.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "nvim"
DOCS = ROOT / "docs" / "editors.md"
NVIM = shutil.which("nvim")

pytestmark = pytest.mark.skipif(NVIM is None and os.environ.get("CI") != "true",
                                reason="nvim is not installed (CI installs Debian's neovim)")


def snippet(name: str) -> str:
    """The fenced block after ``<!-- dockfix-test: NAME -->`` in docs/editors.md."""
    m = re.search(rf"<!-- dockfix-test: {re.escape(name)} -->\n```lua\n(.*?)\n```\n", DOCS.read_text("utf-8"), re.S)
    assert m, f"docs/editors.md has no snippet '{name}'"
    return m.group(1) + "\n"


def nvim() -> str:
    assert NVIM is not None, "CI=true and nvim is missing: .ci/run installs Debian's neovim"
    return NVIM


def path_with_dockfix(tmp_path: Path) -> str:
    """A PATH on which ``dockfix`` is this checkout (the snippets run plain ``dockfix``)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "dockfix"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m rewriter "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def cli_apply(data: bytes, path: Path, *extra: str) -> bytes:
    proc = subprocess.run([sys.executable, "-m", "rewriter", "apply", "-", "--stdin-filename", path.name,
                           "--exit-zero", *extra], input=data, capture_output=True, cwd=path.parent,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def cli_findings(data: bytes, path: Path) -> list[tuple[str, int]]:
    """(code, 0-based line) of what ``dockfix check -`` finds in ``data``."""
    proc = subprocess.run([sys.executable, "-m", "rewriter", "check", "-", "--stdin-filename", path.name,
                           "--output-format", "json", "--exit-zero"], input=data, capture_output=True,
                          cwd=path.parent, env={**os.environ, "PYTHONPATH": str(ROOT)})
    found = sorted((f["code"], f["location"]["row"] - 1) for f in json.loads(proc.stdout))
    assert found, proc.stderr
    return found


def run_nvim(tmp_path: Path, init: str, files: list[Path], fix_file: Path | None = None) -> dict[str, object]:
    (tmp_path / "init.lua").write_text(init, encoding="utf-8")
    result = tmp_path / "result.json"
    env = {**os.environ, "PATH": path_with_dockfix(tmp_path), "PYTHONPATH": str(ROOT),
           "DOCKFIX_FILES": "\n".join(str(f) for f in files), "DOCKFIX_FIX_FILE": str(fix_file or ""),
           "DOCKFIX_RESULT": str(result), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("DOCKFIX_PROFILE", None)
    proc = subprocess.run([nvim(), "--headless", "--clean", "-u", str(tmp_path / "init.lua"),
                           "-c", f"luafile {HERE / 'drive.lua'}"], cwd=tmp_path, env=env,
                          capture_output=True, timeout=600)
    assert result.exists(), f"nvim wrote no result (rc {proc.returncode}): {proc.stderr.decode()[-2000:]}"
    data: dict[str, object] = json.loads(result.read_text("utf-8"))
    assert "error" not in data, data
    return data


def copy(src: Path, dest: Path) -> tuple[Path, bytes]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = src.read_bytes()
    dest.write_bytes(data)
    return dest, data


def test_language_server_snippet_in_neovim_0_7(tmp_path: Path) -> None:
    fixtures = ROOT / "fixtures"
    anchors, anchors_in = copy(fixtures / "compose" / "anchors-shared" / "input.yaml", tmp_path / "a" / "compose.yaml")
    crlf, crlf_in = copy(fixtures / "compose" / "crlf" / "input.yaml", tmp_path / "b" / "docker-compose.yml")
    profile, profile_in = copy(fixtures / "dockerfile" / "profile-ulimit" / "input.Dockerfile",
                               tmp_path / "c" / "Dockerfile")
    accents, accents_in = copy(HERE / "non-ascii.Dockerfile", tmp_path / "d" / "Dockerfile")
    assert b"\r\n" in crlf_in and b"*defaults" in anchors_in and "→".encode() in accents_in
    inputs = {anchors: anchors_in, crlf: crlf_in, profile: profile_in, accents: accents_in}
    expected = {path: cli_findings(data, path) for path, data in inputs.items()}

    data = run_nvim(tmp_path, snippet("nvim-0.7"), [anchors, crlf, profile, accents], fix_file=accents)
    seen = {Path(str(f["path"])): f for f in data["files"]}  # type: ignore[union-attr, index]

    # the diagnostics arrived, on the lines the CLI names
    for path in (anchors, crlf, profile, accents):
        entry = seen[path]
        assert entry["got_diagnostics"], entry
        assert sorted((d["code"], d["lnum"]) for d in entry["diagnostics"]) == expected[path]
    assert seen[crlf]["fileformat"] == "dos"

    # the quick fix on the non-ASCII line: Neovim 0.7 sent byte columns back, and got the fix
    fixed = seen[accents]
    line = accents_in.decode("utf-8").split("\n")[2]
    assert fixed["sent_columns"] == [len(line[:line.index("echo 'ulimit")].encode("utf-8"))]
    assert "DF701" in str(fixed["applied"])

    # saved through BufWritePre formatting: byte for byte what `dockfix apply -` prints
    for path, before in ((anchors, anchors_in), (crlf, crlf_in), (profile, profile_in)):
        assert path.read_bytes() == cli_apply(before, path), path
        assert not seen[path]["modified_after_write"]
    assert anchors.read_bytes() != anchors_in and crlf.read_bytes() != crlf_in
    # the quick fix (an unsafe one) then formatting: what apply --unsafe-fixes prints
    assert accents.read_bytes() == cli_apply(accents_in, accents, "--unsafe-fixes")
    assert b"ulimit" not in accents.read_bytes() and "réglages → système ✓".encode() in accents.read_bytes()


def test_stdin_snippet_in_neovim_0_7(tmp_path: Path) -> None:
    """The plugin-free snippet: stderr (the findings left, here unsafe ones) stays out of the file."""
    path, before = copy(ROOT / "fixtures" / "compose" / "anchors-shared" / "input.yaml", tmp_path / "compose.yaml")
    broken, broken_in = copy(ROOT / "fixtures" / "compose" / "crlf" / "input.yaml", tmp_path / "x" / "compose.yml")
    broken_in = broken_in.replace(b"services:", b"services: [", 1)
    broken.write_bytes(broken_in)
    init = snippet("nvim-stdin") + "vim.diagnostic.get = function() return { {} } end\n"  # nothing to wait for
    run_nvim(tmp_path, init, [path, broken])
    assert path.read_bytes() == cli_apply(before, path) != before
    assert broken.read_bytes() == broken_in  # exit 2: the buffer is left as it was


def test_neovim_0_11_snippet_is_valid_lua(tmp_path: Path) -> None:
    """Not runnable on 0.7 (vim.lsp.config is 0.11 API); at least it must compile."""
    source = tmp_path / "init-0.11.lua"
    source.write_text(snippet("nvim-0.11"), encoding="utf-8")
    proc = subprocess.run([nvim(), "--headless", "--clean", "-u", "NONE", "-c",
                           f"lua local f, err = loadfile('{source}'); if not f then print(err); vim.cmd('cquit 1') end",
                           "-c", "qall!"], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = source.read_text("utf-8")
    for call in ('vim.lsp.config("dockfix"', 'vim.lsp.enable("dockfix")', "vim.lsp.buf.format({", "async = false",
                 "fixendofline = false"):
        assert call in text
