"""``dockfix server``: a language server over stdio (pygls 2.x).

What an editor gets:

- diagnostics (with rule codes) when a document is opened, changed or saved;
- a quick fix for each fixable diagnostic, checked by the same oracle as ``dockfix apply``
  (a fix the oracle refuses is offered disabled, with the reason);
- ``source.fixAll.dockfix``, and ``textDocument/formatting``: both turn the buffer into exactly
  what ``dockfix apply - --stdin-filename PATH`` prints for it.

The file kind comes from :func:`rewriter.discovery.kind_of`, so every kind that the CLI knows
works here without change. Options come from the closest config file, as for the CLI; the
client may override the profile (``initializationOptions`` or ``workspace/didChangeConfiguration``
with ``{"dockfix": {"profile": "dev"}}``).

Positions: dockfix works with ``str`` offsets; LSP positions count code units of the negotiated
encoding (UTF-16 unless the client offers another) on lines ended by ``\\n``, ``\\r\\n`` or
``\\r``. The conversion is done here, from the document text, not by pygls (whose line
splitting also breaks on form feeds and U+2028). Documents are synchronised in full, so the text
dockfix sees is exactly the client's buffer.
"""

from __future__ import annotations

import argparse
import bisect
import enum
import logging
import os
import re
from dataclasses import dataclass
from collections.abc import Sequence

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from rewriter import __version__
from rewriter.discovery import kind_of
from rewriter.edits import Applicability, Fix, apply_edits
from rewriter.engine import (
    Finding,
    Options,
    analyse,
    process,
    resolve_shared,
    scan_suppressions,
    to_findings,
    verify,
)
from rewriter.errors import DockfixError
from rewriter.profiles import CONFIG_NAMES
from rewriter.source import SourceFile

log = logging.getLogger(__name__)

SOURCE = "dockfix"
FIX_ALL = "source.fixAll.dockfix"
_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
             "info": types.DiagnosticSeverity.Information}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


# -- positions --------------------------------------------------------------------------------------


