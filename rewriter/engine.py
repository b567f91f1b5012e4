"""The per-file pipeline: find containers, run the transforms, apply fixes, check them, repeat.

Each pass applies every compatible fix at once (overlapping ones wait for the next pass), then
re-parses the new text and compares its resolved model with the old model plus exactly the fixes'
intents (the *oracle*). A fix that fails the check is refused and reported, and the file is left
as it was before it. The loop remembers every text it has produced: a repeat, or more passes than
:data:`MAX_PASSES`, is a :class:`ConvergenceError` naming the rules involved.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence

from rewriter.edits import Applicability, Edit, Fix, Intent, apply_edits, select_compatible
from rewriter.errors import ConvergenceError, ParseError
from rewriter.model import Container, Report, Severity, Span
from rewriter.profiles import Profile, ServiceConfig
from rewriter.record import Record
from rewriter.source import SourceFile

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.surfaces.dockerfile import DockerfileImage
    from transforms import Context, Rule
    from transforms.base import Check, ImageCheck

MAX_PASSES = 16
# oracle checks after a failed batch, per pass (see _apply_checked)
MAX_CHECKS = 64


class Finding(Record):
    __slots__ = (
        "code", "path", "line", "column", "end_line", "end_column", "message", "severity", "fix", "scope",
        "refused",
    )

    def __init__(self, code: str, path: str, line: int, column: int, end_line: int, end_column: int,
                 message: str, severity: Severity, fix: Fix | None, scope: str = "",
                 refused: str = "") -> None:
        self.code = code
        self.path = path
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.message = message
        self.severity = severity
        self.fix = fix
        self.scope = scope
        self.refused = refused  # why the fix was refused by the oracle, if it was

    @property
    def fixable(self) -> bool:
        return self.fix is not None and self.fix.applicability > Applicability.DISPLAY_ONLY


class Options(Record):
    __slots__ = ("profile", "select", "ignore", "unsafe_fixes", "inline_ignores", "services", "compose_files")

    def __init__(self, profile: Profile, select: tuple[str, ...] = (), ignore: tuple[str, ...] = (),
                 unsafe_fixes: bool = False, inline_ignores: bool = True,
                 services: tuple[ServiceConfig, ...] = (),
                 compose_files: tuple[tuple[str, ...], ...] = ()) -> None:
        self.profile = profile
        self.select = select
        self.ignore = ignore
        self.unsafe_fixes = unsafe_fixes
        self.inline_ignores = inline_ignores
        self.services = services  # [tool.dockfix.services.NAME]
        self.compose_files = compose_files  # [tool.dockfix] compose-files: -f chains, absolute paths

    def wants(self, code: str) -> bool:
        if self.select and not any(code.startswith(p) for p in self.select):
            return False
        return not any(code.startswith(p) for p in self.ignore)

    def applies(self, fix: Fix) -> bool:
        needed = Applicability.UNSAFE if self.unsafe_fixes else Applicability.SAFE
        return fix.applicability >= needed


class FileOutcome:
    __slots__ = ("path", "src", "findings", "fixed", "new_text", "skipped", "depends")

    def __init__(self, path: str, src: SourceFile, findings: list[Finding] | None = None) -> None:
        self.path = path
        self.src = src
        self.findings: list[Finding] = findings if findings is not None else []  # what remains
        self.fixed: list[Finding] = []  # what was fixed
        self.new_text: str | None = None  # None when nothing changed
        self.skipped = ""
        self.depends: dict[str, tuple[int, int] | None] = {}  # other files read


# -- surfaces -------------------------------------------------------------------------------------


class Analysis:
    __slots__ = ("make_model", "containers", "reports", "scopes")

    def __init__(self, make_model: Callable[[], object], containers: list[Container], reports: list[Report],
                 scopes: dict[str, Span] | None = None) -> None:
        self.make_model = make_model  # the resolved model, built only when a fix needs checking
        self.containers = containers
        self.reports = reports
        self.scopes = scopes if scopes is not None else {}


def analyse(kind: str, src: SourceFile, options: Options, companion: SourceFile | None = None) -> Analysis:
    """Parse ``src`` as ``kind`` and run every selected transform on every container."""
    from transforms import IMAGE_TRANSFORMS, TRANSFORMS, Context  # lazy: start-up

    from rewriter import surfaces  # lazy: start-up

    loaded = surfaces.load(kind, src, companion)
    if kind == "compose":
        from rewriter.compose_project import in_project  # lazy: start-up

        loaded = in_project(loaded, src, options.compose_files)
    elif kind == "compose-override" and companion is not None:
        from rewriter.compose_project import override_in_project  # lazy: start-up

        loaded = override_in_project(loaded, companion, options.compose_files)
    if kind == "kubernetes" and loaded.containers:
        from rewriter.kubernetes_project import in_kustomize  # lazy: start-up

        in_kustomize(loaded.containers, src.path)
    containers, model = loaded.containers, loaded.make_model
    _within_cap(src, "containers (services, docker run commands, SDK calls)", containers, MAX_CONTAINERS)
    ctx = Context(profile=options.profile, path=src.path, kind=kind, services=options.services,
                  wants=options.wants, unsafe_fixes=options.unsafe_fixes, containers=tuple(containers))
    reports = _run_checks(containers, TRANSFORMS, ctx, options) + _run_image_checks(loaded.images, IMAGE_TRANSFORMS,
                                                                                   ctx, options)
    reports += [Report(code, message, Span(0, 0), Severity.INFO) for code, message in loaded.notes
                if options.wants(code)]
    _within_cap(src, "findings", reports, MAX_FINDINGS)
    return Analysis(model, containers, reports, loaded.scopes)


# Per-file caps: what one file may cost is bounded by them (and by yamlview.MAX_YAML_LINES), not
# by the 10 MB input limit. A service with its findings and fixes takes about 15 KB while checked
# and 25 KB while fixed: 16,000 services (a 400 KB file) peak at about 250 MB for ``check`` and
# 400 MB for ``diff``. The caps let the language server check a 4.5 MB buffer of 36,000 services
# (tests/test_lsp_big.py) and hold one file under about 1 GB. A file over a cap is an error that
# names the cap, like any file dockfix cannot handle: never a silent truncation.
MAX_CONTAINERS = 40_000
MAX_FINDINGS = 250_000


def _within_cap(src: SourceFile, what: str, items: Sequence[Container] | Sequence[Report], cap: int) -> None:
    if len(items) > cap:
        line, column = src.position(items[cap].span.start)
        raise ParseError(f"too many {what} in one file: {len(items)} (dockfix checks at most {cap} per file, "
                         f"which bounds the memory and time a file takes)", path=src.path, line=line,
                         column=column)


def _run_checks(containers: Sequence[Container], checks: Sequence[tuple[Check, Sequence[Rule]]], ctx: Context,
                options: Options) -> list[Report]:
    """Every selected check on every container."""
    from transforms.project import context_for, keeps  # lazy: start-up

    reports: list[Report] = []
    for container in containers:
        # a one-off job's profile asks for no limits; a project's service reports each rule
        # family in the file where it takes effect
        own = context_for(container, ctx)
        for check, rules in checks:
            if not any(options.wants(rule.code) for rule in rules):
                continue
            reports.extend(rep for rep in check(container, own) if options.wants(rep.code) and keeps(container, rep.code))
    return reports


def _run_image_checks(images: Sequence[DockerfileImage], checks: Sequence[tuple[ImageCheck, Sequence[Rule]]],
                      ctx: Context, options: Options) -> list[Report]:
    """Every selected check on every Dockerfile (not a container: it runs as nothing, and its
    findings are reported in it)."""
    reports: list[Report] = []
    for image in images:
        for check, rules in checks:
            if not any(options.wants(rule.code) for rule in rules):
                continue
            reports.extend(rep for rep in check(image, ctx) if options.wants(rep.code))
    return reports


# -- suppressions ---------------------------------------------------------------------------------

# compiled on first use: only a file that mentions dockfix needs it (about 1 M instructions)
_PRAGMA = functools.cache(lambda: re.compile(
    r"#\s*dockfix(?::\s*|\s+)(?P<what>ignore|skip-file|disable-file)"
    r"(?:\[(?P<codes>[A-Za-z0-9,\s]*)\]|=(?P<codes2>[A-Za-z0-9,]+))?"
))


class Suppressions(Record):
    __slots__ = ("skip_file", "lines")

    def __init__(self, skip_file: bool, lines: dict[int, frozenset[str]]) -> None:
        self.skip_file = skip_file
        self.lines = lines  # line -> codes ("" = every code)

    def covers(self, code: str, line: int) -> bool:
        for candidate in (line, line - 1):
            codes = self.lines.get(candidate)
            if codes is not None and ("" in codes or any(code.startswith(c) for c in codes)):
                return True
        return False


def scan_suppressions(src: SourceFile) -> Suppressions:
    if "dockfix" not in src.text:
        return Suppressions(False, {})
    lines: dict[int, frozenset[str]] = {}
    skip = False
    for number, line in enumerate(src.text.splitlines(), start=1):
        if "dockfix" not in line:
            continue
        m = _PRAGMA().search(line)
        if not m:
            continue
        if m.group("what") in ("skip-file", "disable-file"):
            skip = True
            continue
        raw = m.group("codes") or m.group("codes2") or ""
        codes = frozenset(c.strip().upper() for c in raw.split(",") if c.strip()) or frozenset({""})
        lines[number] = lines.get(number, frozenset()) | codes
    return Suppressions(skip, lines)


# -- the loop -------------------------------------------------------------------------------------


def to_findings(src: SourceFile, analysis: Analysis, options: Options,
                suppressions: Suppressions, suppressed: frozenset[tuple[str, str]] = frozenset()) -> list[Finding]:
    """``suppressed``: (scope, code) pairs a companion (the base of an override file) suppresses."""
    scope_lines = {c.scope: src.position(c.span.start)[0] for c in analysis.containers}
    scope_lines.update({scope: src.position(span.start)[0] for scope, span in analysis.scopes.items()})
    out: list[Finding] = []
    for rep in analysis.reports:
        line, col = src.position(rep.span.start)
        end_line, end_col = src.position(rep.span.end)
        if options.inline_ignores and (
            (rep.scope, rep.code) in suppressed
            or suppressions.covers(rep.code, line)
            or (rep.scope in scope_lines and suppressions.covers(rep.code, scope_lines[rep.scope]))
        ):
            continue
        out.append(Finding(rep.code, src.path, line, col, end_line, end_col, rep.message,
                           rep.severity, rep.fix, rep.scope))
    out.sort(key=lambda f: (f.line, f.column, f.code))
    return out


def _wanting(candidates: Sequence[Fix]) -> dict[tuple[Edit, ...], set[str]]:
    """The scopes wanting each edit set of a fix that reaches other services, gathered in one
    pass (asking every other fix for each shared one was O(n^2) in the number of fixes)."""
    wanting: dict[tuple[Edit, ...], set[str]] = {fix.edits: set() for fix in candidates if fix.reach}
    if wanting:
        for fix in candidates:
            scopes = wanting.get(fix.edits)
            if scopes is not None:
                scopes.add(fix.scope)
    return wanting


def resolve_shared(findings: Sequence[Finding], options: Options) -> list[Fix]:
    """The fixes to try this pass: a fix that reaches other services is kept only when each of
    them wants the identical edit; otherwise its local-override fallback is used."""
    candidates = [f.fix for f in findings if f.fix is not None and options.applies(f.fix)]
    wanting = _wanting(candidates)
    chosen: list[Fix] = []
    seen_edits: set[tuple[object, ...]] = set()
    for fix in candidates:
        if fix.reach:
            if not fix.reach <= wanting[fix.edits]:
                if fix.fallback is None:
                    continue
                fix = fix.fallback
        if fix.edits in seen_edits:
            continue
        seen_edits.add(fix.edits)
        chosen.append(fix)
    return chosen


def _intents(fixes: Iterable[Fix]) -> list[Intent]:
    out: list[Intent] = []
    for fix in fixes:
        out.extend(fix.intents)
    return out


def verify(kind: str, src: SourceFile, before: object, new_text: str, fixes: Sequence[Fix]) -> str:
    """The oracle: '' when ``new_text`` is exactly ``before`` plus the fixes' intents."""
    from rewriter.yamlintents import apply_intents  # lazy: start-up

    from rewriter.surfaces import resolved_model  # lazy: start-up

    try:
        after = resolved_model(kind, src.with_text(new_text))
    except ParseError as err:
        return f"the result would not parse ({err.message})"
    try:
        expected = apply_intents(before, _intents(fixes))
    except (ValueError, AssertionError, TypeError, KeyError, IndexError) as err:
        return f"the intended change does not fit the document ({err})"
    if after != expected:
        return "the result's resolved model differs from the intended one: " + _first_difference(expected, after)
    return ""


