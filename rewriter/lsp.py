"""``dockfix server``: a language server over stdio (pygls 2.x).

What an editor gets:

- diagnostics (with rule codes) when a document is opened, changed or saved;
- a quick fix for each fixable diagnostic, checked by the same oracle as ``dockfix apply``
  (a fix the oracle refuses is offered disabled, with the reason);
- ``source.fixAll.dockfix``, and ``textDocument/formatting``: both turn the buffer into exactly
  what ``dockfix apply - --stdin-filename PATH`` prints for it.

Which documents: the file's name first (:func:`rewriter.discovery.kind_of`, as for the CLI), then
the client's ``languageId`` (``dockercompose``, VS Code's id for Compose files, and
``dockerfile``), and before both the ``fileTypes`` globs from the settings (the server's
``--file-type``). Options come from the closest config file, as for the CLI; the client may
override some (``initializationOptions``, ``workspace/didChangeConfiguration`` or a
``workspace/configuration`` pull of the section ``dockfix``), see :class:`Settings`.

Big buffers: a 5 MB Compose file with 36,000 services takes about 30 s to check and gives
180,000 findings. So the server checks a document only after a pause in typing (``debounceMs``,
200 ms), only in its latest version (a change cancels the check of the one before), sends at most
``maxDiagnostics`` (1,000) diagnostics per file, the last saying how many were left out, and checks
buffers of 256 KiB or more in a forked child process: it can be killed when the buffer changes
or the request is cancelled (``$/cancelRequest``), other documents are served meanwhile from the
server's own worker thread, and the child's memory (650 MB for that file) goes back to the system
when it exits.

Positions: dockfix works with ``str`` offsets; LSP positions count code units of the negotiated
encoding (``general.positionEncodings``, LSP 3.17: the client's first choice among utf-8, utf-16
and utf-32; UTF-16 when it offers none) on lines ended by ``\\n``, ``\\r\\n`` or ``\\r``. The
conversion is done here, from the document text, not by pygls (whose line splitting also breaks
on form feeds and U+2028). Documents are synchronised in full, so the text dockfix sees is exactly
the client's buffer. A quick fix is found by the id the diagnostic carries in ``data``, else by
rule code and line: clients echo diagnostics back with other columns (Neovim 0.7 sends byte
columns whatever the encoding).
"""

from __future__ import annotations

import asyncio
import bisect
import enum
import fnmatch
import gc
import logging
import os
import pickle
import re
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from rewriter import __version__, api
from rewriter.api import CONFIG_NAMES, Checked, Document, finding_id, finding_offsets

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
    if prefix == len(old) and len(index.starts) > 1:
        # a pure append after the final line break would start on the line after the last one:
        # Neovim 0.11 then inserts the new lines plus an empty one (its buffer has no such line),
        # so the edit takes the last line along and ends at the end of the document instead
        prefix = index.starts[-2]
    return [types.TextEdit(range=index.range(prefix, len(old) - suffix),
                           new_text=new[prefix:len(new) - suffix])]


# -- settings and which documents ---------------------------------------------------------------------

DEFAULT_DEBOUNCE_MS = 200
"""Pause after a change before checking: long enough to take a burst of keystrokes as one change
(a key repeat is 30-50 ms), short enough not to be noticed (the check of a 50-line file takes
about 20 ms more)."""
DEFAULT_MAX_DIAGNOSTICS = 1000
"""At most this many diagnostics per file, the last one saying how many were left out: 180,000
diagnostics (64 MB of JSON) froze Neovim for minutes; nobody reads more than a screenful."""
ISOLATE_CHARS = 256 * 1024
"""Buffers at least this long are checked in a forked child process (Linux): a check runs at about
150 KB/s, so this is where one starts to take more than a second or two."""
LANGUAGE_KINDS = {"dockercompose": "compose", "yaml.docker-compose": "compose", "dockerfile": "dockerfile"}
"""``languageId`` values that say what a buffer is: VS Code's ids (``dockercompose`` from the
Docker extension, ``dockerfile``) and the Neovim filetypes it sends as ids."""


_KEYS = {"profile", "unsafeFixes", "unsafe-fixes", "fileTypes", "file-types", "debounceMs", "maxDiagnostics"}


