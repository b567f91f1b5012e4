"""The one rule for every path dockfix opens because a repository names it.

dockfix runs on repositories it must not trust (a pull request bot, a CI job on a fork, an editor
opening a fresh clone), and a repository names files: an ``extends: file:``, a ``build:`` context
and its Dockerfile and go.mod, a config-mount source, a config file's profile name that becomes the
override file ``compose.<profile>.yaml``, and the files a directory walk finds. Every such path goes
through this module, which allows it only when

- it lies inside the **repository root** (see :func:`root_for`), after ``..`` is resolved;
- no directory between the root and the file is a symbolic link, and the file itself is not one;
- it is a regular file: a FIFO, a device or a socket is refused before it is opened (a FIFO or
  ``/dev/stdin`` blocks a reader forever, ``/dev/zero`` never ends);
- it is read with a size cap (10 MB, the input limit).

The check and the open are one step: each directory below the root is opened with
``O_NOFOLLOW|O_DIRECTORY`` relative to its parent (``openat``), the file is ``lstat``-ed and then
opened with ``O_NOFOLLOW|O_NONBLOCK`` and ``fstat``-ed, so swapping a directory or the file for a
link or a FIFO between the check and the read gains nothing. Writes check their target the same
way (:func:`check_write_target`).

This module imports nothing but ``os``, ``stat`` and ``errno``: it is on the format-on-save path.
"""

from __future__ import annotations

import errno
import os
import stat

MAX_BYTES = 10 * 1024 * 1024  # the input limit: Compose files and Dockerfiles are small

CHECKOUT_MARKER = ".git"  # a directory in a clone, a file in a worktree or submodule
CONFIG_MARKERS = (".dockfix.toml", "dockfix.toml", "pyproject.toml")

_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIR = _O_READ | getattr(os, "O_DIRECTORY", 0)
_AT = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd and _O_NOFOLLOW != 0

_roots: dict[str, str] = {}
_checkouts: dict[str, str | None] = {}


class Refused(OSError):
    """A path dockfix will not open; ``strerror`` says why, in words for a message."""

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(errno.EPERM, reason, path)


class TooLarge(Refused):
    """A file over the size cap."""


def root_for(directory: str) -> str:
    """The repository root for files in ``directory``.

    The closest directory at or above it holding ``.git`` (the checkout); outside a checkout,
    the closest holding a config file (``.dockfix.toml``, ``dockfix.toml``, ``pyproject.toml``);
    failing that, the working directory when ``directory`` is inside it, else ``directory``
    itself. A clone cannot contain a ``.git`` of its own making (git refuses the name), so a
    repository cannot move its root; a config file can only make it narrower.
    """
    directory = os.path.abspath(directory)
    found = _roots.get(directory)
    if found is None:
        found = _checkout_of(directory) or _closest(directory, CONFIG_MARKERS) or _cwd_or(directory)
        _roots[directory] = found
    return found


def _checkout_of(directory: str) -> str | None:
    """The closest directory at or above ``directory`` holding ``.git``, or None. Every directory
    passed on the way up is remembered with the answer, so a walk of 850 directories below one
    checkout looks into each directory once, not into every ancestor of each."""
    passed = []
    current = directory
    while True:
        if current in _checkouts:
            found = _checkouts[current]
            break
        if os.path.lexists(os.path.join(current, CHECKOUT_MARKER)):
            found = _checkouts[current] = current
            break
        passed.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            found = None
            break
        current = parent
    for below in passed:
        _checkouts[below] = found
    return found


def _closest(directory: str, markers: tuple[str, ...]) -> str | None:
    current = directory
    while True:
        if any(os.path.lexists(os.path.join(current, m)) for m in markers):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _cwd_or(directory: str) -> str:
    try:
        cwd = os.getcwd()
    except OSError:
        return directory
    return cwd if inside(directory, cwd) else directory


def root_of_file(path: str) -> str:
    """The repository root of the file at ``path`` (see :func:`root_for`)."""
    return root_for(os.path.dirname(os.path.abspath(path)))


