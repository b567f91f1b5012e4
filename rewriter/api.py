"""The one API every front end calls: the command line (:mod:`rewriter.app`), the language
server (:mod:`rewriter.lsp`) and the pull-request bot (:mod:`rewriter.bot`).

What a front end asks for is a :class:`Settings` record (the profile, rule selection, fix safety,
which config), never an ``argparse.Namespace``. With it:

- :func:`check_text`: the findings for a text (an editor's buffer, standard input);
- :func:`fix_text`: the text with every fix that applies (safe ones, or unsafe ones too), what
  was fixed, what remains and which fixes the oracle refused;
- :func:`fix_one` (or :class:`Document` for several at once): one finding's fix alone, found by
  its id (``CODE@start-end``, offsets in the text), checked by the same oracle;
- :func:`fix_files` and :func:`write`: many files (discovered, each with the options of its
  closest config), fixed in memory, then written as a separate step.

None of these prints, writes (but :func:`write`) or picks an exit code: each front end renders
the results itself (:mod:`rewriter.output` for the command line), and an error comes back as data
(:class:`rewriter.errors.DockfixError`: path, line, column, message, kind).

This module is on the path of ``dockfix apply -`` (format-on-save): it imports nothing the
engine does not already need, and no ``typing`` or ``dataclasses`` (records are
:class:`rewriter.record.Record`).
"""

from __future__ import annotations

import os

from rewriter.discovery import MANIFEST_HEAD, Target, discover, kind_of, looks_like_manifest
from rewriter.edits import Applicability as Applicability  # re-exported: a fix's safety, for front ends
from rewriter.engine import FileOutcome as FileOutcome  # re-exported: what one file's run gives
from rewriter.engine import Finding as Finding
from rewriter.engine import OneByOne, Options, process
from rewriter.errors import ConfigError, DockfixError, ParseError
from rewriter.profiles import CONFIG_NAMES as CONFIG_NAMES  # re-exported: the server watches them
from rewriter.profiles import Config, ConfigFinder, Profile, check_profile_name
from rewriter.record import Record
from rewriter.runner import Done as Done  # re-exported: the per-file results of a run
from rewriter.runner import Failed as Failed
from rewriter.runner import Job, job_root, run_all, write_atomic
from rewriter.runner import Result as Result
from rewriter.runner import Skipped as Skipped
from rewriter.source import SourceFile

__all__ = [
    "Applicability", "CONFIG_NAMES", "Candidate", "Checked", "Document", "Done", "Failed", "FileOutcome",
    "Finding", "FixedText", "OneFix", "OptionsFor", "Result", "Settings", "Skipped", "check_text", "file_kinds",
    "finding_id", "finding_offsets", "fix_files", "fix_one", "fix_text", "kind_by_content", "kind_of", "write",
]


class Settings(Record):
    """What a front end asks for, whatever it read it from (command-line flags, the language
    client's settings, the bot's flags). ``None`` leaves a value to the closest config file.

    ``write_to="override"``: the file is fixed as the profile's own override file (it gets the
    profile asked for whatever its role). ``cache_config``: parsed config files are cached on disk
    between runs (the command line only: the server and the bot read them afresh).
    """

    __slots__ = ("profile", "select", "ignore", "unsafe_fixes", "inline_ignores", "config", "isolated",
                 "write_to", "cache_config")

    def __init__(self, profile: str | None = None, select: tuple[str, ...] | None = None,
                 ignore: tuple[str, ...] | None = None, unsafe_fixes: bool | None = None,
                 inline_ignores: bool = True, config: str | None = None, isolated: bool = False,
                 write_to: str = "file", cache_config: bool = False) -> None:
        self.profile = profile
        self.select = select
        self.ignore = ignore
        self.unsafe_fixes = unsafe_fixes
        self.inline_ignores = inline_ignores
        self.config = config
        self.isolated = isolated
        self.write_to = write_to
        self.cache_config = cache_config