def _first_difference(a: object, b: object, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a:
                return f"'{path}{key}' appeared"
            if key not in b:
                return f"'{path}{key}' was lost"
            if a[key] != b[key]:
                return _first_difference(a[key], b[key], f"{path}{key}.")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}{i}.")
    return f"'{path.rstrip('.') or '<root>'}' is {b!r}, expected {a!r}"


def process(kind: str, src: SourceFile, options: Options, *, fix: bool,
            companion: SourceFile | None = None) -> FileOutcome:
    """Check (``fix=False``) or fix one file. Raises DockfixError for input it cannot handle."""
    outcome = FileOutcome(src.path, src)
    for given in (src, companion):
        if given is not None and (kind.startswith("compose") or kind == "kubernetes"
                                  or given.path.endswith((".yml", ".yaml"))):
            from rewriter.yamlview import check_yaml_size  # lazy: start-up

            check_yaml_size(given)
    suppressions = scan_suppressions(src)
    if options.inline_ignores and suppressions.skip_file:
        outcome.skipped = "dockfix: skip-file"
        return outcome
    suppressed = _suppressed_by(companion, options) if companion is not None and options.inline_ignores else None
    if suppressed is None and companion is not None and options.inline_ignores:
        outcome.skipped = "dockfix: skip-file (in the base file)"
        return outcome
    suppressed = suppressed or frozenset()
    analysis = analyse(kind, src, options, companion)
    findings = to_findings(src, analysis, options, suppressions, suppressed)
    if not fix:
        outcome.findings = findings
        return outcome
    current = src
    seen = {src.text}
    refused: dict[tuple[object, ...], str] = {}
    fixed: list[Finding] = []
    for _ in range(MAX_PASSES):
        usable = [f for f in findings if f.fix is not None and f.fix.edits not in refused]
        fixes = resolve_shared(usable, options)
        fixes = [f for f in fixes if f.edits not in refused]
        chosen = select_compatible(fixes)
        if not chosen:
            break
        new_text, applied = _apply_checked(kind, current, analysis.make_model(), chosen, refused)
        if not applied:
            continue
        if new_text in seen:
            codes = sorted({f.code for f in findings if f.fix in applied})
            raise ConvergenceError(f"fixes do not converge (rules {', '.join(codes)} undo each other)",
                                   path=src.path, line=1, column=1)
        seen.add(new_text)
        done = {a.edits for a in applied}  # a set: comparing each finding with each fix was O(n^2)
        fixed.extend(f for f in findings if f.fix is not None and _fix_in(f.fix, done))
        current = current.with_text(new_text)
        suppressions = scan_suppressions(current)
        analysis = analyse(kind, current, options, companion)
        findings = to_findings(current, analysis, options, suppressions, suppressed)
    else:
        codes = sorted({f.code for f in findings if f.fix is not None})
        raise ConvergenceError(f"fixes did not settle after {MAX_PASSES} passes (rules {', '.join(codes)})",
                               path=src.path, line=1, column=1)
    refused.update(_disagreements(findings, options))
    remaining = []
    for finding in findings:
        why = refused.get(finding.fix.edits) if finding.fix is not None else None
        if why is None and finding.fix is not None and finding.fix.fallback is not None:
            why = refused.get(finding.fix.fallback.edits)
        remaining.append(finding.replace(refused=why) if why else finding)
    outcome.findings = remaining
    outcome.fixed = fixed
    if current.text != src.text:
        outcome.new_text = current.text
    return outcome