def inside(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or below it, comparing normalised absolute paths (no link is
    followed: links below the root are refused by every open, so the text decides)."""
    path, root = os.path.abspath(path), os.path.abspath(root)
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def describe(path: str, root: str) -> str:
    """``path`` as a message shows it: relative to the root when inside it."""
    return os.path.relpath(path, root) if inside(path, root) else path


def _parts(path: str, root: str) -> list[str]:
    """The names below ``root`` that lead to ``path`` (both absolute and normalised)."""
    if path == root or not path.startswith(root if root.endswith(os.sep) else root + os.sep):
        raise Refused(f"is outside the repository ({root})", path)
    return path[len(root):].lstrip(os.sep).split(os.sep)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def _refuse_kind(mode: int, path: str, part: str = "") -> Refused:
    if part:
        return Refused(f"'{part}' in its path is {_kind(mode)}; dockfix never reads or writes through links", path)
    if stat.S_ISLNK(mode):
        return Refused("is a symbolic link; dockfix never reads or writes through links", path)
    if stat.S_ISDIR(mode):
        return Refused("is a directory", path)
    return Refused(f"is {_kind(mode)}, not a regular file", path)


def _open_dirs(path: str, parts: list[str], root: str) -> int:
    """An fd of the directory holding ``parts[-1]``, each step opened without following links."""
    fd = os.open(root, _O_DIR)
    try:
        for part in parts[:-1]:
            try:
                new = os.open(part, _O_DIR | _O_NOFOLLOW, dir_fd=fd)
            except OSError as err:
                if err.errno == errno.ENOENT:
                    raise FileNotFoundError(errno.ENOENT, "no such file", path) from None
                if err.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    raise _refuse_kind(st.st_mode, path, part) from None
                raise NotADirectoryError(errno.ENOTDIR, f"'{part}' in its path is not a directory", path) from None
            os.close(fd)
            fd = new
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(path: str, root: str | None = None) -> tuple[int, os.stat_result]:
    """An fd open for reading on the regular file ``path`` inside ``root``, and its fstat.

    Raises :class:`Refused` (outside the root, a link on the way, not a regular file) or the
    ordinary OSError (FileNotFoundError, PermissionError...).
    """
    path = os.path.abspath(path)
    root = os.path.abspath(root) if root is not None else root_for(os.path.dirname(path))
    parts = _parts(path, root)
    if not _AT:
        return _open_regular_walk(path, parts, root)
    dfd = _open_dirs(path, parts, root)
    try:
        try:
            before = os.stat(parts[-1], dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            raise FileNotFoundError(errno.ENOENT, "no such file", path) from None
        if not stat.S_ISREG(before.st_mode):
            raise _refuse_kind(before.st_mode, path)
        try:
            fd = os.open(parts[-1], _O_READ | _O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise Refused("is a symbolic link; dockfix never reads or writes through links", path) from None
            raise
    finally:
        os.close(dfd)
    return _checked(fd, before, path)


def _open_regular_walk(path: str, parts: list[str], root: str) -> tuple[int, os.stat_result]:
    """:func:`open_regular` where ``openat`` is missing: lstat every step, then open and compare."""
    current = root
    for part in parts[:-1]:
        current = os.path.join(current, part)
        st = os.lstat(current)
        if not stat.S_ISDIR(st.st_mode):
            if stat.S_ISLNK(st.st_mode):
                raise _refuse_kind(st.st_mode, path, part)
            raise NotADirectoryError(errno.ENOTDIR, f"'{part}' in its path is not a directory", path)
    before = os.lstat(path)
    if not stat.S_ISREG(before.st_mode):
        raise _refuse_kind(before.st_mode, path)
    fd = os.open(path, _O_READ | _O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    return _checked(fd, before, path)


def _checked(fd: int, before: os.stat_result, path: str) -> tuple[int, os.stat_result]:
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            raise Refused("changed while dockfix was opening it", path)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_bytes(path: str, root: str | None = None, limit: int = MAX_BYTES) -> bytes:
    """The content of the regular file ``path`` inside ``root`` (default: its repository root),
    at most ``limit`` bytes (:class:`TooLarge` beyond)."""
    fd, st = open_regular(path, root)
    try:
        if st.st_size > limit:
            raise TooLarge(f"file is too large ({st.st_size} bytes; the limit is {limit})", path)
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, min(limit + 1 - total, 1 << 20) or 1)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise TooLarge(f"file is too large (over {limit} bytes)", path)
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_head(path: str, size: int, root: str | None = None) -> bytes:
    """The first ``size`` bytes of a regular file (a shebang sniff); the same checks as reading."""
    fd, _ = open_regular(path, root)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def is_regular(path: str, root: str | None = None) -> bool:
    """Whether :func:`read_bytes` could open ``path`` (a regular file reached without links)."""
    try:
        fd, _ = open_regular(path, root)
    except OSError:
        return False
    os.close(fd)
    return True


def exists_inside(path: str, root: str) -> bool | None:
    """Whether ``path`` exists, or None when it is (or resolves) outside ``root``: whether a path
    outside the repository exists is not the repository's business, so it is never told."""
    if not inside(path, root):
        return None
    real = os.path.realpath(path)
    if not inside(real, os.path.realpath(root)):
        return None
    return os.path.lexists(real)


def check_write_target(path: str, root: str | None = None) -> None:
    """Refuse a write to ``path`` unless it is inside ``root``, reached through real directories
    only, and is not itself a link or anything but a regular file (or does not exist yet)."""
    path = os.path.abspath(path)
    root = os.path.abspath(root) if root is not None else root_for(os.path.dirname(path))
    parts = _parts(path, root)
    current = root
    for part in parts[:-1]:
        current = os.path.join(current, part)
        st = os.lstat(current)
        if not stat.S_ISDIR(st.st_mode):
            raise _refuse_kind(st.st_mode, path, part)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise _refuse_kind(st.st_mode, path)
