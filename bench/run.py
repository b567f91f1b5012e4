#!/usr/bin/env python3
"""Benchmark dockfix against its peers on a synthetic repository of real Compose files.

Usage (from anywhere; Python 3.11+, standard library only):

    bash bench/install-peers.sh          # once: compose-lint, hadolint, dclint into bench/.work/peers/
    python3 bench/run.py                 # 2,000 files, 5 repeats, all rows
    python3 bench/run.py --files 500 --repeat 3 --only dockfix
    python3 bench/run.py --dockfix .venv/bin/dockfix --peer-repeat 1

What it does:

1. Builds ``bench/.work/repo/`` (git-ignored): ``--files N`` directories ``svc0001/`` ... each holding
   one real Compose file, byte for byte, cycled from ``fixtures/real/`` (if it has any Compose files)
   or else ``../shared/corpus/awesome-compose/`` (``--source DIR`` to choose). The file keeps its original name (``compose.yaml``,
   ``compose.yml``, ``docker-compose.y[a]ml``) and the other files of the same example (its
   Dockerfiles, for hadolint and for dockfix's build contexts, and any YAML it includes or extends)
   are copied beside it at their original relative paths.
   An empty ``pyproject.toml`` at the repo root makes it a project root. dockfix's cache goes to
   ``bench/.work/cache/`` (``DOCKFIX_CACHE_DIR``), not to the user's ``~/.cache/dockfix/``.
   The tree is rebuilt only when ``--files`` or the sources change (or with ``--rebuild``).
2. Times each command: one untimed warm-up run (compiles .pyc files, fills the page cache, and is
   checked for errors), then the median wall-clock time of ``--repeat`` runs measured with
   ``time.perf_counter`` around ``subprocess.run`` (output to /dev/null).
   The three cold starts, ``python -c pass`` and ``python -c "import ruamel.yaml"`` (baselines, run
   with the interpreter dockfix runs on) and ``dockfix apply -`` on one real Compose file from stdin
   (run in the repo directory that holds a copy of it, so its build contexts are there),
   are timed in turns (one of each, ``--cold-repeat`` times), so drift in the machine's speed cannot
   skew their ratio, with wall and CPU time (user + system, from ``getrusage(RUSAGE_CHILDREN)``);
   the goal compares CPU times, which waiting for a core on a busy machine does not inflate. They
   run for two installs: a regular ``pip install`` of this checkout into ``bench/.work/pip-venv/``
   (rebuilt when the sources change; what users get, and what the goal is about) and the dockfix
   found as below (usually the editable dev install, whose setuptools finder adds to every start). The other rows: ``dockfix check
   --no-cache`` on the repo with all cores and with ``--jobs 1``; ``dockfix check`` with the cache (each
   repeat deletes ``bench/.work/cache/``, times the filling run, then times the warm run); ``dockfix check
   --no-cache`` on the Compose files only (same inputs as compose-lint); then compose-lint, dclint and
   hadolint where installed (each skipped with a note otherwise).
3. Prints a Markdown table (tool, command, files, median s, per-file ms, ratio vs ``dockfix check
   --no-cache <repo>``) and the goal verdicts, and writes both to ``bench/.work/results.md``.

A dockfix row that cannot run (not installed, crash, exit status outside 0/1) shows ``n/a`` and the
error instead of stopping the benchmark. dockfix is found via ``--dockfix PATH``, else ``dockfix`` on
PATH, else ``<python> -m rewriter`` with the checkout on PYTHONPATH. Peers are found via
``--compose-lint``/``--dclint``/``--hadolint``, else ``bench/.work/peers/``, else PATH.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
REPO = WORK / "repo"
REPO_MANIFEST = WORK / "repo.json"
PEERS = WORK / "peers"
RESULTS = WORK / "results.md"
SOURCES = (ROOT / "fixtures" / "real", ROOT.parent / "shared" / "corpus" / "awesome-compose")

COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
CACHE = WORK / "cache"  # DOCKFIX_CACHE_DIR of every dockfix run
CACHE_DIR = "bench/.work/cache"
GOAL_STDIN = 1.3  # dockfix apply - (cold, CPU time, pip-installed) / python -c "import ruamel.yaml" (issues 11, 12)
SMALL = ROOT / "fixtures" / "compose" / "basic" / "input.yaml"  # the small stdin file of the cold-start goal
PIP_VENV = WORK / "pip-venv"  # a regular (non-editable) `pip install` of this checkout, as users get it
GOAL_PEER = 1.0  # dockfix check / compose-lint (aim: 0.5)
GOAL_WARM = 0.25  # dockfix check (warm cache) / dockfix check --no-cache (issue 11)


# --------------------------------------------------------------------------- synthetic repository


def is_dockerfile(name: str) -> bool:
    low = name.lower()
    return low == "dockerfile" or low.startswith("dockerfile.") or low.endswith(".dockerfile")


def find_sources(roots: tuple[Path, ...] = SOURCES) -> tuple[Path, list[Path]]:
    """Return the source root and its Compose files (sorted), the first root that has any."""
    for root in roots:
        if root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.name in COMPOSE_NAMES and p.is_file())
            if files:
                return root, files
    raise SystemExit(f"bench: no Compose files in any of: {', '.join(map(str, roots))}")


def companions_for(compose: Path, all_compose_dirs: set[Path]) -> list[Path]:
    """The other files of the Compose file's example: everything under its directory except what
    lies under a nested directory with a Compose file of its own (Dockerfiles, included files)."""
    base = compose.parent
    found = []
    for path in sorted(base.rglob("*")):
        if path == compose or not path.is_file():
            continue
        owner = next((d for d in path.parents if d in all_compose_dirs), None)
        if owner == base and path.name not in COMPOSE_NAMES:
            found.append(path)
    return found


@dataclass
class Repo:
    root: Path
    source: Path
    compose: list[Path]  # relative to root
    dockerfiles: list[Path]  # relative to root
    n_other: int  # other companion files (included/extended YAML, env files)
    stdin_file: Path  # absolute path of the real file fed on stdin
    stdin_dir: Path  # the repo directory holding a copy of it (with its Dockerfiles): the run's cwd


def build_repo(n_files: int, rebuild: bool, source_dir: Path | None = None) -> Repo:
    source, files = find_sources((source_dir.resolve(),) if source_dir else SOURCES)
    dirs = {f.parent for f in files}
    per_source = [(f, companions_for(f, dirs)) for f in files]
    stamp = {
        "files": n_files,
        "source": str(source),
        "inputs": [[str(f), f.stat().st_size, [str(c) for c in cs]] for f, cs in per_source],
    }
    width = max(4, len(str(n_files)))
    compose_rel, docker_rel = [], []
    plan = []
    for i in range(n_files):
        src, companions = per_source[i % len(per_source)]
        d = Path(f"svc{i + 1:0{width}d}")
        compose_rel.append(d / src.name)
        plan.append((src, REPO / d / src.name))
        for other in companions:
            rel = d / other.relative_to(src.parent)
            if is_dockerfile(other.name):
                docker_rel.append(rel)
            plan.append((other, REPO / rel))
    sizes = sorted(files, key=lambda f: (f.stat().st_size, str(f)))
    stdin_file = sizes[len(sizes) // 2]  # median-sized real Compose file
    first_copy = [f for f, _ in per_source].index(stdin_file)
    stdin_dir = REPO / compose_rel[first_copy].parent if first_copy < n_files else REPO

    try:
        current = json.loads(REPO_MANIFEST.read_text()) == stamp and REPO.is_dir()
    except (OSError, ValueError):
        current = False
    if rebuild or not current:
        if REPO.exists():
            shutil.rmtree(REPO)
        REPO.mkdir(parents=True)
        # Marks the synthetic repo as a project root (keeps dockfix's cache inside it).
        (REPO / "pyproject.toml").write_text("")
        for src, dst in plan:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)  # original bytes
        REPO_MANIFEST.write_text(json.dumps(stamp))
    n_other = len(plan) - len(compose_rel) - len(docker_rel)
    return Repo(REPO, source, compose_rel, docker_rel, n_other, stdin_file, stdin_dir)


# --------------------------------------------------------------------------- timing


class RunError(Exception):
    """Raised by a row's validator: the run finished but did not do the job."""