def _disagreements(findings: Sequence[Finding], options: Options) -> dict[tuple[object, ...], str]:
    """Why a fix that edits a shared node (and has no local fallback) was never applied: the
    other services its edit reaches do not want the identical change."""
    candidates = [f.fix for f in findings if f.fix is not None and options.applies(f.fix)]
    wanting = _wanting(candidates)
    out: dict[tuple[object, ...], str] = {}
    for fix in candidates:
        if fix.reach and fix.fallback is None:
            others = fix.reach - wanting[fix.edits]
            if others:
                out[fix.edits] = (f"the edit would also change {', '.join(sorted(others))}, which "
                                  f"{'does' if len(others) == 1 else 'do'} not want the identical change")
    return out


def _suppressed_by(base: SourceFile, options: Options) -> frozenset[tuple[str, str]] | None:
    """The (scope, code) pairs the base Compose file's pragmas suppress, which hold for its
    override file too: a ``# dockfix: ignore[DF402]`` on ``pids_limit: 64`` in compose.yaml is the
    team's decision whichever file the fix would go into. None when the base skips the file."""
    found = scan_suppressions(base)
    if found.skip_file:
        return None
    if not found.lines:
        return frozenset()
    analysis = analyse("compose", base, options)
    kept = {(f.scope, f.code) for f in to_findings(base, analysis, options, found)}
    return frozenset((rep.scope, rep.code) for rep in analysis.reports if (rep.scope, rep.code) not in kept)


