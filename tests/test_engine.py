"""The fix loop's guarantees: the oracle refuses a fix that does not do what it says, shared
anchors are edited only when every user wants the same change, and nothing converges forever."""

from __future__ import annotations


import pytest

from rewriter import engine
from rewriter.edits import Edit, Fix, Intent, apply_edits
from rewriter.engine import Options, process
from rewriter.model import Report, Severity, Span
from transforms import resolve_profile
from rewriter.source import SourceFile
from rewriter.yamlintents import apply_intents
from rewriter.yamlpatch import Patcher, Refusal
from rewriter.yamlrender import plain_ok
from rewriter.yamlview import parse_yaml, resolved_entries

PROD = Options(profile=resolve_profile("prod", {}))
# Raising an explicit lower pids or nofile limit is an unsafe fix (a decision someone made); the
# anchor tests below use those fixes for the mechanics, so they run with --unsafe-fixes.


def fixed(text: str, options: Options = PROD) -> str:
    outcome = process("compose", SourceFile.from_text("compose.yaml", text), options, fix=True)
    return outcome.new_text if outcome.new_text is not None else text


def test_oracle_refuses_a_fix_that_lies(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "services:\n  api:\n    image: a\n"
    src = SourceFile.from_text("compose.yaml", text)
    # a fix that claims to add pids_limit but also changes the image
    pos = text.index("image: a") + len("image: ")
    bad = Fix("add pids_limit", (Edit(pos, pos + 1, "b"), Edit(len(text), len(text), "    pids_limit: 512\n")),
              intents=(Intent("set", ("services", "api", "pids_limit"), 512),), scope="services.api")
    model = parse_yaml(src).model()
    reason = engine.verify("compose", src, model, apply_edits(text, bad.edits), [bad])
    assert "services.api.image" in reason

    def fake_analyse(kind: str, s: SourceFile, options: Options, companion: object = None) -> engine.Analysis:
        real = parse_yaml(s).model()
        reports = [Report("DF401", "service 'api': no pids limit", Span(13, 16), Severity.WARNING, bad, "services.api")]
        return engine.Analysis(lambda: real, [], reports if s.text == text else [])

    monkeypatch.setattr(engine, "analyse", fake_analyse)
    outcome = process("compose", src, PROD, fix=True)
    assert outcome.new_text is None
    assert outcome.findings[0].refused.startswith("the result's resolved model differs")


def test_oracle_refuses_unparseable_result() -> None:
    text = "services:\n  api:\n    image: a\n"
    src = SourceFile.from_text("compose.yaml", text)
    fix = Fix("x", (Edit(len(text), len(text), "  : [\n"),), intents=())
    assert "would not parse" in engine.verify("compose", src, parse_yaml(src).model(), apply_edits(text, fix.edits), [fix])


def test_convergence_error_when_fixes_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = "services:\n  api: {image: a}\n", "services:\n  api: {image: b}\n"

    def flip(kind: str, s: SourceFile, options: Options, companion: object = None) -> engine.Analysis:
        other = "b" if "image: a" in s.text else "a"
        start = s.text.index("image: ") + 7
        fix = Fix("flip", (Edit(start, start + 1, other),),
                  intents=(Intent("set", ("services", "api", "image"), other),))
        return engine.Analysis(parse_yaml(s).model, [], [Report("DF101", "flip", Span(0, 1), Severity.WARNING, fix)])

    monkeypatch.setattr(engine, "analyse", flip)
    with pytest.raises(engine.ConvergenceError):
        process("compose", SourceFile.from_text("compose.yaml", a), PROD, fix=True)
    del b


def test_shared_anchor_edited_once_when_all_services_agree() -> None:
    text = ("x-d: &d\n  pids_limit: 100\nservices:\n  a:\n    <<: *d\n    image: a\n"
            "  b:\n    <<: *d\n    image: b\n")
    out = fixed(text, PROD.replace(select=("DF402",), unsafe_fixes=True))
    assert out == text.replace("pids_limit: 100", "pids_limit: 512")


def test_shared_anchor_not_edited_when_a_user_disagrees() -> None:
    text = ("x-d: &d\n  pids_limit: 100\nservices:\n  a:\n    <<: *d\n    image: a\n"
            "  b:  # dockfix: ignore[DF402]\n    <<: *d\n    image: b\n")
    out = fixed(text, PROD.replace(select=("DF402",), unsafe_fixes=True))
    assert out == text.replace("    image: a\n", "    image: a\n    pids_limit: 512\n")


def test_anchor_used_outside_services_is_kept() -> None:
    # editing the anchor is fine: x-d is a template; the model changes only where intended
    text = ("x-d: &d\n  ulimits:\n    nofile: 1024\n    nproc: 512\nservices:\n  a:\n    <<: *d\n    image: a\n")
    out = fixed(text, PROD.replace(select=("DF2",), unsafe_fixes=True))
    assert out == text.replace("nofile: 1024", "nofile: 65536")


def test_inherited_mapping_is_copied_not_dropped() -> None:
    # a local 'ulimits' would hide the inherited nproc: the override copies it
    text = ("x-d: &d\n  ulimits:\n    nofile: 1024\n    nproc: 512\nservices:\n  a:\n    <<: *d\n    image: a\n"
            "  b:  # dockfix: ignore\n    <<: *d\n    image: b\n")
    out = fixed(text, PROD.replace(select=("DF2",), unsafe_fixes=True))
    model = parse_yaml(SourceFile.from_text("c.yaml", out)).model()
    assert isinstance(model, dict)
    assert model["services"]["a"]["ulimits"] == {"nofile": 65536, "nproc": 512}
    assert model["services"]["b"]["ulimits"] == {"nofile": 1024, "nproc": 512}


def test_alias_value_is_replaced_by_a_copy() -> None:
    text = ("x-u: &u\n  nofile: 1024\nservices:\n  a:\n    image: a\n    ulimits: *u\n"
            "  b:  # dockfix: ignore\n    image: b\n    ulimits: *u\n")
    out = fixed(text, PROD.replace(select=("DF2",), unsafe_fixes=True))
    model = parse_yaml(SourceFile.from_text("c.yaml", out)).model()
    assert isinstance(model, dict)
    assert model["services"]["a"]["ulimits"] == {"nofile": 65536}
    assert model["services"]["b"]["ulimits"] == {"nofile": 1024}
    assert "ulimits: *u\n" in out  # b keeps its alias


def test_second_run_changes_nothing_on_merges() -> None:
    text = ("x-d: &d\n  restart: always\n  tmpfs: [/run]\nservices:\n  a:\n    <<: *d\n    image: a\n"
            "  b:\n    <<: [*d]\n    image: b\n    mem_limit: 1g\n")
    once = fixed(text)
    assert fixed(once) == once


def test_patcher_refuses_block_scalars() -> None:
    doc = parse_yaml(SourceFile.from_text("c.yaml", "services:\n  a:\n    image: |\n      x\n"))
    assert doc.root is not None
    svc = resolved_entries(resolved_entries(doc.root)["services"].value)["a"].value
    with pytest.raises(Refusal):
        Patcher(doc).set(("services", "a"), svc, ("image",), "y")


@pytest.mark.parametrize("text, flow, ok", [
    ("512m", False, True), ("/tmp:size=64m,mode=1777", False, True), ("/tmp:size=64m,mode=1777", True, False),
    ("on", False, False), ("0755", False, False), ("1:20", False, False), ("123", False, False),
    ("${MEM:-1g}", False, True), ("a: b", False, False), ("- x", False, False), ("", False, False),
    ("true", False, False), ("null", False, False), ("1e3", False, False), ("633MiB", False, True),
])
def test_plain_scalar_safety(text: str, flow: bool, ok: bool) -> None:
    assert plain_ok(text, flow) is ok


def test_apply_intents_append_converts_scalar() -> None:
    model = {"services": {"a": {"tmpfs": "/run"}}}
    out = apply_intents(model, [Intent("append", ("services", "a", "tmpfs"), "/tmp:size=1m")])
    assert out == {"services": {"a": {"tmpfs": ["/run", "/tmp:size=1m"]}}}
    assert model == {"services": {"a": {"tmpfs": "/run"}}}


def test_each_text_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle's parse of a new text is the one the next pass analyses: no text twice."""
    from rewriter import yamlview
    from rewriter.surfaces import compose

    parsed: list[str] = []
    real = yamlview.parse_yaml

    def counting(src: SourceFile):  # type: ignore[no-untyped-def]
        parsed.append(src.text)
        return real(src)

    monkeypatch.setattr(yamlview, "parse_yaml", counting)
    monkeypatch.setattr(compose, "parse_yaml", counting)
    text = "services:\n  api:\n    image: a\n"
    outcome = process("compose", SourceFile.from_text("once.yaml", text), PROD, fix=True)
    assert outcome.new_text is not None
    assert parsed[0] == text and parsed[-1] == outcome.new_text
    assert len(parsed) == len(set(parsed))
