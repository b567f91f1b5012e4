"""Conformance checks: what must hold for *any* file dockfix processes, whatever the fixes are.

Used by ``tests/test_conformance.py`` (over ``fixtures/real``), the property-based tests and
``scripts/conformance.py`` (over the shared corpus). It lives with the tests, not in the runtime
package: it needs the test extra (``jsonschema``) and the repository's ``fixtures/``. For one file and one profile:

- no crash: an input dockfix cannot read is refused with a :class:`ParseError`; an internal
  error or a convergence error is a violation;
- no applicable fix: the bytes come back identical;
- line preservation: with difflib line opcodes from the original to the result, ``insert``
  blocks are free, ``equal`` blocks are untouched by definition, and every original line in a
  ``replace`` or ``delete`` block must hold one of the keys the applied fixes name (the last
  mapping key of an intent path, or one of its parents when the intent creates it);
- model: the resolved model (merges expanded) differs from the original only at paths on or
  under a path an applied fix's intent names (or on the way to one, for keys it creates);
- validity: if the input was valid for its kind (the Compose schema, BuildKit's parser,
  ``bash -n``), the output is too;
- idempotence: a second run changes nothing;
- coverage: after the run, no service still has a fix that would apply and was not refused.

A new file kind plugs in with one validity function in :data:`VALIDATORS`.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from rewriter.edits import Fix, Intent
from rewriter.engine import Finding, Options
from rewriter.errors import ConvergenceError, DockfixError, ParseError
from rewriter.output import error_text
from transforms import resolve_profile
from rewriter.runner import Done, Failed, Job, Skipped, run_job
from rewriter.source import SourceFile

ModelPath = tuple[str | int, ...]

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "fixtures", "schema", "compose-spec.json")


# -- validity per kind: one function each; '' means valid ---------------------------------------


@lru_cache(maxsize=1)
def _compose_validator() -> object:
    import jsonschema  # type: ignore[import-untyped]  # lazy: start-up

    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        schema = json.load(fh)
    # the spec names "https://json-schema.org/draft-07/schema", which jsonschema does not know
    # under that spelling: it is draft 7
    return jsonschema.Draft7Validator(schema)


def compose_validity(data: bytes) -> str:
    """'' when the file's resolved model validates against the compose-spec JSON schema."""
    from rewriter.yamlview import parse_yaml  # lazy: start-up

    try:
        model = parse_yaml(SourceFile.from_bytes("<conformance>", data)).model()
    except ParseError as err:
        return f"does not parse: {err.message}"
    validator = _compose_validator()
    error = next(iter(validator.iter_errors(model)), None)  # type: ignore[attr-defined]
    if error is None:
        return ""
    where = "/".join(str(p) for p in error.absolute_path) or "<root>"
    return f"schema: {where}: {error.message}"


def dockerfile_validity(data: bytes) -> str:
    """'' when BuildKit's own parser (the ``dockerfile`` package) accepts the file."""
    import dockerfile  # lazy: start-up

    try:
        dockerfile.parse_string(data.decode("utf-8"))
    except (dockerfile.GoParseError, UnicodeDecodeError) as err:
        return f"buildkit parser: {err}"
    return ""


def shell_validity(data: bytes) -> str:
    """'' when ``bash -n`` accepts the script (syntax only; nothing runs)."""
    proc = subprocess.run(["bash", "-n", "/dev/stdin"], input=data, capture_output=True,
                          timeout=30, check=False)
    if proc.returncode == 0:
        return ""
    return "bash -n: " + proc.stderr.decode("utf-8", "replace").strip().splitlines()[0]


VALIDATORS: dict[str, Callable[[bytes], str]] = {
    "compose": compose_validity,
    "dockerfile": dockerfile_validity,
    "shell": shell_validity,
}


# -- results ----------------------------------------------------------------------------------


@dataclass
class FileResult:
    path: str
    kind: str
    status: str = ""  # changed | unchanged | refused | skipped | crashed
    reason: str = ""  # why refused or skipped
    services: int = 0
    fixes: int = 0
    valid_before: bool | None = None  # None: no validator for the kind
    violations: list[str] = field(default_factory=list)

    def violate(self, what: str) -> None:
        self.violations.append(what)


def options_for(profile: str) -> Options:
    return Options(profile=resolve_profile(profile, {}))


def run_once(path: str, kind: str, data: bytes, options: Options) -> Done | Failed | Skipped:
    return run_job(Job(path, kind, options, fix=True, stdin=data))


def output_bytes(done: Done) -> bytes:
    outcome = done.outcome
    if outcome.new_text is None:
        return done.data
    return outcome.src.with_text(outcome.new_text).to_bytes()


def applied_intents(fixed: list[Finding]) -> list[Intent]:
    """Intents of every applied fix, and of its fallback (the engine may have used either)."""
    out: list[Intent] = []
    for finding in fixed:
        fix: Fix | None = finding.fix
        while fix is not None:
            out.extend(fix.intents)
            fix = fix.fallback
    return out


