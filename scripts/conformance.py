#!/usr/bin/env python3
"""Run the conformance checks (tests/conformance.py) over a whole corpus and print a table.

    python scripts/conformance.py [CORPUS] [--profile prod] [-v]

CORPUS defaults to ../shared/corpus next to the repository; it needs a MANIFEST.json listing
``path`` and ``kind`` for each file. Nothing is written. Exit 1 on any violation, 0 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))  # the checks live with the tests

import conformance  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=os.path.join(HERE, "..", "..", "shared", "corpus"))
    parser.add_argument("--profile", default="prod")
    parser.add_argument("-v", "--verbose", action="store_true", help="list refused and skipped files")
    args = parser.parse_args(argv)
    root = os.path.normpath(args.corpus)
    started = time.perf_counter()
    results = []
    for path, kind in conformance.corpus_files(root):
        with open(path, "rb") as fh:
            data = fh.read()
        results.append(conformance.check_file(path, kind, data, profile=args.profile))
    elapsed = time.perf_counter() - started
    print(conformance.summary_table(root, results))
    bad = [r for r in results if r.violations]
    for r in results:
        if args.verbose and r.status in ("refused", "skipped"):
            print(f"{os.path.relpath(r.path, root)}: {r.status}: {r.reason}")
    for r in bad:
        for violation in r.violations:
            print(f"VIOLATION {os.path.relpath(r.path, root)}: {violation}")
    print(f"{len(results)} files, {sum(len(r.violations) for r in bad)} violations in {len(bad)} files, "
          f"{elapsed:.1f}s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
