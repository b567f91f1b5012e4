"""libyaml (the fast path) and ruamel.yaml (the reference) must agree on every real file: the
same spans (but for empty values, which have no text), the same findings, the same fixed bytes,
and both fail where one fails."""

from __future__ import annotations

import pytest

from conftest import FIXTURES
from rewriter.engine import Options, process
from rewriter.errors import DockfixError
from transforms import resolve_profile
from rewriter.source import SourceFile
from rewriter.yamlview import backend, parse_yaml

FILES = sorted(p for p in (FIXTURES / "real").rglob("*") if p.suffix in (".yaml", ".yml")) + \
    sorted((FIXTURES / "compose").glob("*/*.yaml")) + sorted((FIXTURES / "override").glob("*/*.yaml"))
PROD = Options(profile=resolve_profile("prod", {}))


def _run(monkeypatch: pytest.MonkeyPatch, which: str, data: bytes, name: str) -> tuple[str, object]:
    monkeypatch.setenv("DOCKFIX_YAML_BACKEND", which)
    assert backend() == which
    src = SourceFile.from_bytes(name, data)
    try:
        doc = parse_yaml(src)
        spans: list[tuple[int, int]] = []
        stack = [doc.root] if doc.root is not None else []
        while stack:
            node = stack.pop()
            if node.id == "scalar" and node.value == "" and node.style is None:
                continue  # an empty value has no text; the two place its mark differently
            spans.append((node.start_mark.index, node.end_mark.index))
            if node.id == "mapping":
                stack.extend(v for pair in node.value for v in pair)
            elif node.id == "sequence":
                stack.extend(node.value)
        outcome = process("compose", src, PROD, fix=True)
    except DockfixError as err:
        return "error", (err.line, err.column)
    return "ok", (spans, outcome.new_text, [(f.code, f.line, f.message) for f in outcome.findings])


def test_libyaml_is_available_here() -> None:
    pytest.importorskip("yaml")
    import yaml

    assert yaml.__with_libyaml__


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_backends_agree(path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()
    fast = _run(monkeypatch, "libyaml", data, str(path))
    reference = _run(monkeypatch, "ruamel", data, str(path))
    assert fast[0] == reference[0]
    if fast[0] == "ok":
        assert fast == reference
