#!/usr/bin/env python3
"""Latency of a warm ``dockfix server``, as an editor sees it (issue 14).

For a 50-line and an 800-line Compose file: diagnostics after open, diagnostics after a change,
a quick fix (``textDocument/codeAction``) and ``textDocument/formatting``; then the server's
resident memory after the session, and after a 5 MB buffer was opened, checked and closed
(``--big``). Each figure is the median of ``--repeat`` runs, in milliseconds, measured from the
message being sent to the answer (or the diagnostics) arriving. The server is warmed up first (one
open, check and format of each size), so imports and config parsing are not in the figures.

Diagnostics after a change are measured with ``debounceMs: 0``: the server's default waits 200 ms
after the last change before it checks, and that pause comes on top.

    python3 bench/lsp_latency.py [--repeat 9] [--big]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import client_capabilities
from pytest_lsp.client import LanguageClient, make_test_lsp_client

ROOT = Path(__file__).resolve().parents[1]


def compose(lines: int) -> str:
    """A Compose file of about ``lines`` lines: services of 7 lines each, every one with findings."""
    out = ["services:\n"]
    n = 0
    while len(out) < lines:
        out += [f"  svc{n:05d}:\n", f"    image: registry.example.com/team/app-{n:05d}:1.2.3\n",
                "    environment:\n", "      LOG_LEVEL: info\n", "    ports:\n", f'      - "{8000 + n}:80"\n',
                "    restart: unless-stopped\n"]
        n += 1
    return "".join(out[:lines])


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Bench:
    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.arrived: dict[str, asyncio.Event] = {}
        self.versions: dict[str, int] = {}
        features = client.protocol.fm.features
        original = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

        def on_publish(params: types.PublishDiagnosticsParams) -> object:
            event = self.arrived.get(params.uri)
            if event is not None and params.version == self.versions.get(params.uri):
                event.set()
            return original(params)

        features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = on_publish

    async def timed_publish(self, uri: str, version: int, send: object) -> float:
        self.arrived[uri] = event = asyncio.Event()
        self.versions[uri] = version
        start = time.perf_counter()
        assert callable(send)
        send()
        await event.wait()
        return (time.perf_counter() - start) * 1000

    async def session(self, name: str, text: str) -> dict[str, float]:
        folder = Path(tempfile.mkdtemp(dir=self.root))
        uri = (folder / "compose.yaml").as_uri()
        c = self.client
        opened = await self.timed_publish(uri, 1, lambda: c.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text))))
        changed_text = text.replace("LOG_LEVEL: info", "LOG_LEVEL: debug", 1)
        changed = await self.timed_publish(uri, 2, lambda: c.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=changed_text)])))
        diag = [d for d in c.diagnostics[uri] if d.code == "DF101"][0]
        start = time.perf_counter()
        actions = await c.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
            context=types.CodeActionContext(diagnostics=[diag], only=[types.CodeActionKind.QuickFix])))
        action = (time.perf_counter() - start) * 1000
        assert actions, "no quick fix"
        start = time.perf_counter()
        edits = await c.text_document_formatting_async(types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
        formatting = (time.perf_counter() - start) * 1000
        assert edits, "no formatting edits"
        c.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
        return {"open": opened, "change": changed, "code action": action, "formatting": formatting}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--big", action="store_true", help="also open, check and close a 5 MB buffer")
    args = parser.parse_args()
    client = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "rewriter", "server")
    assert client._server is not None
    pid = client._server.pid
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim"), initialization_options={"debounceMs": 0}))
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(client, Path(tmp))
        sizes = {"50 lines": compose(50), "800 lines": compose(800)}
        for text in sizes.values():
            await bench.session("warm-up", text)
        rows: dict[str, dict[str, float]] = {}
        for name, text in sizes.items():
            runs = [await bench.session(name, text) for _ in range(args.repeat)]
            rows[name] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(f"warm dockfix server, median of {args.repeat} runs (ms; diagnostics with debounceMs 0)\n")
        keys = list(next(iter(rows.values())))
        print("| file | " + " | ".join(keys) + " |")
        print("|---|" + "---:|" * len(keys))
        for name, row in rows.items():
            print(f"| {name} | " + " | ".join(f"{row[k]:.0f}" for k in keys) + " |")
        print(f"\nserver RSS after the session: {rss_mib(pid):.0f} MiB")
        if args.big:
            sys.path.insert(0, str(ROOT / "tests"))
            from test_lsp_robust import compose_services

            folder = Path(tempfile.mkdtemp(dir=tmp))
            uri = (folder / "compose.yaml").as_uri()
            text = compose_services(36_000)
            start = time.perf_counter()
            await bench.timed_publish(uri, 1, lambda: client.text_document_did_open(types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text))))
            took = time.perf_counter() - start
            sent = len(client.diagnostics[uri])
            print(f"5 MB buffer ({len(text.encode()) / 1e6:.1f} MB, 36,000 services): diagnostics after {took:.1f} s, "
                  f"{sent} sent; server RSS with it open {rss_mib(pid):.0f} MiB", end="")
            client.text_document_did_close(types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))
            del text
            await asyncio.sleep(1)
            print(f", after closing it {rss_mib(pid):.0f} MiB")
    await client.shutdown_session()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
