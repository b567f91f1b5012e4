"""Run the pipeline over many files: per-file results as a tagged union, a process pool, writes.

One bad file never stops the others: every failure is caught at the per-file boundary and
becomes a :class:`Failed` result with ``path:line:col: message``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from rewriter import deps, safefs
from rewriter.engine import FileOutcome, Options, process
from rewriter.errors import DockfixError, ParseError
from rewriter.fileio import MAX_FILE_BYTES
from rewriter.fileio import temp_copy as temp_copy  # re-exported: the file I/O leaf owns them
from rewriter.fileio import write_atomic as write_atomic
from rewriter.record import Record
from rewriter.source import SourceFile

class Job(Record):
    __slots__ = ("path", "kind", "options", "fix", "stdin", "data", "companion", "skip")

    def __init__(self, path: str, kind: str, options: Options, fix: bool, stdin: bytes | None = None,
                 data: bytes | None = None, companion: str | None = None, skip: str = "") -> None:
        self.path = path
        self.kind = kind
        self.options = options
        self.fix = fix
        self.stdin = stdin  # the content, when read from standard input
        self.data = data  # the content, when already read (for the cache)
        self.companion = companion  # the base Compose file of an override file
        self.skip = skip  # why the file is not checked (a "none" role in the config)


class Done:
    __slots__ = ("job", "data", "outcome", "written", "from_cache")

    def __init__(self, job: Job, data: bytes, outcome: FileOutcome, written: bool = False,
                 from_cache: bool = False) -> None:
        self.job = job
        self.data = data  # the bytes as read
        self.outcome = outcome
        self.written = written  # set once the fixed text is on disk
        self.from_cache = from_cache  # the outcome was read from the cache, not computed


class Failed(Record):
    __slots__ = ("job", "error")

    def __init__(self, job: Job, error: DockfixError) -> None:
        self.job = job
        self.error = error


class Skipped(Record):
    __slots__ = ("job", "reason")

    def __init__(self, job: Job, reason: str) -> None:
        self.job = job
        self.reason = reason


Result = Done | Failed | Skipped


def read_input(job: Job) -> bytes:
    given = job.stdin if job.stdin is not None else job.data
    if given is not None:
        data = given
    else:
        try:
            data = safefs.read_bytes(job.path, job_root(job), MAX_FILE_BYTES)
        except safefs.Refused as err:
            raise ParseError(err.strerror or "refused", path=job.path, line=1 if isinstance(err, safefs.TooLarge) else 0,
                             column=1 if isinstance(err, safefs.TooLarge) else 0) from None
        except FileNotFoundError:
            if job.companion is not None:
                return b""  # an override file that does not exist yet is created
            raise ParseError("no such file", path=job.path) from None
        except IsADirectoryError:
            raise ParseError("is a directory", path=job.path) from None
        except PermissionError:
            raise ParseError("permission denied", path=job.path) from None
        except OSError as err:
            raise ParseError(f"cannot read: {err.strerror}", path=job.path) from None
    if len(data) > MAX_FILE_BYTES:
        raise ParseError(f"input is too large (over {MAX_FILE_BYTES} bytes)", path=job.path, line=1, column=1)
    return data


def job_root(job: Job) -> str:
    """The repository root a job's file must lie in: its own, or for an override file (whose
    name comes from the profile) the root of the base Compose file it belongs to."""
    return safefs.root_of_file(job.companion if job.companion is not None else job.path)


def run_job(job: Job) -> Result:
    """The per-file boundary: never raises."""
    if job.skip:
        return Skipped(job, job.skip)
    if job.kind == "unknown":
        return Skipped(job, "not a file kind dockfix knows by its name (use --file-type, or "
                            "--stdin-filename for standard input)")
    try:
        data = read_input(job)
        src = SourceFile.from_bytes(job.path, data)
        with deps.recording() as touched:
            companion = None
            if job.companion is not None:
                deps.touch(job.companion)
                companion = SourceFile.from_bytes(job.companion, read_input(Job(job.companion, "compose", job.options, False)))
            outcome = process(job.kind, src, job.options, fix=job.fix, companion=companion)
        outcome.depends = deps.signatures(touched)
        return Done(job, data, outcome)
    except DockfixError as err:
        if not err.path:
            err.path = job.path
        return Failed(job, err)
    except RecursionError:
        return Failed(job, ParseError("input nests too deeply", path=job.path, line=1, column=1))
    except Exception as err:  # noqa: BLE001 - the per-file boundary: report, never crash the run
        return Failed(job, DockfixError(f"internal error: {type(err).__name__}: {err}", path=job.path))


def run_all(jobs: Sequence[Job], workers: int,
            progress: Callable[[int, int], None] | None = None) -> list[Result]:
    """Run jobs in a process pool (serially for one worker or few files), in input order."""
    if workers <= 1 or len(jobs) < 8:
        results = []
        for n, job in enumerate(jobs, start=1):
            results.append(run_job(job))
            if progress:
                progress(n, len(jobs))
        return results
    import multiprocessing  # lazy: start-up (a pool only for many files)
    from concurrent.futures import ProcessPoolExecutor  # lazy: start-up

    ctx = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
    chunk = max(1, min(64, len(jobs) // (workers * 4)))
    out: list[Result] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for n, result in enumerate(pool.map(run_job, jobs, chunksize=chunk), start=1):
            out.append(result)
            if progress:
                progress(n, len(jobs))
    return out