@dataclass
class Row:
    tool: str
    command: str
    files: int | None
    median: float | None = None
    error: str | None = None
    note: str | None = None
    runs: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system CPU seconds of each timed run
    cpu_median: float | None = None

    def add_note(self, text: str | None) -> None:
        self.note = "; ".join(filter(None, [self.note, text])) or None


def tail(text: bytes | str | None, limit: int = 160) -> str:
    if not text:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    msg = lines[-1] if lines else ""
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


@dataclass
class Cmd:
    argv: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    stdin: bytes | None = None
    ok: frozenset[int] = frozenset({0, 1})


def children_cpu() -> float:
    """User + system CPU seconds of every child this process has waited for (and their waited-for
    children). One run's CPU time is the difference around it: the runs are sequential."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_once(cmd: Cmd, timeout: float, capture: bool, cpu: list[float] | None = None,
             ) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    """Run once; output to /dev/null, or with `capture` to temporary files (not pipes: dclint, for
    one, exits before a pipe has taken all its output and loses the rest).

    The timeout is a timer that kills the process, not ``subprocess.run(timeout=...)``: with a
    timeout, ``Popen.wait`` polls with sleeps of up to 50 ms, which rounds a 60 ms cold start up
    to 65 or 115 ms. With `cpu`, the run's CPU time (user + system) is appended to it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        c0 = children_cpu()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd.argv,
            cwd=cmd.cwd,
            env=cmd.env,
            stdin=subprocess.PIPE if cmd.stdin is not None else subprocess.DEVNULL,
            stdout=out if capture else subprocess.DEVNULL,
            stderr=err if capture else subprocess.DEVNULL,
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            proc.communicate(cmd.stdin)  # writes the input, closes stdin, then a blocking wait
        finally:
            timer.cancel()
        secs = time.perf_counter() - t0
        if cpu is not None:
            cpu.append(children_cpu() - c0)
        if secs >= timeout:
            raise subprocess.TimeoutExpired(cmd.argv, timeout)
        done = subprocess.CompletedProcess(cmd.argv, proc.returncode)
        if capture:
            out.seek(0)
            err.seek(0)
            done.stdout, done.stderr = out.read(), err.read()
    return secs, done


