"""Which other files a file's result depended on, so the cache can tell when it is stale.

A Compose service's Go facts come from its Dockerfile and go.mod, a Dockerfile's findings from the
Compose files that build it, an ``extends`` from another file, a config mount from whether its
source exists. Code that reads (or looks for) such a file calls :func:`touch`; the runner records
what one file's processing touched, and the cache keeps each path's size and modification time
(or its absence) beside the result.
"""

from __future__ import annotations

import os

Signature = tuple[int, int] | None  # (size, mtime_ns), or None for "did not exist"

_recording: list[set[str]] = []


class recording:  # noqa: N801 (used like a function: ``with recording() as touched``)
    """Collect the paths touched while the block runs (nested blocks each get their own).

    A class rather than ``@contextmanager``: contextlib is not otherwise loaded on the cold path.
    """

    def __enter__(self) -> set[str]:
        seen: set[str] = set()
        _recording.append(seen)
        return seen

    def __exit__(self, *exc: object) -> None:
        _recording.pop()


def touch(path: str) -> None:
    if _recording:
        _recording[-1].add(os.path.abspath(path))


def signature(path: str) -> Signature:
    try:
        st = os.lstat(path)  # never through a link: dockfix reads none (rewriter.safefs)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def signatures(paths: set[str]) -> dict[str, Signature]:
    return {path: signature(path) for path in sorted(paths)}


def unchanged(recorded: dict[str, Signature]) -> bool:
    return all(signature(path) == sig for path, sig in recorded.items())
