"""Byte-exact fixture cases: fixtures/compose/<case>/input.yaml -> expected.<profile>.yaml.

A case without an expected file for a profile must come out unchanged; every expected file is
run again and must come back unchanged (idempotence). Outputs that should be valid Compose are
validated against the compose-spec schema when the input is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, fixture_cases, input_file
from rewriter.engine import Options, process
from rewriter.profiles import resolve_profile
from rewriter.source import SourceFile
from rewriter.yamlview import parse_yaml

PROFILES = ("prod", "dev")
CASES = fixture_cases("compose")


def fix(data: bytes, profile: str, name: str = "compose.yaml") -> bytes:
    src = SourceFile.from_bytes(name, data)
    outcome = process("compose", src, Options(profile=resolve_profile(profile, {})), fix=True)
    return src.with_text(outcome.new_text).to_bytes() if outcome.new_text is not None else data


def expected_for(case: Path, profile: str) -> bytes:
    path = case / f"expected.{profile}.yaml"
    return path.read_bytes() if path.exists() else input_file(case).read_bytes()


@pytest.fixture(scope="module")
def schema_validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((FIXTURES / "schema" / "compose-spec.json").read_text())
    return jsonschema.Draft7Validator(schema)


def test_there_are_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Path, profile: str) -> None:
    data = input_file(case).read_bytes()
    assert fix(data, profile) == expected_for(case, profile)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_expected_is_a_fixed_point(case: Path, profile: str) -> None:
    expected = expected_for(case, profile)
    assert fix(expected, profile) == expected


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_output_still_valid_compose(case: Path, schema_validator) -> None:
    before = parse_yaml(SourceFile.from_bytes("in.yaml", input_file(case).read_bytes())).model()
    if before is None or list(schema_validator.iter_errors(before)):
        pytest.skip("input is not valid Compose")
    after = parse_yaml(SourceFile.from_bytes("out.yaml", expected_for(case, "prod"))).model()
    errors = [e.message for e in schema_validator.iter_errors(after)]
    assert errors == []


def test_crlf_bom_and_final_newline_kept() -> None:
    crlf = expected_for(FIXTURES / "compose" / "crlf", "prod")
    assert b"\n" not in crlf.replace(b"\r\n", b"")
    bom = expected_for(FIXTURES / "compose" / "bom", "prod")
    assert bom.startswith(b"\xef\xbb\xbf") and bom.count(b"\xef\xbb\xbf") == 1
    nofinal = expected_for(FIXTURES / "compose" / "no-final-newline", "prod")
    assert not nofinal.endswith(b"\n") and nofinal != input_file(FIXTURES / "compose" / "no-final-newline").read_bytes()


def test_inputs_lines_survive_in_order() -> None:
    """Fixes only add lines or change values: every untouched input line is still there in order."""
    import difflib

    touched = ("nofile", "soft:", "memswap_limit", "pids", "/tmp", "cache:", "empty:", "tmpfs: /run")
    for case in CASES:
        before = input_file(case).read_text(encoding="utf-8").splitlines()
        after = expected_for(case, "prod").decode("utf-8").splitlines()
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for tag, i1, i2, _, _ in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                for line in before[i1:i2]:
                    assert any(k in line for k in touched), (case.name, line)