class OptionsFor:
    """Options for each file from its closest config, with the front end's :class:`Settings` on
    top."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        from transforms import OPTIONS  # lazy: start-up

        self.finder = ConfigFinder(settings.config, settings.isolated, cache=settings.cache_config, options=OPTIONS)
        self._cache: dict[tuple[str, str], Options] = {}

    def __call__(self, path: str, kind: str | None = None) -> Options:
        """The options for the file at ``path``; a development, test or CI file gets the ``dev``
        profile whatever the run asks for (:mod:`rewriter.roles`)."""
        config = self.finder.for_path(path if path != "-" else os.path.join(os.getcwd(), "-"))
        role, why = self._role(path, kind, config)
        if self.settings.write_to == "override":
            # an override file is the profile's, named after it, and used only when asked for
            # (-f x.yaml -f x.prod.yaml): it gets the profile asked for, whatever the file's role
            role = "prod"
        key = (config.path, why if role == "dev" else "")
        cached = self._cache.get(key)
        if cached is None:
            cached = self._build(config, why if role == "dev" else "")
            self._cache[key] = cached
        return cached

    def skipped(self, path: str, kind: str | None = None) -> str:
        """Why the file is not checked at all ('' when it is): a ``none`` role in the config."""
        role, why = self._role(path, kind, self.finder.for_path(path if path != "-" else os.path.join(os.getcwd(), "-")))
        return f"role none ({why})" if role == "none" else ""

    @staticmethod
    def _role(path: str, kind: str | None, config: Config) -> tuple[str, str]:
        if path == "-":
            return "prod", ""
        from rewriter.roles import role_of  # lazy: start-up

        return role_of(path, kind if kind is not None else (kind_of(path) or ""), config.path, config.roles)

    def profile_name(self, path: str) -> str:
        """The profile asked for the file at ``path``: the settings', else ``DOCKFIX_PROFILE``,
        else the closest config's (before a file's role may make it ``dev``), checked to be a
        plain name (it names files and branches)."""
        return self._profile_name(self.finder.for_path(path if path != "-" else os.path.join(os.getcwd(), "-")))

    def _profile_name(self, config: Config) -> str:
        asked = self.settings.profile
        if asked:
            return check_profile_name(asked, "<command line>")
        environ = os.environ.get("DOCKFIX_PROFILE")
        if environ:
            return check_profile_name(environ, "<environment: DOCKFIX_PROFILE>")
        return config.profile  # checked when the config was read

    def _build(self, config: Config, dev_because: str = "") -> Options:
        name = self._profile_name(config)
        if dev_because and name != "dev":
            profile = config.resolve_profile("dev")
            return self._options(config, profile.replace(role=f"instead of {name}, for {dev_because}"))
        try:
            profile = config.resolve_profile(name)
        except ConfigError as err:
            if not err.path:
                err.path = config.path or "<command line>"
            raise
        return self._options(config, profile)

    def _options(self, config: Config, profile: Profile) -> Options:
        settings = self.settings
        from transforms import RULES  # lazy: start-up

        for code in (settings.select or ()) + (settings.ignore or ()):
            if not any(r.startswith(code) for r in RULES):
                raise ConfigError(f"unknown rule selector '{code}' (see 'dockfix rule')", path="<command line>")
        return Options(
            profile=profile,
            select=settings.select if settings.select is not None else config.select,
            ignore=(settings.ignore or ()) + config.ignore,
            unsafe_fixes=settings.unsafe_fixes if settings.unsafe_fixes is not None else config.unsafe_fixes,
            inline_ignores=settings.inline_ignores,
            services=config.services,
            compose_files=config.compose_files,
        )


def file_kinds() -> tuple[str, ...]:
    """The kinds of file dockfix reads (``--file-type``, the server's ``fileTypes``)."""
    from rewriter.surfaces import KINDS  # lazy: start-up

    return tuple(KINDS)


def kind_by_content(name: str, head: str | bytes) -> str | None:
    """``kubernetes`` for a YAML file that its name does not place (not a Compose file name) when
    its first :data:`rewriter.discovery.MANIFEST_HEAD` characters have top-level ``apiVersion``
    and ``kind``, as in a directory walk; else None (``values.yaml`` is left alone)."""
    if not name.endswith((".yaml", ".yml")):
        return None
    text = head[:MANIFEST_HEAD].decode("utf-8", "replace") if isinstance(head, bytes) else head[:MANIFEST_HEAD]
    return "kubernetes" if looks_like_manifest(text) else None


# -- one text ---------------------------------------------------------------------------------------


class Checked(Record):
    """What dockfix says about one text: its findings, or the error that stopped the check
    (with no findings). ``src`` is the text as dockfix read it (a BOM set aside)."""

    __slots__ = ("src", "findings", "error")

    def __init__(self, src: SourceFile, findings: list[Finding], error: DockfixError | None = None) -> None:
        self.src = src
        self.findings = findings
        self.error = error


def check_text(text: str, path: str, kind: str | None, settings: Settings) -> Checked | None:
    """The findings for ``text``, checked as the file ``path`` of ``kind`` with the options of
    its closest config. None when dockfix does not handle the kind (``kind`` None, or unknown)."""
    if kind is None:
        return None
    src = SourceFile.from_text(path, text)
    try:
        outcome = process(kind, src, OptionsFor(settings)(path), fix=False)
    except DockfixError as err:
        if err.message.startswith("unsupported file kind"):
            return None
        return Checked(src, [], err)
    except RecursionError:
        return Checked(src, [], _too_deep(path))
    return Checked(src, outcome.findings)


class FixedText(Record):
    """The result of :func:`fix_text`: the whole new text (BOM included; the same text when
    nothing changed or on an error), the findings fixed, those that remain, and the error that
    left the text alone (None when there was none)."""

    __slots__ = ("text", "fixed", "remaining", "error")

    def __init__(self, text: str, fixed: list[Finding], remaining: list[Finding],
                 error: DockfixError | None = None) -> None:
        self.text = text
        self.fixed = fixed
        self.remaining = remaining
        self.error = error

    @property
    def refused(self) -> list[Finding]:
        """The remaining findings whose fix the oracle refused (each says why)."""
        return [f for f in self.remaining if f.refused]


def fix_text(text: str, path: str, kind: str | None, settings: Settings,
             unsafe: bool | None = None) -> FixedText:
    """``text`` with every fix that applies: what ``dockfix apply - --stdin-filename PATH
    --file-type KIND`` prints for it. ``unsafe`` (when not None) overrides the settings' choice
    of unsafe fixes. ``kind`` None: the text unchanged, with nothing found."""
    if kind is None:
        return FixedText(text, [], [])
    if unsafe is not None:
        settings = settings.replace(unsafe_fixes=unsafe)
    try:
        src = SourceFile.from_bytes(path, text.encode("utf-8"))
        outcome = process(kind, src, OptionsFor(settings)(path), fix=True)
    except DockfixError as err:
        return FixedText(text, [], [], err)
    except UnicodeEncodeError as err:
        return FixedText(text, [], [], ParseError(f"not valid UTF-8 ({err.reason})", path=path, line=1, column=1))
    except RecursionError:
        return FixedText(text, [], [], _too_deep(path))
    new = src.with_text(outcome.new_text).to_text() if outcome.new_text is not None else text
    return FixedText(new, outcome.fixed, outcome.findings)


def _too_deep(path: str) -> ParseError:
    return ParseError("input nests too deeply", path=path, line=1, column=1)


def finding_offsets(src: SourceFile, f: Finding) -> tuple[int, int]:
    """The finding's span as offsets in the whole text (a BOM included, as an editor holds it)."""
    shift = 1 if src.bom else 0
    start = src.offset(f.line, f.column) + shift
    end = src.offset(f.end_line, f.end_column) + shift
    return start, max(start, end)


def finding_id(code: str, span: tuple[int, int]) -> str:
    """A finding's id: its rule and its span in the text (``DF101@12-30``), the same whatever
    unit a front end counts columns in."""
    return f"{code}@{span[0]}-{span[1]}"


class Candidate(Record):
    """A fixable finding of a :class:`Document` (unsafe fixes too), with its offsets and id."""

    __slots__ = ("finding", "start", "end", "id")

    def __init__(self, finding: Finding, start: int, end: int, id: str) -> None:
        self.finding = finding
        self.start = start
        self.end = end
        self.id = id


class OneFix(Record):
    """One finding's fix applied alone: the whole new text, or None and why it is refused."""

    __slots__ = ("text", "refused")

    def __init__(self, text: str | None, refused: str = "") -> None:
        self.text = text
        self.refused = refused


class Document:
    """One text whose findings are fixed one at a time (an editor's quick fixes): analysed once,
    each fix then applied alone and checked by the oracle, as ``dockfix apply`` checks fixes.

    A fix that edits a node other services share is applied only when each of them wants the
    identical edit (else its local fallback, else it is refused); an unsafe fix is offered too.
    A configuration error is raised (the front end reports it); a text dockfix cannot read has
    no candidates."""

    __slots__ = ("text", "path", "kind", "settings", "_fixes", "_analysed")

    def __init__(self, text: str, path: str, kind: str | None, settings: Settings) -> None:
        self.text = text
        self.path = path
        self.kind = kind
        self.settings = settings
        self._fixes: OneByOne | None = None
        self._analysed = False

    def _analyse(self) -> OneByOne | None:
        if not self._analysed:
            self._analysed = True
            if self.kind is not None:
                src = SourceFile.from_text(self.path, self.text)
                options = OptionsFor(self.settings)(self.path)
                try:
                    self._fixes = OneByOne(self.kind, src, options)
                except (DockfixError, RecursionError):
                    self._fixes = None
        return self._fixes

    def candidates(self) -> list[Candidate]:
        """The fixable findings, in text order."""
        fixes = self._analyse()
        if fixes is None:
            return []
        out = []
        for f in fixes.fixable():
            start, end = finding_offsets(fixes.src, f)
            out.append(Candidate(f, start, end, finding_id(f.code, (start, end))))
        return out

    def fix_one(self, candidate: Candidate) -> OneFix:
        """The text with ``candidate``'s fix alone, or why it is refused."""
        fixes = self._analyse()
        assert fixes is not None, "a candidate comes from this document's candidates()"
        new, why = fixes.attempt(candidate.finding)
        if new is None:
            return OneFix(None, why)
        return OneFix(fixes.src.with_text(new).to_text())


def fix_one(text: str, path: str, kind: str | None, settings: Settings, fid: str) -> OneFix:
    """The text with the fix of the finding whose id is ``fid`` (:func:`finding_id`) alone."""
    doc = Document(text, path, kind, settings)
    for candidate in doc.candidates():
        if candidate.id == fid:
            return doc.fix_one(candidate)
    return OneFix(None, f"no fixable finding {fid} in this text")


# -- many files ---------------------------------------------------------------------------------------


def with_declared(found: list[Target], roots: list[str], options_for: OptionsFor) -> list[Target]:
    """``found`` (a walk's files) and the files the config's ``compose-files`` chains name beside
    a walked Compose file, whatever their names (``-f compose.yaml -f deploy/overlay.yaml``): the
    user named them as part of the project, and a walk that kept only Compose names left an overlay
    of the chain unchecked. Only regular files inside a walked directory, not links."""
    walked = [os.path.abspath(r) for r in roots if os.path.isdir(r)]
    if not walked:
        return found
    seen = {os.path.abspath(t.path) for t in found}
    out = list(found)
    for target in found:
        if target.kind != "compose":
            continue
        for chain in options_for(target.path, target.kind).compose_files:
            for path in chain:
                if path in seen or os.path.islink(path) or not os.path.isfile(path):
                    continue
                if any(os.path.commonpath([path, root]) == root for root in walked):
                    seen.add(path)
                    out.append(Target(os.path.relpath(path) if not os.path.isabs(target.path) else path, "compose"))
    return out


def fix_files(targets: list[str], settings: Settings) -> list[Result]:
    """Every file dockfix reads under ``targets`` (files or directories, ``.gitignore``
    respected), each fixed in memory with the options of its closest config; nothing is written
    (:func:`write` does that). A file whose role is ``none`` is left out. One process: the bot
    runs inside a temporary worktree, one repository at a time."""
    options_for = OptionsFor(settings)
    jobs = [Job(t.path, t.kind, options_for(t.path, t.kind), True)
            for t in with_declared(list(discover(targets)), targets, options_for)
            if not options_for.skipped(t.path, t.kind)]
    return run_all(jobs, 1)


def write(result: Done) -> bool:
    """Write a fixed file in place (atomically, refused if it changed on disk meanwhile; see
    :func:`rewriter.fileio.write_atomic`): True when it was written, False when nothing changed.
    Raises :class:`rewriter.errors.WriteError`."""
    outcome = result.outcome
    if outcome.new_text is None:
        return False
    write_atomic(result.job.path, result.data, outcome.src.with_text(outcome.new_text).to_bytes(), job_root(result.job))
    result.written = True
    return True