def check_file(path: str, kind: str, data: bytes, *, profile: str = "prod",
               surfaces: tuple[str, ...] | None = None) -> FileResult:
    """Run every conformance check on one file's bytes; never writes anything."""
    from rewriter.surfaces import KINDS  # lazy: start-up

    result = FileResult(path, kind)
    validator = VALIDATORS.get(kind)
    if validator is not None:
        result.valid_before = validator(data) == ""
    if kind not in (surfaces if surfaces is not None else KINDS):
        result.status = "skipped"
        result.reason = f"no '{kind}' surface yet"
        return result
    options = options_for(profile)
    first = run_once(path, kind, data, options)
    if isinstance(first, Skipped):
        result.status, result.reason = "skipped", first.reason
        return result
    if isinstance(first, Failed):
        err = first.error
        if isinstance(err, ParseError):
            result.status, result.reason = "refused", err.message
        else:
            result.status, result.reason = "crashed", err.message
            kind_name = "convergence error" if isinstance(err, ConvergenceError) else "error"
            result.violate(f"{kind_name}: {error_text(err)}")
        return result
    outcome = first.outcome
    result.services = len({f.scope for f in outcome.findings + outcome.fixed if f.scope}
                          | _service_scopes(kind, data))
    result.fixes = len(outcome.fixed)
    new = output_bytes(first)
    if not outcome.fixed:
        result.status = "unchanged"
        if new != data:
            result.violate("no fix applied, yet the bytes changed")
    else:
        result.status = "changed" if new != data else "unchanged"
    if outcome.new_text is not None and not outcome.fixed:
        result.violate("the text changed without any fix being recorded")
    intents = applied_intents(outcome.fixed)
    if new != data:
        result.violations.extend(line_violations(data, new, intents, kind))
        result.violations.extend(model_violations(kind, path, data, new, intents))
        if validator is not None and result.valid_before:
            why = validator(new)
            if why:
                result.violate(f"the input was valid, the output is not: {why}")
    result.violations.extend(uncovered(outcome.findings, options, "first run"))
    second = run_once(path, kind, new, options)
    if isinstance(second, Failed):
        result.violate(f"second run failed: {error_text(second.error)}")
    elif isinstance(second, Done):
        if second.outcome.new_text is not None:
            result.violate("not idempotent: a second run changes the file again "
                           f"({', '.join(sorted({f.code for f in second.outcome.fixed}))})")
        result.violations.extend(uncovered(second.outcome.findings, options, "second run"))
    return result


def _service_scopes(kind: str, data: bytes) -> set[str]:
    from rewriter import surfaces  # lazy: start-up

    try:
        loaded = surfaces.load(kind, SourceFile.from_bytes("<conformance>", data))
    except DockfixError:
        return set()
    return {c.scope for c in loaded.containers}


def uncovered(findings: list[Finding], options: Options, when: str) -> list[str]:
    """Findings whose fix would apply but was neither applied nor refused with a reason."""
    out = []
    for f in findings:
        if f.fix is not None and options.applies(f.fix) and not f.refused:
            out.append(f"not covered after the {when}: {f.code} at {f.line}:{f.column} "
                       f"({f.scope or 'file'}) has an applicable fix that was neither applied nor refused")
    return out


# -- line preservation -------------------------------------------------------------------------


def named_keys(intents: list[Intent]) -> tuple[set[str], set[str]]:
    """(leaf keys, parent keys) the intents name.

    Leaf keys are the last mapping key of an intent path and every key inside its value (a fix
    that sets ``nofile`` to a mapping rewrites the ``soft:``/``hard:`` lines); a line holding one
    may be replaced outright. Parent keys are the other keys on the path (``services``, the
    service name, ``ulimits`` when ``nofile`` is created); a line holding only one of those may
    gain text (a flow mapping gets a new entry) but must keep every character it had.
    """
    leaves: set[str] = set()
    parents: set[str] = set()
    for intent in intents:
        names = [p for p in intent.path if isinstance(p, str)]
        if names:
            leaves.add(names[-1])
            parents.update(names[:-1])
        stack = [intent.value]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                leaves.update(str(k) for k in value)
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
    return leaves, parents


def line_violations(old: bytes, new: bytes, intents: list[Intent], kind: str = "compose") -> list[str]:
    """Every original line is kept in order, except lines holding a key the fixes name.

    For YAML the keys are mapping keys; for the other kinds (shell flags, Python keyword
    arguments) a changed line must either keep every character it had (only insertions) or
    hold a setting name a fix names (``--memory``, ``mem_limit``), whose value may change.
    """
    old_lines = _lines(old.decode("utf-8"))
    new_lines = _lines(new.decode("utf-8"))
    leaves, parents = named_keys(intents)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "insert"):
            continue
        hunk = "".join(new_lines[j1:j2])
        for n in range(i1, i2):
            line = old_lines[n]
            if kind not in ("compose", "compose-override"):
                if _is_subsequence(line.rstrip("\r\n"), hunk) or any(
                        key in line for key in leaves | parents if len(key) > 2):
                    continue
                out.append(f"line {n + 1} was changed or removed but holds no setting a fix names: {line!r}")
                continue
            if any(_holds_key(line, key) for key in leaves):
                continue
            if any(_holds_key(line, key) for key in parents) and _is_subsequence(line, hunk):
                continue
            out.append(f"line {n + 1} was changed or removed but holds no key a fix names: {line!r}")
    return out


