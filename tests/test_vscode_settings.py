"""The VS Code settings in docs/editors.md (issue 14), as far as they can be tried without VS Code.

VS Code does not run here, so this takes the ``settings.json`` block from the docs and does with
it what the Generic LSP Client (v2) extension (``zsol.vscode-glspc`` 0.2, ``src/extension.ts``)
does: start ``glspc.server.command`` with ``glspc.server.commandArguments``, send
``glspc.server.initializationOptions`` as the ``initializationOptions``, and open the documents
whose language id is in ``glspc.server.languageId``. The client is pytest-lsp with VS Code's
capabilities; on save VS Code asks for the kinds in ``editor.codeActionsOnSave`` over the whole
document, and applies what comes back before it writes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from rewriter.lsp import FIX_ALL, LANGUAGE_KINDS, apply_text_edits
from test_lsp_robust import COMPOSE, open_doc, record_publishes, until

ROOT = Path(__file__).resolve().parents[1]
GLSPC_KEYS = {"glspc.server.command", "glspc.server.commandArguments", "glspc.server.languageId",
              "glspc.server.environmentVariables", "glspc.server.initializationOptions", "glspc.trace.server"}
"""The settings glspc 0.2 contributes (its package.json): a misspelt key would be ignored."""


def settings() -> dict[str, object]:
    text = (ROOT / "docs" / "editors.md").read_text("utf-8")
    m = re.search(r"<!-- dockfix-test: vscode-glspc -->\n```json\n(.*?)\n```\n", text, re.S)
    assert m, "docs/editors.md has no VS Code settings block"
    parsed: dict[str, object] = json.loads(m.group(1))
    return parsed


SETTINGS = settings()


def test_only_settings_the_extension_knows() -> None:
    ours = {k for k in SETTINGS if k.startswith("glspc.")}
    assert ours <= GLSPC_KEYS, ours - GLSPC_KEYS
    assert SETTINGS["glspc.server.command"] == "dockfix"
    assert SETTINGS["glspc.server.commandArguments"] == ["server"]
    # every language id is one the server takes as a kind, or plain YAML (which it sorts by name)
    assert set(SETTINGS["glspc.server.languageId"]) <= set(LANGUAGE_KINDS) | {"yaml"}  # type: ignore[arg-type]
    assert SETTINGS["editor.codeActionsOnSave"] == {FIX_ALL: "explicit"}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "rewriter", "server"]))
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_settings_json_against_the_server(client: LanguageClient, tmp_path: Path) -> None:
    result = await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        initialization_options=SETTINGS["glspc.server.initializationOptions"]))
    options = result.capabilities.code_action_provider
    assert isinstance(options, types.CodeActionOptions) and FIX_ALL in (options.code_action_kinds or [])

    seen = record_publishes(client)
    # stack.yml (language id yaml) by the fileTypes glob; a Compose file with the Docker
    # extension's id by that id
    stack = tmp_path / "stack.yml"
    multirole = tmp_path / "docker-compose-multirole.yaml"
    for path, language in ((stack, "yaml"), (multirole, "dockercompose")):
        uri = open_doc(client, path, COMPOSE, language)
        await until(lambda: any(p.uri == uri for p in seen))
        assert sorted(str(d.code) for d in client.diagnostics[uri]) == ["DF101", "DF201", "DF301", "DF302", "DF401"]
        # on save: the codeActionsOnSave kind over the whole document, applied before the write
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=3, character=0)),
            context=types.CodeActionContext(diagnostics=[], only=list(SETTINGS["editor.codeActionsOnSave"]),  # type: ignore[call-overload]
                                            trigger_kind=types.CodeActionTriggerKind.Automatic)))
        assert actions and len(actions) == 1
        action = actions[0]
        assert isinstance(action, types.CodeAction) and action.kind == FIX_ALL
        assert action.edit is not None and action.edit.changes is not None
        expected = subprocess.run([sys.executable, "-m", "rewriter", "apply", "-", "--stdin-filename", str(path),
                                   "--file-type", "compose", "--exit-zero"], input=COMPOSE.encode(),
                                  capture_output=True, cwd=tmp_path).stdout.decode("utf-8")
        assert apply_text_edits(COMPOSE, action.edit.changes[uri]) == expected != COMPOSE
    # a YAML file neither named nor set as Compose gets nothing
    values = open_doc(client, tmp_path / "values.yaml", COMPOSE)
    await until(lambda: any(p.uri == values for p in seen))
    assert list(client.diagnostics[values]) == []
    # the settings were taken whole: the server logs "ignoring setting ..." for any it cannot use
    assert not [m.message for m in client.log_messages if "ignoring" in m.message]
