"""Every diff `dockfix diff` prints is parsed back (unidiff) and applied to the original first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rewriter import diff as diff_module
from rewriter.diff import unified_diff
from rewriter.diffcheck import checked
from rewriter.errors import DockfixError

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PAIRS = sorted((inp, exp) for inp in FIXTURES.rglob("input.*")
               for exp in inp.parent.glob("expected.*") if exp.read_bytes() != inp.read_bytes())
BASIC = (FIXTURES / "compose" / "basic" / "input.yaml").read_bytes()


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # BOM, CRLF and a missing final newline kept


def test_there_are_fixture_pairs_to_check() -> None:
    assert len(PAIRS) > 50
    assert {"crlf", "bom", "no-final-newline"} <= {inp.parent.name for inp, _ in PAIRS}


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "/".join(p[1].relative_to(FIXTURES).parts))
def test_every_fixture_diff_reproduces_the_expected_file(pair: tuple[Path, Path]) -> None:
    before, after = _text(pair[0]), _text(pair[1])
    for context in (3, 0):
        text = unified_diff(str(pair[0]), before, after, context)
        assert checked(str(pair[0]), before, after, text) == text


def test_new_file_diff_is_checked() -> None:
    text = unified_diff("compose.prod.yaml", "", "services:\n  a: {}\n", new_file=True)
    assert checked("compose.prod.yaml", "", "services:\n  a: {}\n", text) == text


@pytest.mark.parametrize("corrupt", [
    lambda d: d.replace("\n+ ", "\n+# ", 1),  # an added line that is not the fix's
    lambda d: d.replace("\n ", "\n x", 1),  # a context line that is not the file's
    lambda d: re.sub(r"@@ -(\d+),", lambda m: f"@@ -{int(m.group(1)) - 1},", d, count=1),  # a hunk misplaced
    lambda d: d.rsplit("\n+", 1)[0] + "\n",  # a line lost (the hunk header no longer adds up)
    lambda d: d + d,  # the same file twice
])
def test_a_corrupted_diff_is_caught(corrupt) -> None:  # type: ignore[no-untyped-def]
    before = BASIC.decode()
    after = _text(FIXTURES / "compose" / "basic" / "expected.prod.yaml")
    text = unified_diff("compose.yaml", before, after)
    with pytest.raises(DockfixError, match="internal error"):
        checked("compose.yaml", before, after, corrupt(text))


def test_dockfix_diff_refuses_to_print_a_wrong_diff(run_cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "compose.yaml").write_bytes(BASIC)
    real = diff_module.unified_diff
    monkeypatch.setattr(diff_module, "unified_diff", lambda *a, **k: real(*a, **k).replace("\n+ ", "\n+# ", 1))
    code, out, err = run_cli("diff", "compose.yaml", cwd=tmp_path)
    assert code == 2
    assert out == b""
    assert "compose.yaml: internal error: applied to the file, the diff does not give the fixed text" in err, err
    assert (tmp_path / "compose.yaml").read_bytes() == BASIC


def test_dockfix_diff_prints_the_checked_diff(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "compose.yaml").write_bytes(BASIC)
    code, out, err = run_cli("diff", "compose.yaml", cwd=tmp_path)
    assert code == 1, err
    assert out.startswith(b"--- a/compose.yaml\n+++ b/compose.yaml\n@@ ")


@pytest.mark.parametrize("name", ['we"ird\\x.yaml', "new\nline.yaml", "tab\there.yaml", "\u00e9.yaml",
                                  "\x1b[31m.yaml"])
def test_quoted_header_names_are_read_back(name: str) -> None:
    """Names git quotes in a diff header (see rewriter/diff.py) still parse and apply."""
    text = unified_diff(name, "a: 1\n", "a: 2\n")
    assert checked(name, "a: 1\n", "a: 2\n", text) == text


def test_a_large_file_diff_is_checked() -> None:
    """Above difflib's size the diff is cut at unique lines first: its hunks must apply too."""
    before = "".join(f"k{i}: {i}\n" for i in range(5000))
    after = before.replace("k10: 10\n", "k10: 11\n").replace("k4000: 4000\n", "x: 1\nx: 2\n")
    text = unified_diff("big.yaml", before, after)
    assert len(before.splitlines()) + len(after.splitlines()) > diff_module.DIFFLIB_LINES
    assert checked("big.yaml", before, after, text) == text