@dataclass
class Settings:
    """What the client may set (``initializationOptions``, ``workspace/didChangeConfiguration``
    or ``workspace/configuration`` with section ``dockfix``). A settings object is the whole
    state: a key left out goes back to its default."""

    profile: str | None = None
    unsafe_fixes: bool | None = None
    file_types: tuple[tuple[str, tuple[str, ...]], ...] = ()
    debounce_ms: int = DEFAULT_DEBOUNCE_MS
    max_diagnostics: int = DEFAULT_MAX_DIAGNOSTICS
    problems: list[str] = field(default_factory=list)

    def update(self, raw: object) -> bool:
        """Take the settings from ``raw`` (``{"dockfix": {...}}`` or the section itself); False
        when ``raw`` holds none."""
        if isinstance(raw, dict) and isinstance(raw.get("dockfix"), dict):
            raw = raw["dockfix"]
        elif isinstance(raw, dict) and not raw.keys() & _KEYS:
            return False  # other servers' sections, or Neovim's empty settings after start-up
        if not isinstance(raw, dict):
            return False
        self.problems = []
        profile = raw.get("profile")
        self.profile = profile or None if isinstance(profile, str) else None
        if profile is not None and not isinstance(profile, str):
            self._bad("profile")
        unsafe = raw.get("unsafeFixes", raw.get("unsafe-fixes"))
        self.unsafe_fixes = unsafe if isinstance(unsafe, bool) else None
        if unsafe is not None and not isinstance(unsafe, bool):
            self._bad("unsafeFixes")
        self.file_types = self._file_types(raw.get("fileTypes", raw.get("file-types")))
        self.debounce_ms = self._int(raw, "debounceMs", DEFAULT_DEBOUNCE_MS, 0)
        self.max_diagnostics = self._int(raw, "maxDiagnostics", DEFAULT_MAX_DIAGNOSTICS, 2)
        return True

    def _bad(self, key: str) -> None:
        self.problems.append(f"dockfix: ignoring setting '{key}': wrong type")

    def _int(self, raw: dict[str, Any], key: str, default: int, least: int) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            self._bad(key)
            return default
        return value

    def _file_types(self, raw: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self._bad("fileTypes")
            return ()
        out = []
        kinds = api.file_kinds()
        for kind, patterns in raw.items():
            if kind not in kinds or not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                self.problems.append(f"dockfix: ignoring fileTypes entry '{kind}': kinds are {', '.join(kinds)}, "
                                     "each with a list of globs")
                continue
            out.append((kind, tuple(patterns)))
        return tuple(out)


def kind_for(path: str, language_id: str | None, settings: Settings, text: str = "") -> str | None:
    """What a buffer is: the ``fileTypes`` globs (a glob with a ``/`` matches the end of the path,
    else the file name), then the file name as for the CLI, then the ``languageId``, then for a
    YAML buffer its content (a Kubernetes manifest)."""
    slashed = path.replace(os.sep, "/")
    name = slashed.rsplit("/", 1)[-1]
    for kind, patterns in settings.file_types:
        for pattern in patterns:
            if "/" in pattern:
                if fnmatch.fnmatchcase(slashed, pattern) or fnmatch.fnmatchcase(slashed, "*/" + pattern.lstrip("/")):
                    return kind
            elif fnmatch.fnmatchcase(name, pattern):
                return kind
    return (api.kind_of(path, explicit=False) or LANGUAGE_KINDS.get(language_id or "")
            or api.kind_by_content(name, text))


# -- what dockfix says about one document ------------------------------------------------------------


def request(settings: Settings) -> api.Settings:
    """What the client's settings ask of dockfix: the options ``dockfix apply - --stdin-filename
    PATH`` would use (the closest config, read afresh), with the client's profile and fix safety
    on top."""
    return api.Settings(profile=settings.profile, unsafe_fixes=settings.unsafe_fixes)


def fixed_text(text: str, path: str, kind: str | None, settings: Settings) -> str:
    """Exactly what ``dockfix apply - --stdin-filename PATH --file-type KIND`` prints for
    ``text``. ``kind`` None (a YAML file that is not a Compose file by name, language or glob):
    the text unchanged."""
    return api.fix_text(text, path, kind, request(settings)).text


def formatting_edits(text: str, path: str, kind: str | None, settings: Settings,
                     encoding: str) -> list[types.TextEdit]:
    return replacement_edit(text, fixed_text(text, path, kind, settings), encoding)


def check_text(text: str, path: str, kind: str | None, settings: Settings) -> Checked | None:
    """Findings for a buffer (None when dockfix does not handle this kind of file)."""
    return api.check_text(text, path, kind, request(settings))


_RANK = {"error": 0, "warning": 1, "info": 2}


def diagnostics(checked: Checked, index: LineIndex, cap: int = DEFAULT_MAX_DIAGNOSTICS) -> list[types.Diagnostic]:
    """The diagnostics for a checked buffer, at most ``cap``: beyond it, errors and warnings are
    kept before notes, the first ones in the file before later ones, and a last diagnostic says how
    many were left out (only the kept findings are converted: 180,000 would take seconds)."""
    out: list[types.Diagnostic] = []
    if checked.error is not None:
        err = checked.error
        start = checked.src.offset(err.line or 1, err.column or 1) + (1 if checked.src.bom else 0)
        out.append(types.Diagnostic(range=index.range(start, start), message=err.message,
                                    severity=types.DiagnosticSeverity.Error, source=SOURCE))
    findings = checked.findings
    left_out = 0
    if len(out) + len(findings) > cap:
        keep = cap - 1 - len(out)
        order = sorted(range(len(findings)), key=lambda n: (_RANK[findings[n].severity.value], n))[:keep]
        left_out = len(findings) - keep
        findings = [findings[n] for n in sorted(order)]
    for f in findings:
        span = finding_offsets(checked.src, f)
        out.append(types.Diagnostic(
            range=index.range(*span), message=f.message, code=f.code, source=SOURCE,
            severity=_SEVERITY[f.severity.value],
            data={"fixable": f.fixable, "id": finding_id(f.code, span)},
        ))
    if left_out:
        out.append(types.Diagnostic(
            range=index.range(0, 0), severity=types.DiagnosticSeverity.Information, source=SOURCE,
            message=f"{left_out} more dockfix finding{'s' if left_out != 1 else ''} not shown (at most {cap} "
                    "diagnostics per file); run 'dockfix check' on the file for all of them",
            data={"leftOut": left_out}))
    return out


def document_diagnostics(text: str, path: str, kind: str | None, settings: Settings,
                         encoding: str) -> list[types.Diagnostic]:
    checked = check_text(text, path, kind, settings)
    if checked is None:
        return []
    return diagnostics(checked, LineIndex(text, encoding), settings.max_diagnostics)


def _matches(d: types.Diagnostic, code: str, fid: str, line: int, ids: set[str]) -> bool:
    """Whether the client's diagnostic ``d`` is this finding's: by the id it carries, else (no
    id, or one from an older version of the buffer) by rule code and start line; clients echo
    ranges in their own columns (Neovim 0.7: bytes), so the range itself is not compared."""
    if d.source != SOURCE or str(d.code) != code:
        return False
    data = d.data.get("id") if isinstance(d.data, dict) else None
    if isinstance(data, str) and data in ids:
        return data == fid
    return d.range.start.line == line


def quick_fixes(text: str, path: str, kind: str | None, settings: Settings, uri: str,
                wanted: list[types.Diagnostic], encoding: str) -> list[types.CodeAction]:
    """One quick fix per fixable diagnostic in ``wanted`` (unsafe ones too, marked as such)."""
    if kind is None or not wanted:
        return []
    doc = Document(text, path, kind, request(settings))
    candidates = doc.candidates()
    index = LineIndex(text, encoding)
    ids = {c.id for c in candidates}
    actions: list[types.CodeAction] = []
    for c in candidates:
        f = c.finding
        assert f.fix is not None
        line = index.position(c.start).line
        matching = [d for d in wanted if _matches(d, f.code, c.id, line, ids)]
        if not matching:
            continue
        unsafe = f.fix.applicability < api.Applicability.SAFE
        title = f"dockfix: {f.fix.message} ({f.code})" + (" [unsafe]" if unsafe else "")
        action = types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, diagnostics=matching,
                                  is_preferred=not unsafe)
        one = doc.fix_one(c)
        if one.text is None:
            action.disabled = types.CodeActionDisabled(reason=one.refused)
        else:
            action.edit = types.WorkspaceEdit(changes={uri: replacement_edit(text, one.text, encoding)})
        actions.append(action)
    return actions


