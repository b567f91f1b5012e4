"""Limits Compose keeps in two places (issue 10, bug 1).

compose-go refuses a service-level ``mem_limit``/``cpus``/``pids_limit``/``mem_reservation`` whose
``deploy.resources`` twin differs, and once the ``limits`` (or ``reservations``) block exists a
twin that is not written counts as 0 (measured with Docker Compose v2.40.3:
``can't set distinct values on 'pids_limit' and 'deploy.resources.limits.pids'``). The rule below
is that check, so the tests need no Compose binary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rewriter.engine import Options, process
from transforms import resolve_profile
from rewriter.source import SourceFile
from rewriter.sizes import ByteSize
from rewriter.yamlview import parse_yaml

from fixture_runner import cases, fixed_bytes

PROD = Options(profile=resolve_profile("prod", {}))
# The built-in memory limit is a suggestion: the placement tests apply it with --unsafe-fixes.
UNSAFE = PROD.replace(unsafe_fixes=True)
CASES = [c for c in cases("compose", "go") if c.kind == "compose"]
TWINS = (("mem_limit", "limits", "memory"), ("cpus", "limits", "cpus"), ("pids_limit", "limits", "pids"),
         ("mem_reservation", "reservations", "memory"))


def _number(key: str, value: object) -> float:
    if isinstance(value, str) and key != "cpus":
        size = ByteSize.parse_docker(value)
        assert size is not None, value
        return size.bytes
    return float(value)  # type: ignore[arg-type]


def compose_refusals(text: str) -> list[str]:
    """What compose-go's loader (validate.go) says about the two-place limits of a document."""
    model = parse_yaml(SourceFile.from_text("compose.yaml", text)).model()
    assert isinstance(model, dict)
    out = []
    for name, service in (model.get("services") or {}).items():
        resources = ((service.get("deploy") or {}).get("resources") or {})
        for own, block, leaf in TWINS:
            if own not in service or not isinstance(resources.get(block), dict):
                continue
            twin = resources[block].get(leaf)
            if twin is None or _number(own, service[own]) != _number(own, twin):
                out.append(f"{name}: {own} vs deploy.resources.{block}.{leaf}")
    return out


def fixed(text: str, options: Options = PROD) -> str:
    outcome = process("compose", SourceFile.from_text("compose.yaml", text), options, fix=True)
    return outcome.new_text if outcome.new_text is not None else text


def findings(text: str, code: str) -> list[str]:
    outcome = process("compose", SourceFile.from_text("compose.yaml", text), PROD, fix=False)
    return [f.message for f in outcome.findings if f.code == code]


def test_the_checker_agrees_with_compose() -> None:
    assert compose_refusals("services:\n  a:\n    pids_limit: 5\n    deploy: {resources: {limits: {memory: 1g}}}\n")
    assert compose_refusals("services:\n  a:\n    pids_limit: 5\n    deploy: {resources: {limits: {}}}\n")
    assert not compose_refusals("services:\n  a:\n    pids_limit: 5\n    deploy: {resources: {}}\n")
    assert not compose_refusals("services:\n  a:\n    mem_limit: 1g\n    deploy: {resources: {limits: {memory: 1024m}}}\n")


@pytest.mark.parametrize("limits", ["memory: 256m", "cpus: \"0.5\"", "{}"])
def test_new_limits_go_into_an_existing_limits_block(limits: str) -> None:
    block = f"        limits: {limits}\n" if limits == "{}" else f"        limits:\n          {limits}\n"
    text = "services:\n  api:\n    image: a\n    deploy:\n      resources:\n" + block
    out = fixed(text, UNSAFE)
    assert compose_refusals(out) == []
    assert "pids_limit" not in out and "mem_limit" not in out
    model = parse_yaml(SourceFile.from_text("c.yaml", out)).model()
    limits_out = model["services"]["api"]["deploy"]["resources"]["limits"]  # type: ignore[index]
    assert limits_out["pids"] == 512 and "memory" in limits_out


