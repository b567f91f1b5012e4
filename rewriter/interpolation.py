"""Compose interpolation and ``.env``: the leaf both the Compose surface and the project model read.

``${VAR}``, ``$VAR``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?msg}``, ``${VAR?msg}``,
``${VAR:+alt}``, ``${VAR+alt}`` and ``$$`` are read as compose-go reads them, with the variables
of the project's ``.env`` only (see :mod:`rewriter.compose_project` for why not the process
environment). Kept apart from the project model so that :mod:`rewriter.surfaces.compose` reads a
value without importing the module that imports it (the two used to import each other).
"""

from __future__ import annotations

import functools
import os
import re

from rewriter import deps, safefs

_VAR = functools.cache(lambda: re.compile(r"[A-Za-z_][A-Za-z0-9_]*"))


MAX_PROJECT_FILE_BYTES = 1024 * 1024  # a Compose file or .env beside the one being checked


def read_text(path: str, root: str) -> str | None:
    """A file of the project, or None when it cannot be read: missing, too large, outside the
    repository, behind a symbolic link, or not a regular file (a FIFO named by COMPOSE_FILE
    would block for ever)."""
    deps.touch(path)
    try:
        data = safefs.read_bytes(path, root, MAX_PROJECT_FILE_BYTES)
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


# -- .env ---------------------------------------------------------------------------------------


def _dotenv_cached(path: str, mtime: int, size: int) -> dict[str, str]:
    text = read_text(path, safefs.root_of_file(path))
    return parse_dotenv(text) if text is not None else {}


_dotenv_memo: dict[tuple[str, int, int], dict[str, str]] = {}


def dotenv(directory: str) -> dict[str, str]:
    """The variables of ``directory/.env`` ({} when there is none)."""
    path = os.path.join(directory, ".env")
    deps.touch(path)
    try:
        st = os.stat(path)
    except OSError:
        return {}
    key = (path, st.st_mtime_ns, st.st_size)
    found = _dotenv_memo.get(key)
    if found is None:
        found = _dotenv_cached(*key)
        _dotenv_memo.clear()  # one project at a time: keep the memo small
        _dotenv_memo[key] = found
    return found


def parse_dotenv(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines the way Compose's dotenv reads them: ``export`` and comments allowed,
    single quotes literal, double quotes with ``\\n`` escapes, `` #`` starting a comment after an
    unquoted value; earlier variables are substituted into later unquoted or double-quoted ones."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _VAR().fullmatch(name):
            continue
        value = value.strip()
        if value[:1] == "'" and value.count("'") >= 2:
            out[name] = value[1:value.index("'", 1)]
            continue
        if value[:1] == '"' and value.count('"') >= 2:
            body = value[1:value.rindex('"')]
            body = body.replace("\\n", "\n").replace('\\"', '"')
        else:
            cut = value.find(" #")
            body = (value[:cut] if cut != -1 else value).strip()
        if "$" in body:
            body = interpolate(body, out).value or ""
        out[name] = body
    return out


# -- interpolation ------------------------------------------------------------------------------


class Interpolated:
    """A value after interpolation: ``value`` (None when it cannot be known), what it came from."""

    __slots__ = ("value", "raw", "variables", "note")

    def __init__(self, value: str | None, raw: str, variables: tuple[str, ...], note: str) -> None:
        self.value = value
        self.raw = raw
        self.variables = variables
        self.note = note  # e.g. "API_MEM is not set in .env: its default"


def has_variables(text: str) -> bool:
    """Whether Compose substitutes anything in ``text`` (``$$`` is a literal dollar)."""
    if "$" not in text:
        return False
    return bool(re.search(r"\$(\{|[A-Za-z_])", text.replace("$$", "")))


def interpolate(text: str, env: dict[str, str]) -> Interpolated:
    """Substitute ``text`` as compose-go's template package does, from ``env`` only."""
    used: list[str] = []
    notes: list[str] = []
    unknown = [False]

    def lookup(name: str) -> str | None:
        used.append(name)
        return env.get(name)

    def expand(s: str, i: int, stop: str) -> tuple[str, int]:
        out: list[str] = []
        while i < len(s):
            c = s[i]
            if stop and c == stop:
                return "".join(out), i
            if c != "$":
                out.append(c)
                i += 1
                continue
            nxt = s[i + 1:i + 2]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "{":
                value, i = braced(s, i + 2)
                out.append(value)
                continue
            m = _VAR().match(s, i + 1)
            if m is None:
                out.append("$")
                i += 1
                continue
            found = lookup(m.group(0))
            if found is None:
                notes.append(f"{m.group(0)} is not set in .env")
                unknown[0] = True
            out.append(found or "")
            i = m.end()
        return "".join(out), i

    def braced(s: str, i: int) -> tuple[str, int]:
        m = _VAR().match(s, i)
        if m is None:
            unknown[0] = True
            end = s.find("}", i)
            return "", (len(s) if end == -1 else end + 1)
        name = m.group(0)
        j = m.end()
        op = ""
        for candidate in (":-", ":?", ":+", "-", "?", "+"):
            if s.startswith(candidate, j):
                op = candidate
                j += len(candidate)
                break
        arg = ""
        if op:
            arg, j = expand(s, j, "}")
        if j >= len(s) or s[j] != "}":
            unknown[0] = True
            return "", len(s)
        value = lookup(name)
        empty = value is None or (op.startswith(":") and value == "")
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                notes.append(f"{name} is not set in .env: its default '{arg}'")
                return arg, j + 1
            notes.append(f"{name}={value} in .env")
            return value, j + 1
        if op in (":?", "?"):
            if value is None or (op == ":?" and value == ""):
                notes.append(f"{name} is required and not set in .env")
                unknown[0] = True
                return "", j + 1
            notes.append(f"{name}={value} in .env")
            return value, j + 1
        if op in (":+", "+"):
            if empty if op == ":+" else value is None:
                return "", j + 1
            return arg, j + 1
        if value is None:
            notes.append(f"{name} is not set in .env")
            unknown[0] = True
            return "", j + 1
        notes.append(f"{name}={value} in .env")
        return value, j + 1

    value, _ = expand(text, 0, "")
    note = "; ".join(dict.fromkeys(notes))
    return Interpolated(None if unknown[0] else value, text, tuple(dict.fromkeys(used)), note)