def check_proc(cmd: Cmd, proc: subprocess.CompletedProcess[bytes]) -> str | None:
    """An error message if the run failed (exit status not accepted, or a Python traceback)."""
    err = proc.stderr or b""
    if b"Traceback (most recent call last)" in err:
        return f"exit {proc.returncode}: {tail(err)}"
    if proc.returncode not in cmd.ok:
        return f"exit {proc.returncode}: {tail(err) or tail(proc.stdout)}"
    return None


def measure(row: Row, cmd: Cmd, repeat: int, timeout: float, validate=None) -> Row:
    """Warm up once (captured and checked), then time `repeat` runs with output to /dev/null."""
    try:
        _, proc = run_once(cmd, timeout, capture=True)
        row.error = check_proc(cmd, proc)
        if row.error is None and validate is not None:
            row.add_note(validate(proc))
        if row.error is not None:
            return row
        for _ in range(repeat):
            secs, proc = run_once(cmd, timeout, capture=False, cpu=row.cpu)
            if proc.returncode not in cmd.ok:
                row.error = f"exit {proc.returncode} in a timed run"
                return row
            row.runs.append(secs)
    except RunError as exc:
        row.error = str(exc)
    except FileNotFoundError as exc:
        row.error = f"not found: {exc.filename}"
    except subprocess.TimeoutExpired:
        row.error = f"timed out after {timeout:g} s"
    except OSError as exc:
        row.error = f"{type(exc).__name__}: {exc}"
    if row.runs and row.error is None:
        row.median = statistics.median(row.runs)
        row.cpu_median = statistics.median(row.cpu)
    return row


def measure_turns(pairs: list[tuple[Row, Cmd]], repeat: int, timeout: float) -> None:
    """Warm each command up once (captured and checked), then time them in turns (a, b, c, b, c,
    a, c, a, b, ...) `repeat` times, recording wall and CPU time. Cold starts take 0.05 to 0.1 s,
    this machine's speed drifts by 20 % within a minute and other work competes for its cores; in
    turns, the drift hits every row alike, so their ratio holds, and CPU time (user + system of
    the process) does not count the time spent waiting for a core. Each turn starts one row later,
    so no row always runs right after the same other one."""
    live: list[tuple[Row, Cmd]] = []
    for row, cmd in pairs:
        try:
            _, proc = run_once(cmd, timeout, capture=True)
            row.error = check_proc(cmd, proc)
        except FileNotFoundError as exc:
            row.error = f"not found: {exc.filename}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            row.error = f"{type(exc).__name__}: {exc}"
        if row.error is None:
            live.append((row, cmd))
    for turn in range(repeat):
        k = turn % len(live) if live else 0
        for row, cmd in live[k:] + live[:k]:
            if row.error is not None:
                continue
            try:
                secs, proc = run_once(cmd, timeout, capture=False, cpu=row.cpu)
            except (OSError, subprocess.TimeoutExpired) as exc:
                row.error = f"{type(exc).__name__}: {exc}"
                continue
            if proc.returncode not in cmd.ok:
                row.error = f"exit {proc.returncode} in a timed run"
                continue
            row.runs.append(secs)
    for row, _ in live:
        if row.runs and row.error is None:
            row.median = statistics.median(row.runs)
            row.cpu_median = statistics.median(row.cpu)