def test_without_a_limits_block_the_service_keys_are_used() -> None:
    out = fixed("services:\n  api:\n    image: a\n    deploy:\n      replicas: 2\n      resources: {}\n", UNSAFE)
    assert "    mem_limit: 512m\n" in out and "    pids_limit: 512\n" in out
    assert compose_refusals(out) == []


def test_the_message_names_the_key_the_fix_writes() -> None:
    text = "services:\n  api:\n    image: a\n    deploy:\n      resources:\n        limits:\n          cpus: '1'\n"
    assert any("deploy.resources.limits.memory '512m'" in m for m in findings(text, "DF301"))
    outcome = process("compose", SourceFile.from_text("compose.yaml", text), PROD, fix=False)
    assert {f.fix.message for f in outcome.findings if f.code == "DF401" and f.fix} == {
        "add deploy.resources.limits.pids 512"}


@pytest.mark.parametrize(("service", "twin"), [
    ("pids_limit: 100", "limits:\n          memory: 1g"),
    ("cpus: 1.5", "limits:\n          memory: 1g"),
    ("mem_limit: 512m", "limits:\n          memory: 1g"),
    ("mem_reservation: 64m", "reservations:\n          cpus: '1'"),
])
def test_distinct_values_already_in_the_input_are_reported(service: str, twin: str) -> None:
    text = f"services:\n  api:\n    image: a\n    {service}\n    deploy:\n      resources:\n        {twin}\n"
    assert compose_refusals(text)
    messages = findings(text, "DF303")
    assert len(messages) == 1 and "docker compose refuses distinct values" in messages[0]
    assert service.split(":")[0] in messages[0]


@pytest.mark.parametrize("text", [
    "services:\n  api:\n    mem_limit: 1g\n    deploy: {resources: {limits: {memory: 1024m}}}\n",
    "services:\n  api:\n    cpus: 1.5\n    deploy: {resources: {limits: {cpus: '1.50'}}}\n",
    "services:\n  api:\n    pids_limit: 100\n    deploy: {resources: {reservations: {memory: 1g}}}\n",
    "services:\n  api:\n    pids_limit: ${PIDS}\n    deploy: {resources: {limits: {memory: 1g}}}\n",
])
def test_equal_or_unknown_values_are_not_reported(text: str) -> None:
    assert findings(text, "DF303") == []


def test_an_interpolated_default_is_read_as_compose_reads_it() -> None:
    """``${PIDS:-100}`` is 100 when .env does not set PIDS, and Docker Compose 2.40 refuses it beside
    a deploy limits block without pids ("can't set distinct values"), so it is reported."""
    text = "services:\n  api:\n    pids_limit: ${PIDS:-100}\n    deploy: {resources: {limits: {memory: 1g}}}\n"
    found = findings(text, "DF303")
    assert len(found) == 1 and "interpolated from '${PIDS:-100}'" in found[0]


def test_override_mode_writes_the_twin_too(run_cli, tmp_path: Path) -> None:
    base = "services:\n  api:\n    image: a\n    deploy:\n      resources:\n        limits:\n          memory: 256m\n"
    (tmp_path / "compose.yaml").write_text(base)
    code, _, err = run_cli("apply", "--write-to", "override", ".", cwd=tmp_path)
    assert code == 0, err
    over = (tmp_path / "compose.prod.yaml").read_text()
    assert "pids_limit" not in over and "      resources:\n        limits:\n          pids: 512\n" in over


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("profile", ["prod", "dev"])
def test_no_fixture_output_is_refused_when_its_input_is_not(case, profile: str) -> None:
    text = case.input.read_text(encoding="utf-8")
    if compose_refusals(text):
        pytest.skip("the input is refused already (DF303 reports it)")
    assert compose_refusals(fixed_bytes(case.input, case.kind, profile, True).decode("utf-8")) == []
