"""The language server on odd and big buffers (issue 14): quick fixes when the client echoes other
columns, position encodings, superseded versions, cancellation, the diagnostics cap, documents
named otherwise, and where parse errors are marked. A real client (pytest-lsp) talks to
``python -m rewriter server`` over stdio."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from rewriter.lsp import apply_text_edits

SERVER = [sys.executable, "-m", "rewriter", "server"]

# the shell-profile ulimit (DF701, unsafe fix: drop that command) comes after non-ASCII text, so
# its UTF-16 column (36), its byte column (42) and its code-point column (35) differ
DOCKERFILE = ('FROM debian:bookworm-slim\n'
              'RUN echo "réglages → système 𝄞" && echo \'ulimit -n 65536\' >> /etc/profile.d/99-nofile.sh '
              '&& apt-get update\n'
              'CMD ["app"]\n')
COMPOSE = "services:\n  api:  # 🐳 ü\n    image: a\n"


def cli(text: str, path: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "rewriter", "apply", "-", "--stdin-filename", str(path),
                           "--exit-zero", *extra], input=text.encode("utf-8"), capture_output=True,
                          cwd=path.parent)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    """A client that is not initialised yet: each test says what it offers."""
    yield
    await lsp_client.shutdown_session()


async def start(client: LanguageClient, *, encodings: list[str] | None = None,
                options: object = None) -> types.InitializeResult:
    caps = client_capabilities("visual-studio-code")
    if encodings is not None:
        caps.general = types.GeneralClientCapabilities(position_encodings=encodings)
    return await client.initialize_session(types.InitializeParams(capabilities=caps,
                                                                  initialization_options=options))


def record_publishes(client: LanguageClient) -> list[types.PublishDiagnosticsParams]:
    """Every publishDiagnostics the server sends, in order (pytest-lsp keeps only the last)."""
    seen: list[types.PublishDiagnosticsParams] = []
    features = client.protocol.fm.features
    original = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def recorder(params: types.PublishDiagnosticsParams) -> object:
        seen.append(params)
        return original(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = recorder
    return seen


async def until(condition: Callable[[], bool], limit: float = 120.0) -> None:
    """Wait for ``condition``; the limit only stops a broken server from hanging the suite."""
    for _ in range(int(limit / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


def children(pid: int | None) -> list[int]:
    """The processes whose parent is ``pid``, from /proc/N/stat (field 4, after the command's
    closing parenthesis); /proc/PID/task/*/children needs a kernel option, /proc/N/stat does not."""
    found: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def open_doc(client: LanguageClient, path: Path, text: str, language: str = "yaml", version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))
    return uri


async def opened(client: LanguageClient, path: Path, text: str, language: str = "yaml") -> list[types.Diagnostic]:
    seen = record_publishes(client)
    uri = open_doc(client, path, text, language)
    await until(lambda: any(p.uri == uri for p in seen))
    return list(client.diagnostics[uri])


def byte_column(text: str, line: int, utf16: int) -> int:
    """What Neovim 0.7 sends back: the byte column of a UTF-16 column."""
    row = text.split("\n")[line]
    units = 0
    for i, ch in enumerate(row):
        if units >= utf16:
            return len(row[:i].encode("utf-8"))
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(row.encode("utf-8"))


def as_bytes(d: types.Diagnostic, text: str, keep_data: bool) -> types.Diagnostic:
    start, end = d.range.start, d.range.end
    return types.Diagnostic(
        range=types.Range(start=types.Position(line=start.line, character=byte_column(text, start.line, start.character)),
                          end=types.Position(line=end.line, character=byte_column(text, end.line, end.character))),
        message=d.message, code=d.code, source=d.source, severity=d.severity, data=d.data if keep_data else None)


# -- 1. quick fixes on lines with non-ASCII text ------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("keep_data", [True, False], ids=["data-id", "code-and-line"])
async def test_quick_fix_when_the_client_echoes_byte_columns(client: LanguageClient, tmp_path: Path,
                                                             keep_data: bool) -> None:
    await start(client)
    path = tmp_path / "Dockerfile"
    diags = await opened(client, path, DOCKERFILE, "dockerfile")
    ulimit = [d for d in diags if d.code == "DF701"]
    assert len(ulimit) == 1 and ulimit[0].range.start.line == 1
    echoed = as_bytes(ulimit[0], DOCKERFILE, keep_data)
    assert echoed.range != ulimit[0].range  # the columns really differ on this line
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=path.as_uri()), range=echoed.range,
        context=types.CodeActionContext(diagnostics=[echoed])))
    fixes = [a for a in actions or [] if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.QuickFix]
    assert len(fixes) == 1 and "DF701" in fixes[0].title
    assert fixes[0].edit is not None and fixes[0].edit.changes is not None
    result = apply_text_edits(DOCKERFILE, fixes[0].edit.changes[path.as_uri()])
    assert "ulimit" not in result and "réglages → système 𝄞" in result
    assert result == cli(DOCKERFILE, path, "--unsafe-fixes").stdout.decode("utf-8")


@pytest.mark.asyncio
async def test_same_code_on_another_line_gets_no_fix(client: LanguageClient, tmp_path: Path) -> None:
    await start(client)
    path = tmp_path / "Dockerfile"
    diags = await opened(client, path, DOCKERFILE, "dockerfile")
    stray = as_bytes([d for d in diags if d.code == "DF701"][0], DOCKERFILE, keep_data=False)
    stray.range.start.line = stray.range.end.line = 2
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=path.as_uri()), range=stray.range,
        context=types.CodeActionContext(diagnostics=[stray], only=[types.CodeActionKind.QuickFix])))
    assert not actions


@pytest.mark.asyncio
@pytest.mark.parametrize(("offered", "chosen", "column"), [
    (["utf-8", "utf-16"], "utf-8", 42),
    (["utf-32"], "utf-32", 35),
    (None, "utf-16", 36),
])
async def test_position_encoding_is_negotiated(client: LanguageClient, tmp_path: Path,
                                               offered: list[str] | None, chosen: str, column: int) -> None:
    result = await start(client, encodings=offered)
    assert result.capabilities.position_encoding == chosen
    path = tmp_path / "Dockerfile"
    diags = await opened(client, path, DOCKERFILE, "dockerfile")
    ulimit = [d for d in diags if d.code == "DF701"][0]
    assert ulimit.range.start == types.Position(line=1, character=column)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=path.as_uri()), range=ulimit.range,
        context=types.CodeActionContext(diagnostics=[ulimit], only=[types.CodeActionKind.QuickFix])))
    assert actions and isinstance(actions[0], types.CodeAction) and actions[0].edit is not None
    assert actions[0].edit.changes is not None
    edits = actions[0].edit.changes[path.as_uri()]
    assert apply_text_edits(DOCKERFILE, edits, chosen) == cli(DOCKERFILE, path, "--unsafe-fixes").stdout.decode()


# -- 2. busy buffers --------------------------------------------------------------------------------


def compose_services(n: int) -> str:
    return "services:\n" + "".join(
        f"  svc{i:05d}:\n    image: registry.example.com/team/app-{i:05d}:1.2.3\n    environment:\n"
        f"      LOG_LEVEL: info\n    ports:\n      - \"{8000 + i % 1000}:80\"\n" for i in range(n))


@pytest.mark.asyncio
async def test_only_the_latest_version_is_checked(client: LanguageClient, tmp_path: Path) -> None:
    await start(client)
    seen = record_publishes(client)
    path = tmp_path / "compose.yaml"
    uri = open_doc(client, path, compose_services(150))  # a check takes a good fraction of a second
    for version, n in ((2, 151), (3, 152)):
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=compose_services(n))]))
    await until(lambda: any(p.version == 3 for p in seen))
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await until(lambda: seen[-1].version is None)  # the close's empty list: everything before it has arrived
    assert [p.version for p in seen] == [3, None]
    assert len(seen[0].diagnostics) == 152 * 5 and list(seen[-1].diagnostics) == []


@pytest.mark.asyncio
async def test_a_change_is_checked_after_the_debounce_pause(client: LanguageClient, tmp_path: Path) -> None:
    """``debounceMs``: a change is checked only after that pause (a burst of keystrokes is one
    check); opening is not delayed. Measured as a lower bound, which a slow machine cannot break."""
    await start(client, options={"debounceMs": 1500})
    seen = record_publishes(client)
    path = tmp_path / "compose.yaml"
    uri = open_doc(client, path, COMPOSE)
    await until(lambda: any(p.version == 1 for p in seen))
    loop = asyncio.get_running_loop()
    sent = loop.time()
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=COMPOSE + "    mem_limit: 1g\n")]))
    await until(lambda: any(p.version == 2 for p in seen))
    assert loop.time() - sent >= 1.5
    assert "DF301" not in {str(d.code) for d in client.diagnostics[uri]}  # mem_limit is there now


@pytest.mark.asyncio
async def test_cap_with_a_diagnostic_saying_how_many_were_left_out(client: LanguageClient, tmp_path: Path) -> None:
    await start(client, options={"maxDiagnostics": 3})
    diags = await opened(client, tmp_path / "compose.yaml", COMPOSE)
    assert len(diags) == 3
    assert [d.code for d in diags[:2]] == ["DF101", "DF201"]
    assert diags[2].code is None and diags[2].message.startswith("3 more dockfix findings not shown")


@pytest.mark.asyncio
async def test_cancelled_request_on_a_big_buffer(client: LanguageClient, tmp_path: Path) -> None:
    """Formatting 3,000 services takes seconds; a $/cancelRequest ends it at once (the child
    working on it is killed: the buffer is over 256 KiB) and the next request is answered."""
    await start(client)
    padding = "".join(f"# {n:05d} {'-' * 120}\n" for n in range(2100))
    big = open_doc(client, tmp_path / "compose.yaml", padding + compose_services(3000))
    small_path = tmp_path / "sub" / "compose.yaml"
    small_path.parent.mkdir()
    small = open_doc(client, small_path, COMPOSE)
    options = types.FormattingOptions(tab_size=2, insert_spaces=True)
    pending = asyncio.ensure_future(client.protocol.send_request_async(  # sent when it first runs
        types.TEXT_DOCUMENT_FORMATTING,
        types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=big), options=options),
        msg_id="format-big"))
    # cancel once the server has forked the child working on it (a fixed sleep raced a fast machine,
    # where 300 services were formatted before the cancel arrived)
    await until(lambda: bool(children(client._server.pid)), limit=60)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="format-big"))
    with pytest.raises(Exception, match="cancel"):
        await pending
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=small), options=options))
    assert apply_text_edits(COMPOSE, edits or []) == cli(COMPOSE, small_path).stdout.decode("utf-8")


# -- 5. documents named otherwise ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_language_id_dockercompose(client: LanguageClient, tmp_path: Path) -> None:
    await start(client)
    assert await opened(client, tmp_path / "stack.yml", COMPOSE, "yaml") == []
    diags = await opened(client, tmp_path / "docker-compose-multirole.yaml", COMPOSE, "dockercompose")
    assert sorted(str(d.code) for d in diags) == ["DF101", "DF201", "DF301", "DF302", "DF401"]
    diags = await opened(client, tmp_path / "build.docker", "FROM golang:1.24\nENV GOMAXPROCS=4\n", "dockerfile")
    assert "DF706" in [d.code for d in diags]


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["initializationOptions", "workspace/configuration", "didChangeConfiguration"])
async def test_file_type_globs(client: LanguageClient, tmp_path: Path, how: str) -> None:
    setting = {"fileTypes": {"compose": ["stack.yml", "deploy/*.yaml"]}}
    if how == "initializationOptions":
        await start(client, options=setting)
        # Neovim sends its (empty) settings right after start-up: not a reset of these
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))
    elif how == "workspace/configuration":
        client.set_configuration(setting, section="dockfix")
        seen = record_publishes(client)
        await start(client)
        await asyncio.sleep(0.5)  # the server asks for its settings after 'initialized'
        assert seen == []
    else:
        await start(client)
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"dockfix": setting}))
    path = tmp_path / "stack.yml"
    assert len(await opened(client, path, COMPOSE)) == 5
    (tmp_path / "deploy").mkdir()
    assert len(await opened(client, tmp_path / "deploy" / "prod.yaml", COMPOSE)) == 5
    assert await opened(client, tmp_path / "values.yaml", COMPOSE) == []
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
        options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
    expected = cli(COMPOSE, path, "--file-type", "compose").stdout.decode("utf-8")
    assert expected != COMPOSE and apply_text_edits(COMPOSE, edits or []) == expected


# -- 6. where parse errors are marked ------------------------------------------------------------------

UNCLOSED = 'services:\n  api:\n    ports: [\n      "80:80"\n    image: x\n'
HEREDOC = "FROM debian:12\nRUN echo one\nRUN <<EOF\necho hi\n"


@pytest.mark.asyncio
async def test_parse_errors_are_marked_where_the_construct_opens(client: LanguageClient, tmp_path: Path) -> None:
    await start(client)
    (diag,) = await opened(client, tmp_path / "compose.yaml", UNCLOSED)
    assert diag.range.start == types.Position(line=2, character=11)  # the '['
    assert "not closed" in diag.message and "line 5" in diag.message
    (diag,) = await opened(client, tmp_path / "Dockerfile", HEREDOC, "dockerfile")
    assert diag.range.start == types.Position(line=2, character=4)  # '<<EOF'
    assert "EOF" in diag.message


def test_parse_error_positions_on_the_command_line(tmp_path: Path) -> None:
    proc = cli(UNCLOSED, tmp_path / "compose.yaml")
    assert proc.returncode == 2 and proc.stdout.decode() == UNCLOSED
    assert proc.stderr.decode().startswith("compose.yaml:3:12: invalid YAML:")
    proc = cli(HEREDOC, tmp_path / "Dockerfile")
    assert proc.returncode == 2 and proc.stdout.decode() == HEREDOC
    assert proc.stderr.decode().startswith("Dockerfile:3:5: invalid Dockerfile: unterminated heredoc")