def _fix_in(fix: Fix, done: set[tuple[Edit, ...]]) -> bool:
    return fix.edits in done or (fix.fallback is not None and fix.fallback.edits in done)


def _apply_checked(kind: str, src: SourceFile, before: object, chosen: list[Fix],
                   refused: dict[tuple[object, ...], str]) -> tuple[str, list[Fix]]:
    """Apply ``chosen`` together if the oracle agrees; else find the failures by halving.

    Each check re-parses the whole file, so trying every fix alone after a failed batch was
    O(n) parses of an O(n) text: quadratic once one fix of thousands fails. Halving the failing
    group finds k failures in O(k log n) checks, and at most :data:`MAX_CHECKS` are made per pass
    (the fixes not reached are refused as not tried, and reported).
    """
    edits = [e for fix in chosen for e in fix.edits]
    new_text = apply_edits(src.text, edits)
    why = verify(kind, src, before, new_text, chosen)
    if not why:
        return new_text, chosen
    groups: list[list[Fix]] = []  # groups that passed, in order
    checks = 1
    pending: list[tuple[list[Fix], str]] = [(chosen, why)]  # failing groups, first at the end
    while pending:
        group, reason = pending.pop()
        if len(group) == 1:
            refused[group[0].edits] = reason
            continue
        half = len(group) // 2
        for part in (group[half:], group[:half]):
            if checks >= MAX_CHECKS:
                for fix in part:
                    refused[fix.edits] = f"not tried: the oracle refused other fixes in this file {MAX_CHECKS} times"
                continue
            checks += 1
            part_reason = verify(kind, src, before, apply_edits(src.text, [e for fix in part for e in fix.edits]),
                                 part)
            if part_reason:
                pending.append((part, part_reason))
            else:
                groups.append(part)
    good = [fix for group in groups for fix in group]
    if not good:
        return src.text, []
    # the groups in text order of their first fix, as chosen
    position = {id(fix): n for n, fix in enumerate(chosen)}
    good.sort(key=lambda fix: position[id(fix)])
    together = apply_edits(src.text, [e for fix in good for e in fix.edits])
    if len(groups) > 1 and verify(kind, src, before, together, good):
        first = min(groups, key=lambda group: position[id(group[0])])
        return apply_edits(src.text, [e for fix in first for e in fix.edits]), first
    return together, good