def measure_cached(fill: Row, warm: Row, cmd: Cmd, repeat: int, timeout: float, cache: Path, validate=None) -> None:
    """Warm up once (captured and checked); then each repeat deletes the cache, times the run that
    fills it and then the warm run."""
    try:
        if cache.exists():
            shutil.rmtree(cache)
        _, proc = run_once(cmd, timeout, capture=True)
        err = check_proc(cmd, proc)
        if err:
            fill.error = warm.error = err
            return
        if validate is not None:
            fill.add_note(validate(proc))
        for _ in range(repeat):
            if cache.exists():
                shutil.rmtree(cache)
            for row in (fill, warm):
                secs, proc = run_once(cmd, timeout, capture=False, cpu=row.cpu)
                if proc.returncode not in cmd.ok:
                    fill.error = warm.error = f"exit {proc.returncode} in a timed run"
                    return
                row.runs.append(secs)
            if not cache.is_dir():
                warm.note = f"no {CACHE_DIR}/ appeared"
    except RunError as exc:
        fill.error = warm.error = str(exc)
        return
    except FileNotFoundError as exc:
        fill.error = warm.error = f"not found: {exc.filename}"
        return
    except subprocess.TimeoutExpired:
        fill.error = warm.error = f"timed out after {timeout:g} s"
        return
    except OSError as exc:
        fill.error = warm.error = f"{type(exc).__name__}: {exc}"
        return
    for row in (fill, warm):
        if row.runs:
            row.median = statistics.median(row.runs)
            row.cpu_median = statistics.median(row.cpu)


# --------------------------------------------------------------------------- tools


def interpreter_of(script: str) -> str | None:
    """The Python a console script runs on (from its #! line), if it is one."""
    try:
        with open(script, "rb") as fh:
            first = fh.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    parts = first[2:].decode("utf-8", "replace").split()
    if not parts:
        return None
    if Path(parts[0]).name == "env" and len(parts) > 1:
        return shutil.which(parts[1])
    return parts[0] if "python" in Path(parts[0]).name else None


def find_dockfix(opt: str | None, python: str) -> tuple[list[str], dict[str, str] | None, str]:
    """argv prefix, environment, and how it was found."""
    if opt:
        return [opt], None, "--dockfix"
    found = shutil.which("dockfix")
    if found:
        return [found], None, "PATH"
    dev = ROOT / ".venv" / "bin" / "dockfix"
    if dev.is_file() and os.access(dev, os.X_OK):
        return [str(dev)], None, "the checkout's .venv"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return [python, "-m", "rewriter"], env, "fallback `python -m rewriter` (checkout on PYTHONPATH)"


def install_kind(python: str, env: dict[str, str] | None) -> str:
    """How the interpreter's `rewriter` is installed: an editable install of a checkout (its
    setuptools finder runs at every start, in `site`), a regular install, or a checkout on
    PYTHONPATH."""
    code = ("import sys, rewriter; f = rewriter.__file__; "
            "print('pip install -e (editable)' if any('__editable__' in m for m in sys.modules) "
            "else 'pip install (regular)' if 'site-packages' in f else 'checkout on PYTHONPATH')")
    return version_of([python, "-c", code], env, cwd=WORK)  # not ROOT: `-c` puts the cwd first on sys.path


