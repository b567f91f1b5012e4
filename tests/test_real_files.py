"""Real Compose files (fixtures/real, copied with their licences): dockfix never crashes on them,
its output is still valid Compose when the input was, and a second run changes nothing."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES
from rewriter.discovery import COMPOSE_RE
from rewriter.engine import Options, process
from rewriter.errors import ParseError
from transforms import resolve_profile
from rewriter.source import SourceFile
from rewriter.yamlview import parse_yaml

REAL = FIXTURES / "real"
# every YAML file: the Compose files by name, compose-go's loader test data and the compose-spec
# snippets (partial documents, some invalid on purpose)
FILES = sorted(p for p in REAL.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml"))


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft7Validator(json.loads((FIXTURES / "schema" / "compose-spec.json").read_text()))


def test_enough_real_files() -> None:
    assert len(FILES) >= 300
    assert sum(1 for p in FILES if COMPOSE_RE.search(p.as_posix())) >= 40


@pytest.mark.parametrize("profile", ["prod", "dev"])
def test_real_files_fix_cleanly(profile: str, validator) -> None:
    options = Options(profile=resolve_profile(profile, {}))
    changed = 0
    for path in FILES:
        data = path.read_bytes()
        src = SourceFile.from_bytes(str(path), data)
        try:
            before = parse_yaml(src).model()
        except ParseError:
            continue  # some compose-go test files are broken on purpose
        outcome = process("compose", src, options, fix=True)
        assert not [f for f in outcome.findings if f.refused], path
        if outcome.new_text is None:
            continue
        changed += 1
        fixed = src.with_text(outcome.new_text)
        after = parse_yaml(fixed).model()
        if before is not None and not list(validator.iter_errors(before)):
            assert [e.message for e in validator.iter_errors(after)] == [], path
        again = process("compose", fixed, options, fix=True)
        assert again.new_text is None, path
        # no fix these options apply is left: every service got what the profile safely wants
        # (suggestions, which need --unsafe-fixes, remain as findings)
        assert [f.code for f in again.findings if f.fix is not None and options.applies(f.fix)] == [], path
    assert changed >= 100