def code_actions(text: str, path: str, kind: str | None, settings: Settings, uri: str,
                 params: types.CodeActionParams, encoding: str) -> list[types.CodeAction]:
    only = params.context.only
    actions: list[types.CodeAction] = []
    if _wanted(types.CodeActionKind.QuickFix, only):
        ours = [d for d in params.context.diagnostics if d.source == SOURCE]
        actions.extend(quick_fixes(text, path, kind, settings, uri, ours, encoding))
    if _wanted(FIX_ALL, only):
        edits = formatting_edits(text, path, kind, settings, encoding)
        if edits:
            actions.append(types.CodeAction(title="dockfix: fix all", kind=FIX_ALL,
                                            edit=types.WorkspaceEdit(changes={uri: edits})))
    return actions


# -- running checks off the event loop ------------------------------------------------------------------

T = TypeVar("T")


class CheckFailed(Exception):
    """A check that ended without a result (its child process died, or the check raised)."""


class Runner:
    """Runs dockfix's work for the server, never on the event loop (which must keep reading
    messages: changes, cancellations, other documents).

    Work on ordinary buffers runs on one worker thread, one job at a time (the engine keeps
    module-level caches and is not meant to run twice at once). Work on a buffer of
    ``ISOLATE_CHARS`` or more runs in a child forked from that thread (so no other job holds a
    lock at the fork): the worker thread is free again at once for other documents, the child can
    be killed when its result is no longer wanted, and its memory is the system's again when it
    exits. Where there is no fork (Windows, macOS's default), big buffers use the thread too.
    """

    def __init__(self) -> None:
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dockfix-check")
        self.can_fork = sys.platform.startswith("linux") and hasattr(os, "fork")

    async def run(self, isolate: bool, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        if not (isolate and self.can_fork):
            return await loop.run_in_executor(self.thread, fn, *args)
        start = loop.run_in_executor(self.thread, _start_child, fn, args)
        try:
            pid, fd = await asyncio.shield(start)
        except asyncio.CancelledError:
            start.add_done_callback(_abandon)  # cancelled before the fork finished: undo it after
            raise
        try:
            payload = await _read_all(loop, fd)
        finally:
            os.close(fd)
            _reap(pid)
        try:
            ok, value = pickle.loads(payload)
        except (pickle.UnpicklingError, EOFError, ValueError) as err:
            raise CheckFailed("the check's process ended without a result (out of memory?)") from err
        if not ok:
            raise CheckFailed(str(value))
        result: T = value
        return result

    def close(self) -> None:
        self.thread.shutdown(wait=False, cancel_futures=True)


def _start_child(fn: Callable[..., object], args: tuple[object, ...]) -> tuple[int, int]:
    """Fork a child that runs ``fn(*args)`` and writes the pickled ``(ok, result)`` to a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 0
        try:
            os.close(read_end)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)  # the LSP streams are the parent's: nothing of ours may reach them,
            os.dup2(null, 1)  # not even bytes of an unflushed buffer copied at the fork
            # short-lived, like a CLI run: collect as rarely as the CLI does (cli.entry); with
            # the default thresholds 8,000 services take 32 s instead of 14 s
            gc.set_threshold(100_000, 50, 100)
            try:
                payload = pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as err:  # the boundary of one document's check: report it, not a crash
                payload = pickle.dumps((False, f"{type(err).__name__}: {err}"))
            view = memoryview(payload)
            while view:
                view = view[os.write(write_end, view):]
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


async def _read_all(loop: asyncio.AbstractEventLoop, fd: int) -> bytes:
    """Everything written to ``fd`` until EOF, read as it comes, without blocking the loop."""
    os.set_blocking(fd, False)
    chunks: list[bytes] = []
    done: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        try:
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    if not done.done():
                        done.set_result(None)
                    return
                chunks.append(chunk)
        except BlockingIOError:
            return

    loop.add_reader(fd, readable)
    try:
        await done
    finally:
        loop.remove_reader(fd)
    return b"".join(chunks)


def _abandon(started: asyncio.Future[tuple[int, int]]) -> None:
    if not started.cancelled() and started.exception() is None:
        pid, fd = started.result()
        os.close(fd)
        _reap(pid)


def _reap(pid: int) -> None:
    """Kill the child if it still runs (its result is no longer wanted), and collect it."""
    try:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


# -- the server ---------------------------------------------------------------------------------------


class DockfixServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dockfix", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.settings = Settings()
        self.runner = Runner()
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.big: set[str] = set()  # documents that were big at some check: collect when closed

    @property
    def encoding(self) -> str:
        enc = self.workspace.position_encoding
        return str(enc.value if isinstance(enc, types.PositionEncodingKind) else enc or "utf-16")

    def path_of(self, uri: str) -> str | None:
        return to_fs_path(uri)

    def kind_of(self, uri: str) -> str | None:
        path = self.path_of(uri)
        if path is None:
            return None
        doc = self.workspace.get_text_document(uri)
        return kind_for(path, doc.language_id, self.settings, doc.source)

    def schedule(self, uri: str, delay_ms: int = 0) -> None:
        """Check ``uri`` after ``delay_ms``, dropping the check of an older version: only the
        latest version of a buffer is ever checked or published."""
        old = self.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        self.pending[uri] = asyncio.ensure_future(self._check(uri, delay_ms))

    def publish_all(self) -> None:
        for uri in list(self.workspace.text_documents):
            self.schedule(uri)

    def forget(self, uri: str) -> None:
        """A closed document: stop its check, clear its diagnostics, and give its memory back
        (pygls has dropped its text; a full collection, 0.1-0.5 s, only after a big one)."""
        old = self.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        if uri in self.big:
            self.big.discard(uri)
            gc.collect()

    async def _check(self, uri: str, delay_ms: int) -> None:
        try:
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)
            doc = self.workspace.get_text_document(uri)
            path = self.path_of(uri)
            text, version = doc.source, doc.version
            if len(text) >= ISOLATE_CHARS:
                self.big.add(uri)
            found: list[types.Diagnostic] = []
            if path is not None:
                found = await self.runner.run(len(text) >= ISOLATE_CHARS, document_diagnostics, text, path,
                                              kind_for(path, doc.language_id, self.settings, doc.source),
                                              replace(self.settings), self.encoding)
        except CheckFailed as err:
            self._failed(uri, str(err))
            return
        except Exception as err:  # the boundary of one document's check: report it, serve the others
            self._failed(uri, f"{type(err).__name__}: {err}")
            return
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]
        if uri not in self.workspace.text_documents or self.workspace.get_text_document(uri).version != version:
            return  # closed or changed meanwhile (its own check is scheduled)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=found))

    def _failed(self, uri: str, why: str) -> None:
        log.error("checking %s failed: %s", uri, why)
        self.window_log_message(types.LogMessageParams(
            type=types.MessageType.Error, message=f"dockfix: checking {uri} failed: {why}"))

    async def request(self, uri: str, fn: Callable[..., T], *args: object) -> T:
        """Run a request's work on the runner with the document's current text (as the first
        arguments: text, path, kind, settings), big buffers in a child that a
        ``$/cancelRequest`` kills."""
        doc = self.workspace.get_text_document(uri)
        path = self.path_of(uri) or ""
        return await self.runner.run(len(doc.source) >= ISOLATE_CHARS, fn, doc.source, path,
                                     kind_for(path, doc.language_id, self.settings, doc.source), replace(self.settings), *args)

    def take_settings(self, raw: object) -> bool:
        if not self.settings.update(raw):
            return False
        for problem in self.settings.problems:
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=problem))
        return True

    async def pull_settings(self) -> bool:
        """``workspace/configuration`` for the section ``dockfix``, when the client offers it."""
        caps = self.client_capabilities
        if not (caps.workspace and caps.workspace.configuration):
            return False
        result = await self.workspace_configuration_async(types.ConfigurationParams(
            items=[types.ConfigurationItem(section="dockfix")]))
        return bool(result) and isinstance(result[0], dict) and bool(result[0]) and self.take_settings(result[0])


def build_server() -> DockfixServer:
    server = DockfixServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: DockfixServer, params: types.InitializeParams) -> None:
        ls.take_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: DockfixServer, params: types.InitializedParams) -> None:
        if await ls.pull_settings():
            ls.publish_all()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DockfixServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DockfixServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.settings.debounce_ms)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DockfixServer, params: types.DidSaveTextDocumentParams) -> None:
        path = ls.path_of(params.text_document.uri) or ""
        if os.path.basename(path) in CONFIG_NAMES:
            ls.publish_all()  # a config file changed: every document may see other options
        else:
            ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DockfixServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: DockfixServer, params: types.DidChangeConfigurationParams) -> None:
        # push-model clients send the settings; pull-model ones (VS Code) send null: ask
        if ls.take_settings(params.settings) or await ls.pull_settings():
            ls.publish_all()

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    async def formatting(ls: DockfixServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
        return await ls.request(params.text_document.uri, formatting_edits, ls.encoding)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll, FIX_ALL]))
    async def code_action(ls: DockfixServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        return await ls.request(uri, code_actions, uri, params, ls.encoding)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: DockfixServer, params: None) -> None:
        for task in ls.pending.values():
            task.cancel()
        ls.runner.close()

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