def pip_venv(python: str, venv: Path = PIP_VENV) -> tuple[str | None, str]:
    """A venv holding a regular, non-editable `pip install` of this checkout, as users get it:
    returns its `dockfix` (None on failure) and a note. Built from a copy of the package sources
    (so no `build/` appears in the checkout) and rebuilt only when those sources change."""
    sources = ["pyproject.toml", "README.md", "LICENSE", "rewriter", "transforms"]
    h = hashlib.sha256(python.encode())
    for name in sources:
        top = ROOT / name
        for path in sorted([top] if top.is_file() else top.rglob("*.py")):
            h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    stamp, exe = venv / "dockfix-sources.sha256", venv / "bin" / "dockfix"
    if exe.is_file() and stamp.is_file() and stamp.read_text() == h.hexdigest():
        return str(exe), f"{venv.relative_to(ROOT)} (current)"
    shutil.rmtree(venv, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in sources:
            src = ROOT / name
            if src.is_file():
                shutil.copyfile(src, Path(tmp) / name)
            else:
                shutil.copytree(src, Path(tmp) / name, ignore=shutil.ignore_patterns("__pycache__"))
        for argv in ([python, "-m", "venv", str(venv)],
                     [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", tmp]):
            proc = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL)
            if proc.returncode != 0:
                return None, f"`{show(argv)}` failed: {tail(proc.stderr)}"
    stamp.write_text(h.hexdigest())
    return str(exe), f"{venv.relative_to(ROOT)} (built)"


def find_peer(opt: str | None, local: Path, name: str) -> str | None:
    if opt:
        return opt
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def version_of(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=60, env=env, stdin=subprocess.DEVNULL, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({type(exc).__name__})"
    text = (proc.stdout or proc.stderr).decode("utf-8", "replace").strip().splitlines()
    return text[0].strip() if proc.returncode == 0 and text else "unknown"


def show(argv: list[str], n_paths: int = 0) -> str:
    """A command for the table: executables by name, a long path list shortened."""
    shown = [Path(argv[0]).name] + argv[1:]
    if n_paths:
        shown = shown[: len(shown) - n_paths] + [f"<{n_paths} paths>"]
    return " ".join(a if a and " " not in a else json.dumps(a) for a in shown)


# --------------------------------------------------------------------------- report


def fmt_secs(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def table(rows: list[Row], reference: Row | None) -> str:
    out = [
        "| tool | command | files | median s | CPU s | per-file ms | ratio vs dockfix check | notes |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    ref = reference.median if reference else None
    for r in rows:
        per_file = "" if r.median is None or not r.files else f"{r.median * 1000 / r.files:.2f}"
        rat = None if r.files is None else ratio(r.median, ref)
        notes = "; ".join(filter(None, [r.error and f"n/a: {r.error}", r.note]))
        notes = notes.replace("|", "\\|")
        cells = [
            r.tool,
            f"`{r.command}`",
            "" if r.files is None else str(r.files),
            fmt_secs(r.median),
            fmt_secs(r.cpu_median),
            per_file,
            "" if r.files is None else "n/a" if rat is None else f"{rat:.2f}x",
            notes,
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def cold_table(rows: list[Row]) -> str:
    """The cold starts: median wall and CPU time (user + system) in ms, taken in turns."""
    out = ["| tool | command | wall ms | CPU ms | runs | notes |", "| --- | --- | ---: | ---: | ---: | --- |"]
    for r in rows:
        ms = [("n/a" if x is None else f"{x * 1000:.1f}") for x in (r.median, r.cpu_median)]
        notes = "; ".join(filter(None, [r.error and f"n/a: {r.error}", r.note])).replace("|", "\\|")
        out.append(f"| {r.tool} | `{r.command}` | {ms[0]} | {ms[1]} | {len(r.runs)} | {notes} |")
    return "\n".join(out) if rows else ""


def verdict(value: float | None, goal: float, what: str, aim: float | None = None) -> str:
    if value is None:
        return f"- {what}: n/a"
    ok = "PASS" if value < goal else "FAIL"
    extra = "" if aim is None else (" (aim met)" if value <= aim else f" (aim: {aim:.2f})")
    return f"- {what}: {value:.2f} (goal < {goal:.2f}) {ok}{extra}"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=2000, help="Compose files in the synthetic repo (default 2000)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per row, median reported (default 5)")
    ap.add_argument("--peer-repeat", type=int, help="timed runs for peer rows (default: --repeat)")
    ap.add_argument("--cold-repeat", type=int, default=41,
                    help="timed runs of each cold-start row, taken in turns (default 41)")
    ap.add_argument("--no-pip", dest="no_pip", action="store_true",
                    help="skip the cold starts of a regular `pip install` into bench/.work/pip-venv/")
    ap.add_argument("--timeout", type=float, default=1200, help="seconds allowed for one run (default 1200)")
    ap.add_argument("--source", type=Path, help="take the Compose files from this directory instead")
    ap.add_argument("--rebuild", action="store_true", help="rebuild bench/.work/repo/ even if current")
    ap.add_argument("--only", default="",
                    help="comma list of groups: baseline,dockfix,compose-lint,dclint,hadolint; "
                         "cold = the cold starts only (baselines and `apply -`)")
    ap.add_argument("--dockfix", help="dockfix executable (default: PATH, else python -m rewriter)")
    ap.add_argument("--python", help="interpreter for the baselines (default: the one dockfix runs on)")
    ap.add_argument("--compose-lint", dest="compose_lint", help="compose-lint executable")
    ap.add_argument("--dclint", help="dclint executable")
    ap.add_argument("--hadolint", help="hadolint executable")
    args = ap.parse_args(argv)
    if args.files < 1 or args.repeat < 1:
        ap.error("--files and --repeat must be at least 1")
    peer_repeat = args.peer_repeat or args.repeat
    groups = {"baseline", "dockfix", "compose-lint", "dclint", "hadolint", "cold"}
    only = {g.strip() for g in args.only.split(",") if g.strip()} or groups - {"cold"}
    if only - groups:
        ap.error(f"--only: unknown group(s) {', '.join(sorted(only - groups))}")

    load_before = os.getloadavg()[0]
    # Users' interpreters keep bytecode caches: without them every run compiles its modules again
    # (about 90 ms more for dockfix's editable install, which pip did not compile).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    repo = build_repo(args.files, args.rebuild, args.source)
    n_compose, n_docker, n_other = len(repo.compose), len(repo.dockerfiles), repo.n_other
    compose_paths = [str(p) for p in repo.compose]
    docker_paths = [str(p) for p in repo.dockerfiles]
    print(
        f"bench: {n_compose} Compose files + {n_docker} Dockerfiles + {n_other} other files in {repo.root} "
        f"(from {repo.source}); stdin file {repo.stdin_file}",
        file=sys.stderr,
    )

    # dockfix and the interpreter it runs on
    dockfix_prefix, dockfix_env, how = find_dockfix(args.dockfix, args.python or sys.executable)
    dockfix_env = {**(dockfix_env or os.environ), "DOCKFIX_CACHE_DIR": str(CACHE)}
    python = args.python or interpreter_of(dockfix_prefix[0]) or sys.executable
    if dockfix_prefix[1:2] == ["-m"]:
        dockfix_prefix[0] = python
    rows: list[Row] = []
    versions: list[str] = []
    t = args.timeout

    def progress(row: Row) -> None:
        status = row.error and f"n/a ({row.error})" or f"{fmt_secs(row.median)} s"
        print(f"bench: {row.tool}: {row.command[:90]} -> {status}", file=sys.stderr)

    # Cold starts (the baselines and `dockfix apply -`), for each install: a regular `pip install`
    # of this checkout into a fresh venv (what users get; the goal applies to it) and the dockfix
    # found above (usually the editable dev install). All rows are timed in turns, `--cold-repeat`
    # times, with wall and CPU time.
    cold: list[tuple[Row, Cmd]] = []
    cold_sets: list[tuple[str, Row | None, Row | None]] = []  # install, ruamel baseline, apply -
    if only & {"baseline", "dockfix", "cold"}:
        installs: list[tuple[list[str], dict[str, str] | None, str]] = []
        if not args.no_pip:
            exe, note = pip_venv(python)
            versions.append(f"pip-installed dockfix: {note}")
            if exe:
                installs.append(([exe], {**os.environ, "DOCKFIX_CACHE_DIR": str(CACHE)}, ""))
        installs.append((dockfix_prefix, dockfix_env, ""))
        for prefix, env, _ in installs:
            py = interpreter_of(prefix[0]) or python
            label = install_kind(py, env)
            versions.append(f"{label}: {show(prefix)} on {py}")
            base = None
            if only & {"baseline", "cold"}:
                for code in ("pass", "import ruamel.yaml"):
                    argv_ = [py, "-c", code]
                    base = Row("python", show(argv_) + f"  [{label}]", None)
                    cold.append((base, Cmd(argv_, repo.root)))
            stdin_rows: list[Row] = []
            if only & {"dockfix", "cold"}:
                # As an editor's format-on-save runs it: in the file's own directory, so a service's
                # build context (its Dockerfile, go.mod) is there to be read. The small fixture
                # (one image-only service) is the case the cold-start goal names.
                for name, src, cwd, note in (
                    (repo.stdin_file.name, repo.stdin_file, repo.stdin_dir,
                     f"stdin: {repo.stdin_file.relative_to(repo.source)}, run in {repo.stdin_dir.relative_to(repo.root)}/"),
                    ("compose.yaml", SMALL, repo.root, f"stdin: {SMALL.relative_to(ROOT)}"),
                ):
                    argv_ = prefix + ["apply", "-", "--stdin-filename", name]
                    row = Row("dockfix", show(argv_) + f" < {src.relative_to(src.parents[1])}  [{label}]", 1)
                    row.note = note
                    cold.append((row, Cmd(argv_, cwd, env=env, stdin=src.read_bytes())))
                    stdin_rows.append(row)
            cold_sets += [(label, base, r) for r in stdin_rows]
    if cold:
        measure_turns(cold, args.cold_repeat, t)
        for row, _ in cold:
            progress(row)

    check_repo: Row | None = None
    if "dockfix" in only:
        versions.append(f"dockfix: {show(dockfix_prefix)} via {how}; --version: {version_of(dockfix_prefix + ['--version'], dockfix_env)}")

        def dcmd(extra: list[str], **kw) -> Cmd:
            return Cmd(dockfix_prefix + extra, repo.root, env=dockfix_env, **kw)

        def processed(expected: int):
            """`check` exits 2 both for a bad command line and when some files could not be
            processed (the rest are still checked): accept the latter, with a note."""

            def validate(proc: subprocess.CompletedProcess[bytes]) -> str | None:
                text = (proc.stdout or b"") + b"\n" + (proc.stderr or b"")
                m = re.search(rb"(\d+) files? could not be processed", text)
                if proc.returncode == 2 and not m:
                    raise RunError(f"exit 2: {tail(proc.stderr) or tail(proc.stdout)}")
                if not m:
                    return None
                failed = int(m.group(1))
                warn = " (time covers only the rest)" if failed * 10 > expected else ""
                return f"{failed} of {expected} files could not be processed{warn}; exit {proc.returncode}"

            return validate

        check_ok = frozenset({0, 1, 2})

    if "dockfix" in only:
        files_all = n_compose + n_docker
        extra = ["check", "--no-cache", str(repo.root)]
        check_repo = Row("dockfix", show(dockfix_prefix + extra), files_all)
        check_repo.note = f"all cores ({os.cpu_count()}); Compose files and Dockerfiles"
        measure(check_repo, dcmd(extra, ok=check_ok), args.repeat, t, validate=processed(files_all))
        rows.append(check_repo)
        progress(check_repo)

        extra = ["check", "--no-cache", "--jobs", "1", str(repo.root)]
        row = Row("dockfix", show(dockfix_prefix + extra), files_all)
        measure(row, dcmd(extra, ok=check_ok), args.repeat, t, validate=processed(files_all))
        rows.append(row)
        progress(row)

        extra = ["check", str(repo.root)]
        fill = Row("dockfix", show(dockfix_prefix + extra) + "  (cache fill)", files_all)
        warm = Row("dockfix", show(dockfix_prefix + extra) + "  (warm cache)", files_all)
        fill.note = f"{CACHE_DIR}/ deleted before each run"
        measure_cached(fill, warm, dcmd(extra, ok=check_ok), args.repeat, t, CACHE, processed(files_all))
        shutil.rmtree(CACHE, ignore_errors=True)
        rows += [fill, warm]
        progress(fill)
        progress(warm)

        extra = ["check", "--no-cache"] + compose_paths
        row = Row("dockfix", show(dockfix_prefix + extra, n_compose), n_compose)
        row.note = "Compose files only, as given to compose-lint"
        measure(row, dcmd(extra, ok=check_ok), args.repeat, t, validate=processed(n_compose))
        rows.append(row)
        progress(row)

    peer_rows: dict[str, Row] = {}

    def scanned(expected: int):
        def validate(proc: subprocess.CompletedProcess[bytes]) -> str | None:
            out = proc.stdout.decode("utf-8", "replace") if proc.stdout else ""
            m = re.search(r"(\d+) files? scanned", out)
            if not m:
                return "could not confirm the file count"
            note = f"scanned {m.group(1)} of {expected} files"
            skipped = re.search(r"(\d+) skipped", out)
            gaps = re.search(r"(\d+) partly unlinted", out)
            return note + "".join(
                f", {x.group(1)} {what}" for x, what in ((skipped, "unparsable"), (gaps, "with coverage gaps")) if x
            ) + f"; exit {proc.returncode}"

        return validate

    def hadolint_parse_errors(proc: subprocess.CompletedProcess[bytes]) -> str | None:
        out = (proc.stdout or b"").decode("utf-8", "replace").splitlines()
        bad = {ln.split(":", 1)[0] for ln in out if re.match(r"^\S+:\d+:\d+ ", ln)}
        note = "Dockerfiles only (other tools: Compose files)"
        return note + (f"; {len(bad)} fail to parse (hadolint stops at the error)" if bad else "")

    def dclint_files(proc: subprocess.CompletedProcess[bytes]) -> str | None:
        out = (proc.stdout or b"").decode("utf-8", "replace")
        out = re.sub(r"\x1b\[[0-9;]*m", "", out)
        reported = {ln.strip() for ln in out.splitlines() if re.search(r"compose\.ya?ml$", ln.strip())}
        return f"problems reported in {len(reported)} files; exit {proc.returncode}"

    if "compose-lint" in only:
        exe = find_peer(args.compose_lint, PEERS / "venv" / "bin" / "compose-lint", "compose-lint")
        if exe is None:
            rows.append(Row("compose-lint", "", n_compose, error="not installed (bash bench/install-peers.sh)"))
        else:
            versions.append(f"compose-lint: {exe} ({version_of([exe, '--version'])})")
            # One process for all files: compose-lint takes any number of paths.
            # Exit 2 = some file could not be parsed or resolved; the others are still linted.
            argv_ = [exe, "check", "-q"] + compose_paths
            row = Row("compose-lint", show(argv_, n_compose), n_compose)
            cmd = Cmd(argv_, repo.root, ok=frozenset({0, 1, 2}))
            measure(row, cmd, peer_repeat, t, validate=scanned(n_compose))
            peer_rows["compose-lint"] = row
            rows.append(row)
        progress(rows[-1])

    if "dclint" in only:
        exe = find_peer(args.dclint, PEERS / "npm" / "node_modules" / ".bin" / "dclint", "dclint")
        if exe is None:
            rows.append(Row("dclint", "", n_compose, error="not installed (bash bench/install-peers.sh)"))
        else:
            versions.append(f"dclint: {exe} ({version_of([exe, '--version'])})")
            # All paths in one process, the same inputs as compose-lint. (`dclint . -r` would also
            # lint companion files such as compose-with-overrides.yaml: it matches compose*.y[a]ml.)
            argv_ = [exe] + compose_paths
            row = Row("dclint", show(argv_, n_compose), n_compose)
            measure(row, Cmd(argv_, repo.root), peer_repeat, t, validate=dclint_files)
            peer_rows["dclint"] = row
            rows.append(row)
        progress(rows[-1])

    if "hadolint" in only:
        exe = find_peer(args.hadolint, PEERS / "venv" / "bin" / "hadolint", "hadolint")
        if exe is None:
            rows.append(Row("hadolint", "", n_docker, error="not installed (bash bench/install-peers.sh)"))
        elif not docker_paths:
            rows.append(Row("hadolint", "", 0, error="no Dockerfiles in the repo"))
        else:
            versions.append(f"hadolint: {exe} ({version_of([exe, '--version'])})")
            argv_ = [exe, "--no-color"] + docker_paths
            row = Row("hadolint", show(argv_, n_docker), n_docker)
            measure(row, Cmd(argv_, repo.root), peer_repeat, t, validate=hadolint_parse_errors)
            rows.append(row)
        progress(rows[-1])

    # ------------------------------------------------------------------ report
    warm_row = next((r for r in rows if r.command.endswith("(warm cache)")), None)
    same_inputs = next((r for r in rows if (r.note or "").startswith("Compose files only")), None)
    cl = peer_rows.get("compose-lint")
    goals = []
    for label, base, stdin_row in cold_sets:
        rat = ratio(stdin_row and stdin_row.cpu_median, base and base.cpu_median)
        what = f"stdin cold start ({stdin_row.note}) / `import ruamel.yaml`, CPU time, {label}"
        goals.append(verdict(rat, GOAL_STDIN, what) if label == cold_sets[0][0] else
                     f"- {what}: {'n/a' if rat is None else f'{rat:.2f}'} (for information)")
    # Each verdict on the measure that cannot flatter it, the other shown beside it. dockfix
    # against compose-lint: CPU time (other work on the machine inflates wall time, most of all
    # for dockfix's workers on every core; on an idle machine its wall time is at most its CPU
    # time). Warm cache against the uncached run on every core: wall time (in CPU time, the
    # workers' sum would make the uncached run look slower than it is).
    def both(a: Row | None, b: Row | None) -> tuple[float | None, float | None]:
        return ratio(a and a.median, b and b.median), ratio(a and a.cpu_median, b and b.cpu_median)

    def shown(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.2f}"

    peer_wall, peer_cpu = both(same_inputs, cl)
    warm_wall, warm_cpu = both(warm_row, check_repo)
    goals += [
        verdict(peer_cpu, GOAL_PEER, "`dockfix check --no-cache` / compose-lint, on the same Compose files, CPU time",
                aim=0.5) + f"; wall time {shown(peer_wall)}",
        verdict(warm_wall, GOAL_WARM, "warm cached `dockfix check` / `dockfix check --no-cache`, wall time")
        + f"; CPU time {shown(warm_cpu)}",
    ]
    cpu = os.cpu_count()
    header = [
        f"# dockfix benchmark ({_dt.datetime.now().isoformat(timespec='seconds')})",
        "",
        f"- machine: {platform.platform()}, {cpu} cores; {platform.python_implementation()} {platform.python_version()}; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (other work on the machine skews times)",
        f"- repo: {n_compose} Compose files + {n_docker} Dockerfiles + {n_other} other files of the same examples, "
        f"cycled from `{repo.source}`",
        f"- timing: median of {args.repeat} runs (peers: {peer_repeat}; cold starts: {args.cold_repeat}, taken "
        "in turns, wall and CPU time) after one untimed warm-up; ratio = row median / `dockfix check --no-cache <repo>` "
        "median; the cold-start goal compares CPU times",
    ] + [f"- {v}" for v in versions]
    tables = [cold_table([r for r, _ in cold]) if cold else "", table(rows, check_repo) if rows else ""]
    report = "\n\n".join(["\n".join(header), *filter(None, tables), "Goals:\n" + "\n".join(goals)]) + "\n"
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print(f"bench: wrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
