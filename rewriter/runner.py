"""Run the pipeline over many files: per-file results as a tagged union, a process pool, writes.

One bad file never stops the others: every failure is caught at the per-file boundary and
becomes a :class:`Failed` result with ``path:line:col: message``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence

from rewriter.engine import FileOutcome, Options, process
from rewriter.errors import DockfixError, ParseError, WriteError
from rewriter.record import Record
from rewriter.source import SourceFile

MAX_FILE_BYTES = 10 * 1024 * 1024  # Compose files and Dockerfiles are small; refuse huge inputs


class Job(Record):
    __slots__ = ("path", "kind", "options", "fix", "stdin", "data", "companion")

    def __init__(self, path: str, kind: str, options: Options, fix: bool, stdin: bytes | None = None,
                 data: bytes | None = None, companion: str | None = None) -> None:
        self.path = path
        self.kind = kind
        self.options = options
        self.fix = fix
        self.stdin = stdin  # the content, when read from standard input
        self.data = data  # the content, when already read (for the cache)
        self.companion = companion  # the base Compose file of an override file


class Done:
    __slots__ = ("job", "data", "outcome", "written", "from_cache")

    def __init__(self, job: Job, data: bytes, outcome: FileOutcome, written: bool = False,
                 from_cache: bool = False) -> None:
        self.job = job
        self.data = data  # the bytes as read
        self.outcome = outcome
        self.written = written  # set once the fixed text is on disk
        self.from_cache = from_cache  # the outcome was read from .dockfix_cache, not computed


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
            st = os.stat(job.path)
            if not stat.S_ISREG(st.st_mode):
                raise ParseError("not a regular file", path=job.path)
            if st.st_size > MAX_FILE_BYTES:
                raise ParseError(f"file is too large ({st.st_size} bytes; the limit is {MAX_FILE_BYTES})",
                                 path=job.path, line=1, column=1)
            with open(job.path, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            if job.companion is not None:
                return b""  # an override file that does not exist yet is created
            raise ParseError("no such file", path=job.path) from None
        except IsADirectoryError:
            raise ParseError("is a directory", path=job.path) from None
        except PermissionError:
            raise ParseError("permission denied", path=job.path) from None
    if len(data) > MAX_FILE_BYTES:
        raise ParseError(f"input is too large (over {MAX_FILE_BYTES} bytes)", path=job.path, line=1, column=1)
    return data


def run_job(job: Job) -> Result:
    """The per-file boundary: never raises."""
    if job.kind == "unknown":
        return Skipped(job, "not a file kind dockfix knows by its name (use --file-type, or "
                            "--stdin-filename for standard input)")
    try:
        data = read_input(job)
        src = SourceFile.from_bytes(job.path, data)
        from rewriter import deps

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
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
    chunk = max(1, min(64, len(jobs) // (workers * 4)))
    out: list[Result] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for n, result in enumerate(pool.map(run_job, jobs, chunksize=chunk), start=1):
            out.append(result)
            if progress:
                progress(n, len(jobs))
    return out


def write_atomic(path: str, original: bytes, new: bytes) -> None:
    """Replace ``path`` with ``new`` atomically, keeping its mode; refuse if it changed on disk.

    ``original == b""`` for a file that did not exist: it is created (and must still not exist).
    """
    if not original and not os.path.lexists(path):
        _create_new(path, new)
        return
    if os.path.islink(path):
        raise WriteError("is a symbolic link; dockfix never writes through links", path=path)
    try:
        st = os.stat(path)
        with open(path, "rb") as fh:
            current = fh.read()
    except OSError as err:
        raise WriteError(f"cannot re-read before writing: {err.strerror}", path=path) from None
    if current != original:
        raise WriteError("file changed on disk while dockfix was working; not overwritten", path=path)
    # The new file replaces the old one by rename, which the kernel allows on a read-only file
    # (and root passes os.access): honour the mode bits ourselves.
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise WriteError("file is read-only; not overwritten", path=path)
    tmp = temp_copy(path, new)
    try:
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError:
            pass
        os.replace(tmp, path)
    except OSError as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise WriteError(f"cannot write: {err.strerror}; the file is unchanged", path=path) from None


def temp_copy(path: str, data: bytes) -> str:
    """``data`` written and synced to a new temporary file beside ``path`` (same file system, so
    the rename that follows is atomic); on failure nothing is left behind."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".dockfix-", suffix=".tmp", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise WriteError(f"cannot write: {err.strerror}; the file is unchanged", path=path) from None
    return tmp


def _create_new(path: str, data: bytes) -> None:
    tmp = temp_copy(path, data)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.link(tmp, path)  # fails if the file appeared meanwhile: never overwrite
    except FileExistsError:
        raise WriteError("file appeared on disk while dockfix was working; not overwritten", path=path) from None
    except OSError as err:
        raise WriteError(f"cannot create: {err.strerror}", path=path) from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