# -- one fix at a time ----------------------------------------------------------------------------


class OneByOne:
    """The findings of one text, each fix to be applied alone (an editor's quick fix), never in
    the fix loop: analysed once; a fix is checked by the same oracle as :func:`process`'s."""

    __slots__ = ("kind", "src", "analysis", "findings", "chosen")

    def __init__(self, kind: str, src: SourceFile, options: Options) -> None:
        self.kind = kind
        self.src = src
        self.analysis = analyse(kind, src, options)
        self.findings = to_findings(src, self.analysis, options, scan_suppressions(src))
        # the fixes of shared nodes that every service reached agrees on (else their fallbacks),
        # unsafe ones too: a quick fix is the user's choice, one at a time
        self.chosen = resolve_shared(self.findings, options.replace(unsafe_fixes=True))

    def fixable(self) -> list[Finding]:
        return [f for f in self.findings if f.fixable]

    def attempt(self, finding: Finding) -> tuple[str | None, str]:
        """The new text (BOM set aside) with ``finding``'s fix alone, or None and why not."""
        assert finding.fix is not None
        fix = _chosen_for(finding.fix, self.chosen)
        if fix is None:
            return None, "the edit would also change other services that do not want it"
        new = apply_edits(self.src.text, fix.edits)
        why = verify(self.kind, self.src, self.analysis.make_model(), new, [fix])
        if why:
            return None, f"fix refused: {why}"
        return new, ""


def _chosen_for(fix: Fix, chosen: list[Fix]) -> Fix | None:
    """The fix (``fix`` itself, or its local fallback) that ``resolve_shared`` chose for it."""
    for candidate in chosen:
        if candidate.edits == fix.edits or (fix.fallback is not None and candidate.edits == fix.fallback.edits):
            return candidate
    return None
