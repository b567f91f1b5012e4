"""SARIF 2.1.0 output, shaped for GitHub code scanning.

GitHub reads ``tool.driver.rules`` (id, short and full description, help), and for each result
``ruleId``, ``level``, ``message.text`` and the first location's ``artifactLocation.uri`` and
``region``. Columns are Python string positions, so the run says ``columnKind:
unicodeCodePoints``. ``fixes`` are written only for fixes that have edits: GitHub ignores the
property but rejects a whole upload whose ``fixes`` entry has empty ``artifactChanges``.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Sequence

from rewriter import __version__
from rewriter.source import display_path
from rewriter.engine import Finding
from rewriter.source import SourceFile

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/dockfix/"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}

JSON = dict[str, object]


def rule_help(code: str, doc: str) -> str:
    """The part of a transform module's docstring that documents ``code`` (header excluded)."""
    lines = doc.splitlines()
    out: list[str] = []
    inside = False
    header = re.compile(r"^[A-Z]+\d+\s+\S+")
    for line in lines:
        if header.match(line):
            if inside:
                break
            inside = line.split()[0] == code
            continue
        if inside:
            if line and not line.startswith((" ", "\t")):
                break  # a module-level paragraph ("Settings: ...") ends the rule's section
            out.append(line[4:] if line.startswith("    ") else line.strip())
    return "\n".join(out).strip()


def _first_paragraph(text: str) -> str:
    para = text.split("\n\n", 1)[0]
    return " ".join(part.strip() for part in para.splitlines()).strip()


def rules_json() -> list[JSON]:
    """Every rule dockfix knows, in code order (results point into this list by index)."""
    import importlib  # lazy: start-up

    from transforms import RULES  # lazy: start-up

    out: list[JSON] = []
    for code in sorted(RULES):
        rule = RULES[code]
        doc = importlib.import_module(rule.module).__doc__ or ""
        body = rule_help(code, doc) or rule.summary
        help_text = (f"{body}\n\nSuppress one finding with a '# dockfix: ignore[{code}]' comment on the "
                     f"line or the line above; turn the rule off with 'ignore = [\"{code}\"]' in "
                     f"[tool.dockfix] or dockfix.toml. 'dockfix rule {code}' prints this text.")
        out.append({
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": _first_paragraph(body) or rule.summary},
            "help": {"text": help_text},
            "defaultConfiguration": {"level": _LEVELS[rule.severity.value]},
            "properties": {"tags": ["container", "runtime-config"]},
        })
    return out


def artifact_uri(path: str) -> str:
    """A relative URI reference for ``path`` (forward slashes, percent-encoded)."""
    return urllib.parse.quote(display_path(path), safe="/")


def _region(src: SourceFile, start: int, end: int) -> JSON:
    (sl, sc), (el, ec) = src.position(start), src.position(end)
    return {"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec}


def _fixes(f: Finding, src: SourceFile | None) -> list[JSON]:
    if f.fix is None or not f.fixable or src is None or not f.fix.edits:
        return []
    replacements: list[JSON] = []
    for edit in sorted(f.fix.edits):
        replacement: JSON = {"deletedRegion": _region(src, edit.start, edit.end)}
        if edit.content:
            replacement["insertedContent"] = {"text": edit.content}
        replacements.append(replacement)
    return [{
        "description": {"text": f.fix.message},
        "artifactChanges": [{"artifactLocation": {"uri": artifact_uri(f.path)},
                             "replacements": replacements}],
    }]


def document(findings: Sequence[Finding], sources: dict[str, SourceFile]) -> JSON:
    """The SARIF log for ``findings`` (``sources`` gives the text each fix's offsets refer to)."""
    rules = rules_json()
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results: list[JSON] = []
    for f in findings:
        result: JSON = {
            "ruleId": f.code,
            "level": _LEVELS[f.severity.value],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(f.path)},
                "region": {"startLine": f.line, "startColumn": f.column,
                           "endLine": f.end_line, "endColumn": f.end_column},
            }}],
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        fixes = _fixes(f, sources.get(f.path))
        if fixes:
            result["fixes"] = fixes
        results.append(result)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "dockfix", "version": __version__, "semanticVersion": __version__,
                                "informationUri": INFORMATION_URI, "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render(findings: Sequence[Finding], sources: dict[str, SourceFile]) -> str:
    return json.dumps(document(findings, sources), indent=2, ensure_ascii=False) + "\n"
