"""Conformance over every real file in fixtures/real: no crash, bytes kept, model changed only
where a fix says, still valid, idempotent, every service covered (see tests/conformance.py).

The checkers themselves are tested first on inputs made to break them, so that a conformance run
that finds nothing means something.
"""

from __future__ import annotations

import os

import pytest

import conformance as c
from rewriter.edits import Intent

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "real")
FILES = sorted(c.manifest_files(ROOT))


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


@pytest.fixture(scope="module")
def results() -> dict[str, c.FileResult]:
    return {path: c.check_file(path, kind, _read(path)) for path, kind in FILES}


@pytest.mark.parametrize("path,kind", FILES, ids=[os.path.relpath(p, ROOT) for p, _ in FILES])
def test_real_file_conforms(results: dict[str, c.FileResult], path: str, kind: str) -> None:
    result = results[path]
    assert result.status != "crashed", result.reason
    assert result.violations == []


def test_summary_table(results: dict[str, c.FileResult], capsys: pytest.CaptureFixture[str]) -> None:
    table = c.summary_table(ROOT, list(results.values()))
    with capsys.disabled():
        print("\n" + table)
    rows = {line.split()[0]: line.split() for line in table.splitlines()[2:]}
    assert int(rows["total"][1]) == len(FILES)
    # the real Compose files exercise the fixer: most change, and none crashes
    changed = sum(1 for r in results.values() if r.kind == "compose" and r.status == "changed")
    assert changed >= 100
    assert not [r.path for r in results.values() if r.status == "crashed"]


def test_every_positive_input_is_valid_for_its_kind(results: dict[str, c.FileResult]) -> None:
    """The validators accept the real Dockerfiles and scripts (so a rejection later means a break)."""
    invalid = [r.path for r in results.values() if r.kind in ("dockerfile", "shell") and not r.valid_before]
    assert invalid == []


# -- the checkers can fail -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(os.listdir(os.path.join(ROOT, "buildkit", "frontend", "dockerfile",
                                                                 "parser", "testfiles-negative"))))
def test_dockerfile_validity_rejects_buildkit_negative_files(name: str) -> None:
    path = os.path.join(ROOT, "buildkit", "frontend", "dockerfile", "parser", "testfiles-negative",
                        name, "Dockerfile")
    assert c.dockerfile_validity(_read(path)) != ""


def test_shell_validity_rejects_a_syntax_error_and_runs_nothing(tmp_path: object) -> None:
    assert c.shell_validity(b"echo ok\n") == ""
    assert c.shell_validity(b"if true; then\n  echo\n").startswith("bash -n:")
    marker = os.path.join(str(tmp_path), "ran")
    assert c.shell_validity(f"touch {marker}\n".encode()) == ""
    assert not os.path.exists(marker)


def test_compose_validity_rejects_a_schema_violation() -> None:
    assert c.compose_validity(b"services:\n  a:\n    image: x\n    mem_limit: 1g\n") == ""
    assert "schema" in c.compose_validity(b"services:\n  a:\n    image: x\n    pids_limit: [1]\n")
    assert "schema" in c.compose_validity(b"services:\n  a:\n    imag: x\n")


INTENTS = [Intent("set", ("services", "a", "pids_limit"), 512)]


def test_line_check_flags_a_lost_comment_and_a_crlf_change() -> None:
    old = b"services:\n  a:  # keep\n    image: x\n"
    assert c.line_violations(old, old + b"    pids_limit: 512\n", INTENTS) == []
    assert c.line_violations(old, old.replace(b"  # keep", b"") + b"    pids_limit: 512\n", INTENTS)
    assert c.line_violations(old, old.replace(b"x\n", b"x\r\n") + b"    pids_limit: 512\n", INTENTS)
    # a line holding a key the fix names may change; a missing final newline may be ended
    assert c.line_violations(b"services:\n  a:\n    pids_limit: 1", b"services:\n  a:\n    pids_limit: 512",
                             INTENTS) == []
    assert c.line_violations(b"services:\n  a:\n    image: x", b"services:\n  a:\n    image: x\n"
                             b"    pids_limit: 512", INTENTS) == []


def test_model_check_flags_a_change_no_fix_names() -> None:
    old = b"services:\n  a:\n    image: x\n  b:\n    image: y\n"
    ok = old.replace(b"x\n", b"x\n    pids_limit: 512\n")
    assert c.model_violations("compose", "f", old, ok, INTENTS) == []
    bad = ok.replace(b"image: y", b"image: z")
    assert c.model_violations("compose", "f", old, bad, INTENTS) == [
        "the resolved model changed at services.b.image, which no fix names"]


def test_check_file_reports_no_violation_for_an_untouched_file() -> None:
    data = b"# just a comment\r\nservices: {}\r\n"
    result = c.check_file("f.yaml", "compose", data)
    assert (result.status, result.violations) == ("unchanged", [])


def test_check_file_reports_refused_input_without_violation() -> None:
    result = c.check_file("f.yaml", "compose", b"services: [\n")
    assert result.status == "refused"
    assert result.violations == []
