"""Compose-specific checks on the fixture cases (the byte-exact runs for every surface are in
test_fixtures.py): outputs validate against the compose-spec schema when the input does, CRLF,
BOM and a missing final newline are kept, and every untouched input line survives in order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import FIXTURES  # noqa: E402
from fixture_runner import Case, cases  # noqa: E402

from rewriter.source import SourceFile  # noqa: E402
from rewriter.yamlview import parse_yaml  # noqa: E402

CASES = cases("compose")
BY_NAME = {case.directory.name: case for case in CASES}


def expected_for(case: Case, profile: str) -> bytes:
    return case.expected_for(profile, False).read_bytes()


@pytest.fixture(scope="module")
def schema_validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((FIXTURES / "schema" / "compose-spec.json").read_text())
    return jsonschema.Draft7Validator(schema)


def test_there_are_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_output_still_valid_compose(case: Case, schema_validator) -> None:
    before = parse_yaml(SourceFile.from_bytes("in.yaml", case.input.read_bytes())).model()
    if before is None or list(schema_validator.iter_errors(before)):
        pytest.skip("input is not valid Compose")
    after = parse_yaml(SourceFile.from_bytes("out.yaml", expected_for(case, "prod"))).model()
    errors = [e.message for e in schema_validator.iter_errors(after)]
    assert errors == []


def test_crlf_bom_and_final_newline_kept() -> None:
    crlf = expected_for(BY_NAME["crlf"], "prod")
    assert b"\n" not in crlf.replace(b"\r\n", b"")
    bom = expected_for(BY_NAME["bom"], "prod")
    assert bom.startswith(b"\xef\xbb\xbf") and bom.count(b"\xef\xbb\xbf") == 1
    nofinal = expected_for(BY_NAME["no-final-newline"], "prod")
    assert not nofinal.endswith(b"\n") and nofinal != BY_NAME["no-final-newline"].input.read_bytes()


def test_inputs_lines_survive_in_order() -> None:
    """Fixes only add lines or change values: every untouched input line is still there in order."""
    import difflib

    touched = ("nofile", "soft:", "memswap_limit", "pids", "/tmp", "cache:", "empty:", "tmpfs: /run", "limits:",
               "mem_limit")  # raised when it leaves no room for the heap (DF304)
    for case in CASES:
        before = case.input.read_text(encoding="utf-8").splitlines()
        after = expected_for(case, "prod").decode("utf-8").splitlines()
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for tag, i1, i2, _, _ in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                for line in before[i1:i2]:
                    assert any(k in line for k in touched), (case.id, line)
