"""File I/O at the bottom of the layers: atomic replacement, a synced temporary copy beside a file.

Both the runner (fixed files) and the cache directory (:mod:`rewriter.cachedir`, which a
configuration read uses long before any file is processed) write through here; it imports only
``os``, ``stat``, the error tree and :mod:`rewriter.safefs`, so neither needs the other.
"""

from __future__ import annotations

import os
import stat

from rewriter import safefs
from rewriter.errors import WriteError

MAX_FILE_BYTES = 10 * 1024 * 1024  # Compose files and Dockerfiles are small; refuse huge inputs


def write_atomic(path: str, original: bytes, new: bytes, root: str | None = None) -> None:
    """Replace ``path`` with ``new`` atomically, keeping its owner and mode (setuid and setgid
    bits included); refuse if it changed on disk, and refuse any target outside the repository
    root, behind a symbolic link or that is not a regular file (:mod:`rewriter.safefs`).

    ``original == b""`` for a file that did not exist: it is created (and must still not exist).
    ``root`` is the repository root (default: the file's own, see :func:`rewriter.safefs.root_for`).
    """
    try:
        safefs.check_write_target(path, root)
    except safefs.Refused as err:
        raise WriteError(f"{err.strerror}; not written", path=path) from None
    except OSError as err:
        raise WriteError(f"cannot write: {err.strerror}", path=path) from None
    if not original and not os.path.lexists(path):
        _create_new(path, new)
        return
    try:
        current = safefs.read_bytes(path, root, max(len(original), MAX_FILE_BYTES))
        st = os.lstat(path)
    except safefs.Refused as err:
        raise WriteError(f"{err.strerror}; not written", path=path) from None
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
        # chown first: changing the owner clears the setuid and setgid bits, so the mode
        # (those bits included) is set after it
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError:
            pass
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        os.replace(tmp, path)  # rename replaces a link put there meanwhile; it never writes through one
    except OSError as err:
        _discard(tmp)
        raise WriteError(f"cannot write: {err.strerror}; the file is unchanged", path=path) from None


def temp_copy(path: str, data: bytes) -> str:
    """``data`` written and synced to a new temporary file beside ``path`` (same file system, so
    the rename that follows is atomic); on failure nothing is left behind."""
    import tempfile  # lazy: start-up (tempfile imports shutil and random, ~4 ms)

    fd, tmp = tempfile.mkstemp(prefix=".dockfix-", suffix=".tmp", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:
        _discard(tmp)
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
        _discard(tmp)


def _discard(tmp: str) -> None:
    """Remove a temporary copy; one already gone (or not removable) is left to the next run."""
    try:
        os.unlink(tmp)
    except OSError:
        pass