def code_units(text: str, encoding: str) -> int:
    """The length of ``text`` in the code units of an LSP position encoding."""
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == "utf-32":
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class LineIndex:
    """Offsets in a text <-> LSP positions (lines ended by \\n, \\r\\n or \\r)."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def position(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return types.Position(line=line, character=code_units(self.text[self.starts[line]:offset], self.encoding))

    def offset(self, position: types.Position) -> int:
        if position.line >= len(self.starts):
            return len(self.text)
        start = self.starts[position.line]
        end = self.starts[position.line + 1] if position.line + 1 < len(self.starts) else len(self.text)
        line = self.text[start:end]
        units = 0
        for i, ch in enumerate(line):
            if units >= position.character or ch in "\r\n":
                return start + i
            units += code_units(ch, self.encoding)
        return end

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))


def apply_text_edits(text: str, edits: Sequence[types.TextEdit], encoding: str = "utf-16") -> str:
    """Apply LSP text edits the way a client does (used by tests and by nothing else)."""
    index = LineIndex(text, encoding)
    spans = sorted(((index.offset(e.range.start), index.offset(e.range.end), e.new_text) for e in edits),
                   key=lambda t: (t[0], t[1]))
    out, pos = [], 0
    for start, end, new in spans:
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def replacement_edit(old: str, new: str, encoding: str = "utf-16") -> list[types.TextEdit]:
    """One edit turning ``old`` into ``new``: the changed lines only (so the cursor stays put)."""
    if old == new:
        return []
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    prefix = old.rfind("\n", 0, prefix) + 1  # back to a line start
    suffix = 0
    limit = min(len(old), len(new)) - prefix
    while suffix < limit and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    # forward to a line start as well, so neither end splits a line, a CRLF or a surrogate pair
    tail_start = len(old) - suffix
    if tail_start > prefix and tail_start < len(old) and old[tail_start - 1] != "\n":
        nl = old.find("\n", tail_start)
        tail_start = len(old) if nl == -1 else nl + 1
    suffix = len(old) - tail_start
    index = LineIndex(old, encoding)
    return [types.TextEdit(range=index.range(prefix, len(old) - suffix),
                           new_text=new[prefix:len(new) - suffix])]


# -- what dockfix says about one document ------------------------------------------------------------


@dataclass
class Settings:
    profile: str | None = None
    unsafe_fixes: bool | None = None

    def update(self, raw: object) -> None:
        if isinstance(raw, dict) and isinstance(raw.get("dockfix"), dict):
            raw = raw["dockfix"]
        if not isinstance(raw, dict):
            return
        profile = raw.get("profile")
        if profile is None or isinstance(profile, str):
            self.profile = profile or None
        unsafe = raw.get("unsafeFixes", raw.get("unsafe-fixes"))
        if unsafe is None or isinstance(unsafe, bool):
            self.unsafe_fixes = unsafe


def options_for(path: str, settings: Settings) -> Options:
    """The options ``dockfix apply - --stdin-filename PATH`` would use (config read afresh)."""
    from rewriter.app import OptionsFor

    args = argparse.Namespace(profile=settings.profile, select=None, ignore=None,
                              unsafe_fixes=settings.unsafe_fixes, inline_ignores=True,
                              config=None, isolated=False)
    return OptionsFor(args)(path)


def fixed_text(text: str, path: str, settings: Settings) -> str:
    """Exactly what ``dockfix apply - --stdin-filename PATH`` prints for ``text``, for the files
    the server handles: those whose *name* says what they are (``compose.yaml``, ...). The CLI
    takes any ``.yaml`` named on its command line as Compose; an editor opens every YAML file,
    so the server does not, and leaves other files as they are."""
    kind = kind_of(path, explicit=False)
    if kind is None:
        return text
    try:
        src = SourceFile.from_bytes(path, text.encode("utf-8"))
        outcome = process(kind, src, options_for(path, settings), fix=True)
    except (DockfixError, UnicodeEncodeError, RecursionError):
        return text
    if outcome.new_text is None:
        return text
    return src.with_text(outcome.new_text).to_text()


@dataclass
class Checked:
    src: SourceFile
    findings: list[Finding]
    error: DockfixError | None = None


def check_text(text: str, path: str, settings: Settings) -> Checked | None:
    """Findings for a buffer (None when dockfix does not handle this kind of file)."""
    kind = kind_of(path, explicit=False)
    if kind is None:
        return None
    src = SourceFile.from_text(path, text)
    try:
        outcome = process(kind, src, options_for(path, settings), fix=False)
    except DockfixError as err:
        if err.message.startswith("unsupported file kind"):
            return None
        return Checked(src, [], err)
    except RecursionError:
        return Checked(src, [], DockfixError("input nests too deeply", path=path, line=1, column=1))
    return Checked(src, outcome.findings)


def _shift(src: SourceFile) -> int:
    return 1 if src.bom else 0  # offsets in SourceFile.text exclude the BOM the buffer holds


def finding_range(src: SourceFile, f: Finding, index: LineIndex) -> types.Range:
    start = src.offset(f.line, f.column) + _shift(src)
    end = src.offset(f.end_line, f.end_column) + _shift(src)
    return index.range(start, max(start, end))


def diagnostics(checked: Checked, index: LineIndex) -> list[types.Diagnostic]:
    out: list[types.Diagnostic] = []
    if checked.error is not None:
        err = checked.error
        start = checked.src.offset(err.line or 1, err.column or 1) + _shift(checked.src)
        out.append(types.Diagnostic(range=index.range(start, start), message=err.message,
                                    severity=types.DiagnosticSeverity.Error, source=SOURCE))
    for f in checked.findings:
        out.append(types.Diagnostic(
            range=finding_range(checked.src, f, index), message=f.message, code=f.code, source=SOURCE,
            severity=_SEVERITY[f.severity.value],
            data={"fixable": f.fixable},
        ))
    return out


def _same(d: types.Diagnostic, code: str, rng: types.Range) -> bool:
    return d.source == SOURCE and str(d.code) == code and d.range == rng


def quick_fixes(text: str, path: str, settings: Settings, uri: str, wanted: list[types.Diagnostic],
                encoding: str) -> list[types.CodeAction]:
    """One quick fix per fixable diagnostic in ``wanted`` (unsafe ones too, marked as such)."""
    kind = kind_of(path, explicit=False)
    if kind is None or not wanted:
        return []
    src = SourceFile.from_text(path, text)
    options = options_for(path, settings)
    try:
        analysis = analyse(kind, src, options)
    except DockfixError:
        return []
    findings = to_findings(src, analysis, options, scan_suppressions(src))
    chosen = resolve_shared(findings, options.replace(unsafe_fixes=True))
    index = LineIndex(text, encoding)
    actions: list[types.CodeAction] = []
    for f in findings:
        if f.fix is None or not f.fixable:
            continue
        rng = finding_range(src, f, index)
        matching = [d for d in wanted if _same(d, f.code, rng)]
        if not matching:
            continue
        fix = _chosen_for(f.fix, chosen)
        unsafe = f.fix.applicability < Applicability.SAFE
        title = f"dockfix: {f.fix.message} ({f.code})" + (" [unsafe]" if unsafe else "")
        action = types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, diagnostics=matching,
                                  is_preferred=not unsafe)
        if fix is None:
            action.disabled = types.CodeActionDisabled(
                reason="the edit would also change other services that do not want it")
        else:
            new = apply_edits(src.text, fix.edits)
            why = verify(kind, src, analysis.make_model(), new, [fix])
            if why:
                action.disabled = types.CodeActionDisabled(reason=f"fix refused: {why}")
            else:
                new_full = src.with_text(new).to_text()
                action.edit = types.WorkspaceEdit(changes={uri: replacement_edit(text, new_full, encoding)})
        actions.append(action)
    return actions


def _chosen_for(fix: Fix, chosen: list[Fix]) -> Fix | None:
    for candidate in chosen:
        if candidate.edits == fix.edits or (fix.fallback is not None and candidate.edits == fix.fallback.edits):
            return candidate
    return None


# -- the server ---------------------------------------------------------------------------------------


class DockfixServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dockfix", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.settings = Settings()

    @property
    def encoding(self) -> str:
        enc = self.workspace.position_encoding
        return str(enc.value if isinstance(enc, types.PositionEncodingKind) else enc or "utf-16")

    def path_of(self, uri: str) -> str | None:
        return to_fs_path(uri)

    def publish(self, uri: str) -> None:
        doc = self.workspace.get_text_document(uri)
        path = self.path_of(uri)
        found: list[types.Diagnostic] = []
        if path is not None:
            checked = check_text(doc.source, path, self.settings)
            if checked is not None:
                found = diagnostics(checked, LineIndex(doc.source, self.encoding))
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=found))

    def publish_all(self) -> None:
        for uri in list(self.workspace.text_documents):
            self.publish(uri)


def build_server() -> DockfixServer:
    server = DockfixServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: DockfixServer, params: types.InitializeParams) -> None:
        ls.settings.update(params.initialization_options)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DockfixServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DockfixServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DockfixServer, params: types.DidSaveTextDocumentParams) -> None:
        path = ls.path_of(params.text_document.uri) or ""
        if os.path.basename(path) in CONFIG_NAMES:
            ls.publish_all()  # a config file changed: every document may see other options
        else:
            ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DockfixServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: DockfixServer, params: types.DidChangeConfigurationParams) -> None:
        ls.settings.update(params.settings)
        ls.publish_all()

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: DockfixServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
        uri = params.text_document.uri
        doc = ls.workspace.get_text_document(uri)
        path = ls.path_of(uri)
        if path is None:
            return []
        return replacement_edit(doc.source, fixed_text(doc.source, path, ls.settings), ls.encoding)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll, FIX_ALL]))
    def code_action(ls: DockfixServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        doc = ls.workspace.get_text_document(uri)
        path = ls.path_of(uri)
        if path is None:
            return []
        only = params.context.only
        actions: list[types.CodeAction] = []
        if _wanted(types.CodeActionKind.QuickFix, only):
            ours = [d for d in params.context.diagnostics if d.source == SOURCE]
            actions.extend(quick_fixes(doc.source, path, ls.settings, uri, ours, ls.encoding))
        if _wanted(FIX_ALL, only):
            edits = replacement_edit(doc.source, fixed_text(doc.source, path, ls.settings), ls.encoding)
            if edits:
                actions.append(types.CodeAction(title="dockfix: fix all", kind=FIX_ALL,
                                                edit=types.WorkspaceEdit(changes={uri: edits})))
        return actions

    return server


def _kind_text(kind: object) -> str:
    return str(kind.value) if isinstance(kind, enum.Enum) else str(kind)


def _wanted(kind: object, only: Sequence[object] | None) -> bool:
    """Whether ``only`` (the client's filter) admits ``kind``: kinds are dotted hierarchies."""
    if not only:
        return True
    text = _kind_text(kind)
    return any(text == _kind_text(o) or text.startswith(_kind_text(o) + ".") for o in only)


def serve() -> int:
    build_server().start_io()
    return 0