def _is_subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)


_LINE_RE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def _lines(text: str) -> list[str]:
    """Lines with their endings; a last line without one gets the file's own ending, so that
    appending after it (which must end it) does not count as changing it."""
    lines = _LINE_RE.findall(text)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\r\n" if "\r\n" in text else "\n"
    return lines


def _holds_key(line: str, key: str) -> bool:
    stripped = line.strip().lstrip("-").strip().lstrip("{").strip()
    for quote in ("", '"', "'"):
        token = f"{quote}{key}{quote}"
        if stripped.startswith(token + ":") or f" {token}:" in line or f"{{{token}:" in line \
                or f",{token}:" in line:
            return True
    return False


# -- model comparison ---------------------------------------------------------------------------


def differences(a: object, b: object, path: ModelPath = ()) -> Iterator[ModelPath]:
    """Paths where two resolved models differ (the deepest path that holds the difference)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                yield path + (key,)
            elif a[key] != b[key]:
                yield from differences(a[key], b[key], path + (key,))
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                yield from differences(x, y, path + (i,))
        return
    if a != b or type(a) is not type(b):
        yield path


def model_violations(kind: str, path: str, old: bytes, new: bytes, intents: list[Intent]) -> list[str]:
    from rewriter.surfaces import resolved_model  # lazy: start-up

    try:
        before = resolved_model(kind, SourceFile.from_bytes(path, old))
        after = resolved_model(kind, SourceFile.from_bytes(path, new))
    except ParseError as err:
        return [f"the output does not parse: {error_text(err)}"]
    touched = [i.path for i in intents]
    out = []
    for diff in differences(before, after):
        if not any(_related(diff, t) for t in touched):
            out.append(f"the resolved model changed at {'.'.join(map(str, diff)) or '<root>'}, "
                       "which no fix names")
    return out


def _related(diff: ModelPath, touched: ModelPath) -> bool:
    """``diff`` is on or under the touched path, or is a parent the fix had to create."""
    n = min(len(diff), len(touched))
    return diff[:n] == touched[:n] and len(diff) >= 2


# -- corpora ---------------------------------------------------------------------------------------


MANIFEST_KINDS = {"compose": "compose", "compose-fragment": "compose", "dockerfile": "dockerfile",
                  "dockerfile-fragment": "dockerfile", "shell": "shell"}


def manifest_files(root: str) -> Iterator[tuple[str, str]]:
    """(path, kind) for every file a corpus' MANIFEST.json lists with a kind dockfix handles."""
    with open(os.path.join(root, "MANIFEST.json"), encoding="utf-8") as fh:
        entries = json.load(fh)
    for entry in entries:
        kind = MANIFEST_KINDS.get(entry["kind"])
        if kind is None:
            continue
        path = os.path.join(root, entry["path"])
        if not os.path.exists(path):  # a manifest written from the corpus' parent directory
            path = os.path.join(os.path.dirname(root), entry["path"])
        yield path, kind


def corpus_files(root: str) -> list[tuple[str, str]]:
    """The manifest's files plus any YAML file or Dockerfile under ``root`` it does not list."""
    listed = dict(manifest_files(root))
    found = set(listed)
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(directory, name)
            if path in found or os.path.islink(path):
                continue
            if name.endswith((".yaml", ".yml")) and name != "MANIFEST.json":
                listed[path] = "compose"
            elif name == "Dockerfile" or name.endswith(".Dockerfile") or name.startswith("Dockerfile."):
                listed[path] = "dockerfile"
    return sorted(listed.items())


def group_of(root: str, path: str) -> str:
    rel = os.path.relpath(path, root).split(os.sep)
    return rel[0] if rel[0] not in ("shell", "extras") or len(rel) < 2 else f"{rel[0]}/{rel[1]}"


def summary_table(root: str, results: list[FileResult]) -> str:
    """A plain-text table: one row per source directory and kind, then the total."""
    rows: dict[tuple[str, str], list[int]] = {}
    columns = ("files", "changed", "unchanged", "refused", "skipped", "crashed", "services",
               "fixes", "valid-in", "violations")
    for r in results:
        row = rows.setdefault((group_of(root, r.path), r.kind), [0] * len(columns))
        row[0] += 1
        row[1 + ("changed", "unchanged", "refused", "skipped", "crashed").index(r.status)] += 1
        row[6] += r.services
        row[7] += r.fixes
        row[8] += 1 if r.valid_before else 0
        row[9] += len(r.violations)
    total = [sum(col) for col in zip(*rows.values())] if rows else [0] * len(columns)
    body = [[g, k, *map(str, v)] for (g, k), v in sorted(rows.items())]
    body.append(["total", "", *map(str, total)])
    header = ["source", "kind", *columns]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines.extend(fmt.format(*line) for line in body)
    return "\n".join(lines) + "\n"
