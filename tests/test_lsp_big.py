"""A 5 MB Compose file with 36,000 services in the editor (issue 14): checking it takes 30 s or
more and finds 180,000 things. The server must keep serving other documents meanwhile (their
diagnostics arrive first: checked by order, not by the clock), send at most ``maxDiagnostics``
(1,000) for it, the last saying how many were left out, and give the memory back afterwards."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from test_lsp_robust import COMPOSE, compose_services, open_doc, record_publishes, until

SERVER = [sys.executable, "-m", "rewriter", "server"]
SERVICES = 36_000


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim")))
    yield
    await lsp_client.shutdown_session()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.asyncio
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="big buffers go to a forked child on Linux")
async def test_huge_buffer_does_not_hold_up_other_documents(client: LanguageClient, tmp_path: Path) -> None:
    seen = record_publishes(client)
    text = compose_services(SERVICES)
    assert len(text.encode("utf-8")) > 4_500_000
    big = open_doc(client, tmp_path / "compose.yaml", text)
    small_dir = tmp_path / "small"
    small_dir.mkdir()
    small = open_doc(client, small_dir / "compose.yaml", COMPOSE)
    await until(lambda: any(p.uri == small for p in seen), limit=60)
    assert not any(p.uri == big for p in seen)  # the small one did not wait for the big one
    assert len(client.diagnostics[small]) == 5
    await until(lambda: any(p.uri == big for p in seen), limit=900)
    (published,) = [p for p in seen if p.uri == big]
    assert published.version == 1
    diags = list(published.diagnostics)
    assert len(diags) == 1000  # the cap, of 180,000 findings
    assert diags[-1].data == {"leftOut": SERVICES * 5 - 999}
    assert diags[-1].message.startswith(f"{SERVICES * 5 - 999} more dockfix findings not shown")
    assert {str(d.code) for d in diags[:-1]} == {"DF101", "DF201", "DF301", "DF302", "DF401"}
    # the check ran in a child that has exited: the server itself never held its 650 MB
    server = client._server
    assert server is not None
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=big)))
    await until(lambda: seen[-1].uri == big and not seen[-1].diagnostics)
    assert rss_kib(server.pid) < 250_000
