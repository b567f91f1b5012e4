"""The language server end to end: a real LSP client (pytest-lsp) talks to ``python -m rewriter
server`` over stdio. Formatting and fix-all must give byte for byte what ``dockfix apply -``
prints; positions are UTF-16 code units, checked on text with non-BMP characters before the edits.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from rewriter.lsp import FIX_ALL, LineIndex, apply_text_edits, replacement_edit

SERVER = [sys.executable, "-m", "rewriter", "server"]
ROOT = Path(__file__).resolve().parents[1]

COMPOSE = "services:\n  api:  # 🐳 ü\n    image: a\n"
COMPOSE_CRLF = "# ☃ 𝄞\r\nservices:\r\n  web:\r\n    image: b  # 𝄞𝄞\r\n    tmpfs:\r\n      - /tmp\r\n"


def cli_apply(text: str, path: Path) -> str:
    """What ``dockfix apply - --stdin-filename PATH --exit-zero`` prints for ``text``."""
    proc = subprocess.run([sys.executable, "-m", "rewriter", "apply", "-", "--stdin-filename", str(path),
                           "--exit-zero"], input=text.encode("utf-8"), capture_output=True, cwd=path.parent,
                          check=True)
    return proc.stdout.decode("utf-8")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


async def open_doc(client: LanguageClient, path: Path, text: str, language: str = "yaml") -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


@pytest.mark.asyncio
async def test_diagnostics_on_open_and_change(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    uri = await open_doc(client, path, COMPOSE)
    codes = sorted(str(d.code) for d in client.diagnostics[uri])
    assert codes == ["DF101", "DF201", "DF301", "DF302", "DF401"]
    for d in client.diagnostics[uri]:
        assert d.source == "dockfix"
        # every finding about the service points at the service key, "api" on line 1
        assert d.range.start == types.Position(line=1, character=2)
    fixed = cli_apply(COMPOSE, path)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    # the built-in 512m limit (and the swap setting that goes with it) is a suggestion: it stays
    assert sorted(str(d.code) for d in client.diagnostics[uri]) == ["DF301", "DF302"]


@pytest.mark.asyncio
async def test_formatting_equals_cli_byte_for_byte(client: LanguageClient, tmp_path: Path) -> None:
    for name, text in (("compose.yaml", COMPOSE), ("docker-compose.yml", COMPOSE_CRLF)):
        path = tmp_path / name
        uri = await open_doc(client, path, text)
        edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
        assert edits
        expected = cli_apply(text, path)
        assert expected != text
        assert apply_text_edits(text, edits).encode("utf-8") == expected.encode("utf-8")


@pytest.mark.asyncio
async def test_formatting_profile_from_workspace_config(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "dockfix.toml").write_text('profile = "dev"\n', encoding="utf-8")
    path = tmp_path / "compose.yaml"
    uri = await open_doc(client, path, COMPOSE)
    assert sorted(str(d.code) for d in client.diagnostics[uri]) == ["DF101", "DF201"]
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
    result = apply_text_edits(COMPOSE, edits or [])
    assert result == cli_apply(COMPOSE, path)
    assert "size=256m" in result  # the dev profile's tmpfs size, not prod's 64m


@pytest.mark.asyncio
async def test_quick_fix_for_each_fixable_diagnostic(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    uri = await open_doc(client, path, COMPOSE_CRLF)
    diags = client.diagnostics[uri]
    tmpfs = [d for d in diags if d.code == "DF102"]
    assert len(tmpfs) == 1
    # the unbounded tmpfs item "/tmp" on line 5, after six spaces and a dash
    assert tmpfs[0].range.start == types.Position(line=5, character=8)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=tmpfs[0].range,
        context=types.CodeActionContext(diagnostics=tmpfs, only=[types.CodeActionKind.QuickFix])))
    assert actions is not None and len(actions) == 1
    action = actions[0]
    assert isinstance(action, types.CodeAction)
    assert action.kind == types.CodeActionKind.QuickFix and action.is_preferred
    assert action.edit is not None and action.edit.changes is not None
    result = apply_text_edits(COMPOSE_CRLF, action.edit.changes[uri])
    assert result == COMPOSE_CRLF.replace("- /tmp\r\n", "- /tmp:size=64m\r\n")


@pytest.mark.asyncio
async def test_fix_all_action(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    uri = await open_doc(client, path, COMPOSE)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll])))
    assert actions is not None and len(actions) == 1
    action = actions[0]
    assert isinstance(action, types.CodeAction) and action.kind == FIX_ALL
    assert action.edit is not None and action.edit.changes is not None
    assert apply_text_edits(COMPOSE, action.edit.changes[uri]) == cli_apply(COMPOSE, path)


@pytest.mark.asyncio
async def test_other_files_are_left_alone(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"  # not a Compose file name
    uri = await open_doc(client, path, COMPOSE)
    assert list(client.diagnostics[uri]) == []
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert not edits


@pytest.mark.asyncio
async def test_parse_error_is_one_diagnostic(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_doc(client, tmp_path / "compose.yaml", "services:\n  api: [\n")
    diags = client.diagnostics[uri]
    assert len(diags) == 1 and diags[0].code is None
    assert diags[0].severity == types.DiagnosticSeverity.Error


# -- positions, without a server ------------------------------------------------------------------


def test_utf16_positions_round_trip() -> None:
    text = "a𝄞b\r\nü\rx\n"
    index = LineIndex(text)
    assert index.position(text.index("b")) == types.Position(line=0, character=3)  # 𝄞 is 2 units
    assert index.position(text.index("x")) == types.Position(line=2, character=0)  # lone CR ends a line
    for offset in range(len(text) + 1):
        if text[offset - 1:offset + 1] == "\r\n":
            continue  # between CR and LF is not a position
        assert index.offset(index.position(offset)) == offset
    assert LineIndex(text, "utf-8").position(text.index("b")) == types.Position(line=0, character=5)


@pytest.mark.parametrize(("old", "new"), [
    ("a\nb\nc\n", "a\nB\nc\n"),
    ("a\r\nb\r\n", "a\r\nb\r\nc\r\n"),
    ("x𝄞\ny", "x𝄞\ny\nz"),
    ("same", "same"),
    ("", "new\n"),
    ("one\ntwo", ""),
])
def test_replacement_edit_reproduces_new_text(old: str, new: str) -> None:
    assert apply_text_edits(old, replacement_edit(old, new)) == new


@pytest.mark.parametrize(("old", "new"), [
    ("services:\n  api:\n    image: a\n", "services:\n  api:\n    image: a\n    pids_limit: 512\n"),
    ("a\r\nb\r\n", "a\r\nb\r\nc\r\n"),
    ("a\rb\r", "a\rb\rc\r"),
])
def test_append_at_the_end_starts_on_the_last_line(old: str, new: str) -> None:
    """Adding keys to the last service appends after the final line break. Such an edit must not
    start on the line after the last one: Neovim 0.11 (which has no such line) inserts the new
    lines and an empty one, so the saved file had an extra blank line at its end. It starts at a
    line start no later than the last line's, and ends at the end of the document (which Neovim handles)."""
    (edit,) = replacement_edit(old, new)
    last = len(LineIndex(old).starts) - 2
    assert edit.range.start.line <= last and edit.range.start.character == 0
    assert apply_text_edits(old, [edit]) == new


@pytest.mark.asyncio
async def test_profile_setting_from_the_client(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    uri = await open_doc(client, path, COMPOSE)
    assert len(client.diagnostics[uri]) == 5  # prod: no config file here
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"dockfix": {"profile": "dev"}}))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert sorted(str(d.code) for d in client.diagnostics[uri]) == ["DF101", "DF201"]
