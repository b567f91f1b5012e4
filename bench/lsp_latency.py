#!/usr/bin/env python3
"""Latency of a warm ``dockfix server``, as an editor sees it (issue 14).

For a 50-line and an 800-line Compose file: diagnostics after open, diagnostics after a change,
a quick fix (``textDocument/codeAction``) and ``textDocument/formatting``; then the server's
resident memory after the session; with ``--big``, a 5 MB buffer opened, checked and closed
(time to its diagnostics, how many are sent, how long a small file opened meanwhile waits, peak
memory of the server and of the child process checking it, memory after closing it).
The server's peak (``VmHWM``) covers the whole run, warm-up included. Each figure is the median of ``--repeat`` runs, in milliseconds, measured from the
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


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory (``VmHWM``: its peak so far), 0 once it has ended."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


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


async def big_buffer(client: LanguageClient, bench: Bench, tmp: Path, pid: int) -> None:
    """A 5 MB buffer (36,000 services): how long its diagnostics take and how many are sent; how
    long a 50-line document opened right after it waits for its own (the server must not make it
    wait for the big one); the peak RSS of the server and of the child checking the big buffer
    (sampled every 50 ms); the server's RSS with the buffer open and after closing it."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_lsp_robust import children, compose_services

    uri = (Path(tempfile.mkdtemp(dir=tmp)) / "compose.yaml").as_uri()
    small = (Path(tempfile.mkdtemp(dir=tmp)) / "compose.yaml").as_uri()
    text = compose_services(36_000)
    peak = {"server": 0.0, "child": 0.0}
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            peak["server"] = max(peak["server"], rss_mib(pid, "VmHWM"))
            for child in children(pid):
                peak["child"] = max(peak["child"], rss_mib(child, "VmHWM"))
            await asyncio.sleep(0.05)

    sampler = asyncio.ensure_future(sample())
    start = time.perf_counter()
    big_done = asyncio.ensure_future(bench.timed_publish(uri, 1, lambda: client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="yaml", version=1, text=text)))))
    await asyncio.sleep(0.5)  # the big check has started (parsed, forked)
    waited = await bench.timed_publish(small, 1, lambda: client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=small, language_id="yaml", version=1, text=compose(50)))))
    small_before_big = not big_done.done()
    await big_done
    took = time.perf_counter() - start
    done.set()
    await sampler
    sent = len(client.diagnostics[uri])
    open_rss = rss_mib(pid)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    del text
    await asyncio.sleep(1)
    print(f"5 MB buffer (36,000 services): diagnostics after {took:.1f} s, {sent} sent; a 50-line file opened "
          f"0.5 s after it got its diagnostics in {waited:.0f} ms ({'before' if small_before_big else 'AFTER'} the big "
          f"one's); peak RSS: server {peak['server']:.0f} MiB, child checking the buffer {peak['child']:.0f} MiB; "
          f"server RSS with it open {open_rss:.0f} MiB, after closing it {rss_mib(pid):.0f} MiB")


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
            await big_buffer(client, bench, Path(tmp), pid)
    await client.shutdown_session()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
