"""Profiles (what each container must have) and configuration discovery.

Built-in profiles are data, written the way a user writes their own in ``[tool.dockfix.profiles]``;
``extends`` layers one on another. Every key and value is checked when the file is loaded, so a
typo is a ConfigError that names the file, the line and the key (exit code 2), never a silent
default.

Discovery follows ruff: for each file, the closest ``.dockfix.toml``, ``dockfix.toml`` or
``pyproject.toml`` with a ``[tool.dockfix]`` table (in that order within one directory) wins;
parents are not merged.
"""

from __future__ import annotations

import os
import re

from rewriter.errors import ConfigError
from rewriter.record import Record
from rewriter.sizes import ByteSize

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from typing import Any

DEFAULT_PROFILE = "prod"
CONFIG_NAMES = (".dockfix.toml", "dockfix.toml", "pyproject.toml")

BUILTIN_PROFILES: dict[str, dict[str, object]] = {
    "prod": {
        "tmpfs-size": "64m",
        "tmpfs-mode": "1777",
        "nofile": 65536,
        "mem-limit": "512m",
        "swap": "off",
        "pids-limit": 512,
        "gomemlimit-ratio": 0.9,
    },
    "staging": {"extends": "prod"},
    "dev": {
        "tmpfs-size": "256m",
        "tmpfs-mode": "1777",
        "nofile": 65536,
        "mem-limit": "none",
        "swap": "keep",
        "pids-limit": "none",
        "gomemlimit-ratio": 0.9,
    },
}

PROFILE_KEYS = {"extends", "tmpfs-size", "tmpfs-mode", "nofile", "mem-limit", "swap", "pids-limit",
                "gomemlimit-ratio", "config-mounts"}
TOP_KEYS = {"profile", "select", "ignore", "extend-select", "unsafe-fixes", "profiles", "services",
            "exclude", "extend-exclude", "respect-gitignore", "compose-files", "roles"}
ROLES = ("prod", "dev", "none")  # a deployed file (the run's profile), the dev profile, not checked
MAX_NOFILE = 1048576  # fs.nr_open default; a higher hard limit fails at container start
# A profile name becomes part of a file name (``compose.<profile>.yaml``), so it is a plain name:
# "/../../home/u/.config/gh/hosts" once made dockfix read and append to a file outside the repository.
PROFILE_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
PROFILE_NAME_RULE = "a profile name is 1 to 64 letters, digits, '-' or '_'"


def check_profile_name(name: str, path: str = "<command line>", line: int = 0, column: int = 0) -> str:
    """``name`` if it is a plain profile name, else a ConfigError that says the rule."""
    if not PROFILE_NAME_RE.fullmatch(name):
        raise ConfigError(f"invalid profile name {name!r}: {PROFILE_NAME_RULE}", path=path, line=line,
                          column=column)
    return name


class ConfigMount(Record):
    __slots__ = ("source", "target", "services")

    def __init__(self, source: str, target: str, services: tuple[str, ...] = ("*",)) -> None:
        self.source = source
        self.target = target
        self.services = services


class ServiceConfig(Record):
    """Per-service facts the files cannot tell (``[tool.dockfix.services.NAME]``)."""

    __slots__ = ("name", "go", "go_version")

    def __init__(self, name: str, go: bool | None = None, go_version: tuple[int, int] | None = None) -> None:
        self.name = name
        self.go = go  # None: detect from the build
        self.go_version = go_version


SERVICE_KEYS = {"go", "go-version"}


class Profile(Record):
    __slots__ = (
        "name", "origin", "tmpfs_size", "tmpfs_mode", "nofile", "mem_limit", "swap_off", "pids_limit",
        "gomemlimit_ratio", "config_mounts", "user_keys", "user_file", "role",
    )

    def __init__(self, name: str, origin: str, tmpfs_size: ByteSize | None, tmpfs_mode: int,
                 nofile: int | None, mem_limit: ByteSize | None, swap_off: bool, pids_limit: int | None,
                 gomemlimit_ratio: float, config_mounts: tuple[ConfigMount, ...] = (),
                 user_keys: tuple[str, ...] = (), user_file: str = "", role: str = "") -> None:
        self.name = name
        self.origin = origin  # "built-in" or the config file path
        self.tmpfs_size = tmpfs_size
        self.tmpfs_mode = tmpfs_mode
        self.nofile = nofile
        self.mem_limit = mem_limit
        self.swap_off = swap_off
        self.pids_limit = pids_limit
        self.gomemlimit_ratio = gomemlimit_ratio
        self.config_mounts = config_mounts
        self.role = role  # why a file got this profile, e.g. "instead of prod, for a test or CI file under 'tests/'"
        # The keys a [tool.dockfix] profile sets itself (or through a user profile it extends):
        # their values are the user's choice, which makes a fix using them safe. A key that only a
        # built-in profile gives is a default for unknown workloads (see transforms/memory.py).
        self.user_keys = user_keys
        self.user_file = user_file  # the config file those keys are in

    def chose(self, key: str) -> bool:
        """Whether the user set ``key`` (e.g. ``mem-limit``) in their own profile."""
        return key in self.user_keys

    def source(self, key: str) -> str:
        """Where a profile value comes from, for messages: ``mem-limit in profile edge
        (pyproject.toml)`` or ``the built-in profile prod's default``."""
        if key in self.user_keys:
            from rewriter.source import display_path  # lazy: start-up

            return f"{key} in profile {self.name} ({display_path(self.user_file)})"
        return f"profile {self.name}'s built-in default"

    @property
    def described(self) -> str:
        role = f" {self.role}" if self.role else ""
        if self.origin == "built-in":
            return f"profile {self.name}{role}"
        from rewriter.source import display_path  # lazy: start-up

        return f"profile {self.name} from {display_path(self.origin)}{role}"


class Config(Record):
    __slots__ = (
        "path", "profile", "select", "ignore", "unsafe_fixes", "profiles", "exclude", "respect_gitignore",
        "services", "compose_files", "roles",
    )

    def __init__(self, path: str, profile: str = DEFAULT_PROFILE, select: tuple[str, ...] = (),
                 ignore: tuple[str, ...] = (), unsafe_fixes: bool = False,
                 profiles: dict[str, dict[str, object]] | None = None, exclude: tuple[str, ...] = (),
                 respect_gitignore: bool = True, services: tuple[ServiceConfig, ...] = (),
                 compose_files: tuple[tuple[str, ...], ...] = (),
                 roles: tuple[tuple[str, str], ...] = ()) -> None:
        self.path = path  # "" when no file was found
        self.profile = profile
        self.select = select
        self.ignore = ignore
        self.unsafe_fixes = unsafe_fixes
        self.profiles = profiles if profiles is not None else {}
        self.exclude = exclude
        self.respect_gitignore = respect_gitignore
        self.services = services
        self.compose_files = compose_files  # -f chains, absolute paths
        self.roles = roles  # (glob relative to the config's directory, role), first match wins

    def resolve_profile(self, name: str | None = None) -> Profile:
        return resolve_profile(name or self.profile, self.profiles, self.path)


def _line_of(text: str, key: str) -> int:
    m = re.search(rf"(?:^\s*|\.)[\"']?{re.escape(key)}[\"']?\s*=", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else 1


def _value_position(text: str, key: str) -> tuple[int, int]:
    """(line, column) of the value of ``key = value`` in a TOML text (the key's line, column 1,
    when the value cannot be told)."""
    m = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=[ \t]*", text, re.MULTILINE)
    if m is None:
        return _line_of(text, key), 1
    return text.count("\n", 0, m.end()) + 1, m.end() - (text.rfind("\n", 0, m.end()) + 1) + 1


def _key_position(text: str, name: str) -> tuple[int, int]:
    """(line, column) where a profile table named ``name`` is written (``[profiles."name"]``)."""
    for quoted in (f'"{name}"', f"'{name}'", name):
        at = text.find(f"profiles.{quoted}")
        if at >= 0:
            at += len("profiles.")
            return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
    return _line_of(text, name), 1


def _raw_profile(name: str, user: dict[str, dict[str, object]]) -> tuple[dict[str, object], str]:
    if name in user:
        return user[name], "user"
    if name in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[name], "built-in"
    known = sorted(set(BUILTIN_PROFILES) | set(user))
    raise ConfigError(f"unknown profile '{name}' (known: {', '.join(known)})")


def resolve_profile(name: str, user: dict[str, dict[str, object]], origin_path: str = "") -> Profile:
    check_profile_name(name, origin_path or "<command line>")
    chain: list[str] = []
    merged: dict[str, object] = {}
    current: str | None = name
    origin = "built-in"
    layers: list[dict[str, object]] = []
    user_keys: set[str] = set()
    while current is not None:
        if current in chain:
            raise ConfigError(f"profile '{name}': 'extends' loops ({' -> '.join(chain + [current])})",
                              path=origin_path)
        chain.append(current)
        try:
            raw, kind = _raw_profile(current, user)
        except ConfigError as err:
            err.path = err.path or origin_path
            raise
        if kind == "user" and current == name:
            origin = origin_path or "config"
        if kind == "user":
            user_keys.update(k for k in raw if k != "extends")
        layers.append(raw)
        parent = raw.get("extends")
        if parent is not None and not isinstance(parent, str):
            raise ConfigError(f"profile '{current}': 'extends' must be a profile name", path=origin_path)
        # a user profile named like a built-in extends the built-in of that name by default
        if parent is None and kind == "user" and current in BUILTIN_PROFILES and current not in chain[:-1]:
            layers.append(BUILTIN_PROFILES[current])
            builtin_parent = BUILTIN_PROFILES[current].get("extends")
            parent = builtin_parent if isinstance(builtin_parent, str) else None
        current = parent
    for layer in reversed(layers):
        merged.update({k: v for k, v in layer.items() if k != "extends"})
    where = f"profile '{name}'"
    return Profile(
        name=name,
        origin=origin,
        tmpfs_size=_size_or_none(merged.get("tmpfs-size"), f"{where}: tmpfs-size", origin_path),
        tmpfs_mode=_mode(merged.get("tmpfs-mode", "1777"), where, origin_path),
        nofile=_int_or_none(merged.get("nofile"), f"{where}: nofile", origin_path, 1, MAX_NOFILE),
        mem_limit=_size_or_none(merged.get("mem-limit"), f"{where}: mem-limit", origin_path, minimum=6 * 1024 * 1024),
        swap_off=_swap(merged.get("swap", "off"), where, origin_path),
        pids_limit=_int_or_none(merged.get("pids-limit"), f"{where}: pids-limit", origin_path, 16, None),
        gomemlimit_ratio=_ratio(merged.get("gomemlimit-ratio", 0.9), where, origin_path),
        config_mounts=_mounts(merged.get("config-mounts", []), where, origin_path),
        user_keys=tuple(sorted(user_keys)),  # sorted: the cache key is the options' repr
        user_file=origin_path if user_keys else "",
    )


def _size_or_none(value: object, where: str, path: str, minimum: int = 1) -> ByteSize | None:
    if value is None or value is False or value == "none":
        return None
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a size such as \"64m\" or \"none\", got {value!r}", path=path)
    size = ByteSize(value) if isinstance(value, int) else ByteSize.parse_docker(str(value))
    if size is None:
        raise ConfigError(f"{where}: '{value}' is not a size Docker accepts (use 64m, 1g, 512mb or bytes)", path=path)
    if size.bytes < minimum:
        raise ConfigError(f"{where}: '{value}' is below the minimum of {ByteSize(minimum).docker()}", path=path)
    return size


def _int_or_none(value: object, where: str, path: str, low: int, high: int | None) -> int | None:
    if value is None or value is False or value == "none":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: expected a whole number or \"none\", got {value!r}", path=path)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{where}: {value} is out of range (must be {bound})", path=path)
    return value


def _mode(value: object, where: str, path: str) -> int:
    text = str(value)
    if not isinstance(value, str) or not re.fullmatch(r"0?[0-7]{3,4}", text):
        raise ConfigError(f"{where}: tmpfs-mode '{value}' must be an octal mode written as a string, e.g. \"1777\"", path=path)
    return int(text, 8)


def _swap(value: object, where: str, path: str) -> bool:
    if value not in ("off", "keep"):
        raise ConfigError(f"{where}: swap must be \"off\" or \"keep\", got {value!r}", path=path)
    return value == "off"


def _ratio(value: object, where: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.1 <= float(value) <= 1.0:
        raise ConfigError(f"{where}: gomemlimit-ratio must be a number between 0.1 and 1.0, got {value!r}", path=path)
    return float(value)


def _mounts(value: object, where: str, path: str) -> tuple[ConfigMount, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: config-mounts must be an array of tables", path=path)
    out = []
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: config-mounts[{n}] must be a table", path=path)
        unknown = set(item) - {"source", "target", "services"}
        if unknown:
            raise ConfigError(f"{where}: config-mounts[{n}]: unknown key '{sorted(unknown)[0]}'", path=path)
        source, target = item.get("source"), item.get("target")
        if not isinstance(source, str) or not isinstance(target, str) or not target.startswith("/"):
            raise ConfigError(f"{where}: config-mounts[{n}] needs 'source' and an absolute 'target'", path=path)
        services = item.get("services", ["*"])
        if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
            raise ConfigError(f"{where}: config-mounts[{n}].services must be a list of globs", path=path)
        out.append(ConfigMount(source, target, tuple(services)))
    return tuple(out)


def _codes(value: object, key: str, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"'{key}' must be a list of rule codes", path=path)
    return tuple(value)


def _check_keys(table: dict[str, object], known: set[str], where: str, text: str, path: str) -> None:
    """A key that is not ``known`` is an error naming the file, its line and the keys there are."""
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}unknown key '{key}' (known: {', '.join(sorted(known))})",
                              path=path, line=_line_of(text, key), column=1)


def _services(value: object, text: str, path: str) -> tuple[ServiceConfig, ...]:
    if not isinstance(value, dict):
        raise ConfigError("'services' must be a table of service names", path=path)
    out = []
    for name, body in value.items():
        if not isinstance(body, dict):
            raise ConfigError(f"services.{name} must be a table", path=path)
        _check_keys(body, SERVICE_KEYS, f"services.{name}: ", text, path)
        go = body.get("go")
        if go is not None and not isinstance(go, bool):
            raise ConfigError(f"services.{name}: 'go' must be true or false", path=path,
                              line=_line_of(text, "go"), column=1)
        raw_version = body.get("go-version")
        version: tuple[int, int] | None = None
        if raw_version is not None:
            m = re.fullmatch(r"1\.(\d+)(?:\.\d+)?", str(raw_version)) if isinstance(raw_version, str) else None
            if m is None:
                raise ConfigError(f"services.{name}: go-version must be a string such as \"1.24\", got {raw_version!r}",
                                  path=path, line=_line_of(text, "go-version"), column=1)
            version = (1, int(m.group(1)))
        out.append(ServiceConfig(str(name), go, version))
    return tuple(out)


def _compose_files(value: object, text: str, path: str) -> tuple[tuple[str, ...], ...]:
    """``compose-files = [["compose.yaml", "compose.full.yaml"]]``: each list is one ``-f`` chain
    in merge order, paths relative to the config file."""
    line = _line_of(text, "compose-files")
    if not isinstance(value, list) or not all(
            isinstance(chain, list) and len(chain) >= 2 and all(isinstance(f, str) and f for f in chain)
            for chain in value):
        raise ConfigError("'compose-files' must be a list of chains, each a list of two or more Compose "
                          "files in merge order, e.g. [[\"compose.yaml\", \"compose.prod.yaml\"]]",
                          path=path, line=line, column=1)
    directory = os.path.dirname(os.path.abspath(path))
    return tuple(tuple(os.path.normpath(os.path.join(directory, f)) for f in chain) for chain in value)


def _roles(value: object, text: str, path: str) -> tuple[tuple[str, str], ...]:
    """``roles = {"deploy/*.yml" = "prod", "docker/test/*" = "none"}``."""
    if not isinstance(value, dict):
        raise ConfigError("'roles' must be a table of globs to roles (prod, dev or none)", path=path,
                          line=_line_of(text, "roles"), column=1)
    out = []
    for glob, role in value.items():
        if role not in ROLES:
            raise ConfigError(f"roles: '{glob}' must be one of {', '.join(ROLES)}, got {role!r}", path=path,
                              line=_line_of(text, "roles"), column=1)
        out.append((str(glob), str(role)))
    return tuple(out)


def parse_config(path: str, text: str, cache: bool = False) -> Config | None:
    """Parse one config file; None for a pyproject.toml without ``[tool.dockfix]``.

    A pyproject.toml that does not even contain the word ``dockfix`` has no such table and is
    not read: tomllib costs ~10 ms to import, and format-on-save runs dockfix once per save.
    """
    if os.path.basename(path) == "pyproject.toml" and "dockfix" not in text:
        return None
    data = _toml(path, text, cache)
    if os.path.basename(path) == "pyproject.toml":
        table = data.get("tool", {}).get("dockfix")
        if table is None:
            return None
    else:
        table = data
    if not isinstance(table, dict):
        raise ConfigError("[tool.dockfix] must be a table", path=path)
    _check_keys(table, TOP_KEYS, "", text, path)
    profile = table.get("profile", DEFAULT_PROFILE)
    if not isinstance(profile, str):
        raise ConfigError("'profile' must be a profile name", path=path, line=_line_of(text, "profile"), column=1)
    check_profile_name(profile, path, *_value_position(text, "profile"))
    profiles = table.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError("'profiles' must be a table of profiles", path=path)
    for name, body in profiles.items():
        check_profile_name(name, path, *_key_position(text, name))
        if not isinstance(body, dict):
            raise ConfigError(f"profile '{name}' must be a table", path=path)
        _check_keys(body, PROFILE_KEYS, f"profile '{name}': ", text, path)
    unsafe = table.get("unsafe-fixes", False)
    if not isinstance(unsafe, bool):
        raise ConfigError("'unsafe-fixes' must be true or false", path=path, line=_line_of(text, "unsafe-fixes"), column=1)
    config = Config(
        path=path,
        profile=profile,
        select=_codes(table.get("select", []), "select", path) + _codes(table.get("extend-select", []), "extend-select", path),
        ignore=_codes(table.get("ignore", []), "ignore", path),
        unsafe_fixes=unsafe,
        profiles={str(k): dict(v) for k, v in profiles.items()},
        exclude=_codes(table.get("exclude", []), "exclude", path) + _codes(table.get("extend-exclude", []), "extend-exclude", path),
        respect_gitignore=bool(table.get("respect-gitignore", True)),
        services=_services(table.get("services", {}), text, path),
        compose_files=_compose_files(table.get("compose-files", []), text, path),
        roles=_roles(table.get("roles", {}), text, path),
    )
    # validate every profile now, so a broken one fails even when another is in use
    for name in config.profiles:
        config.resolve_profile(name)
    return config


CONFIG_CACHE_FORMAT = 2  # 2: JSON in the user's cache directory (1: marshal in .dockfix_cache/)
MAX_CONFIG_CACHE_BYTES = 4 * 1024 * 1024  # the text and its table, as JSON


def config_cache_path(path: str) -> str:
    """Where the parsed form of the config file ``path`` is kept (see :func:`_toml`)."""
    from rewriter.cachedir import fnv, user_cache_root  # lazy: start-up

    full = os.path.abspath(path)
    return os.path.join(user_cache_root(), "config", f"{fnv(full)}-{os.path.basename(full)}.json")


def _toml(path: str, text: str, cache: bool) -> dict[str, Any]:
    """``tomllib.loads(text)``; with ``cache``, kept in the user's cache directory.

    tomllib costs ~10 ms to import, which a configured project would pay on every format-on-save.
    The table is stored as JSON (about 2 ms to import, and a decoder that cannot crash on any
    bytes) together with the config's path and exact text, and used only for that same file
    and identical text: an edited config is parsed again, and a corrupt or foreign cache file is
    ignored. The cache is the user's (:mod:`rewriter.cachedir`), never the repository's. A cache
    that cannot be written is only a slower next run.
    """
    import sys  # lazy: start-up

    from rewriter.cachedir import read_cache_file, write_cache_file  # lazy: start-up

    stamp = [CONFIG_CACHE_FORMAT, list(sys.version_info[:2])]
    full = os.path.abspath(path)
    stored = config_cache_path(path)
    if cache:
        blob = read_cache_file(stored, MAX_CONFIG_CACHE_BYTES)
        if blob is not None:
            import json  # lazy: start-up

            try:
                known = json.loads(blob)
            except (ValueError, RecursionError):
                known = None
            if (type(known) is list and len(known) == 4 and known[0] == stamp and known[1] == full
                    and known[2] == text and type(known[3]) is dict and _toml_values(known[3])):
                data: dict[str, Any] = known[3]
                return data
    import tomllib  # lazy: start-up

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"line (\d+), column (\d+)", str(err))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        raise ConfigError(f"invalid TOML: {err}", path=path, line=line, column=col) from None
    if cache and _toml_values(data):  # dates and times have no JSON form: parsed each time
        import json  # lazy: start-up

        try:
            blob = json.dumps([stamp, full, text, data], ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (ValueError, UnicodeEncodeError):
            return data  # NaN or infinity (JSON would turn them into other values), or lone surrogates
        write_cache_file(stored, blob)
    return data


def _toml_values(value: object) -> bool:
    """Whether ``value`` is made of what tomllib returns (a cache file is data from the repository)."""
    if type(value) is dict:
        return all(type(k) is str and _toml_values(v) for k, v in value.items())
    if type(value) is list:
        return all(_toml_values(v) for v in value)
    return type(value) in (str, int, float, bool)


MAX_CONFIG_BYTES = 1024 * 1024  # a config file is a few hundred bytes; a bigger one is refused


def _read_text(path: str) -> str:
    """A config file's text, read by the repository rule (:mod:`rewriter.safefs`): a regular
    file inside the root, reached without links, at most 1 MB."""
    from rewriter import safefs  # lazy: start-up

    try:
        return safefs.read_bytes(path, limit=MAX_CONFIG_BYTES).decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"cannot read config: not UTF-8 ({err.reason})", path=path) from None


class ConfigFinder:
    """Finds the closest config for a file; caches per directory for one run."""

    def __init__(self, explicit: str | None = None, isolated: bool = False, cache: bool = False) -> None:
        self._cache: dict[str, Config] = {}
        self._explicit: Config | None = None
        self._isolated = isolated
        self._use_cache = cache  # keep parsed TOML in the user's cache (see _toml)
        if explicit:
            try:
                text = _read_text(explicit)
            except OSError as err:
                raise ConfigError(f"cannot read config: {err.strerror}", path=explicit) from None
            self._explicit = parse_config(explicit, text, cache) or Config(path=explicit)

    def for_path(self, path: str) -> Config:
        if self._explicit is not None:
            return self._explicit
        if self._isolated:
            return Config(path="")
        directory = os.path.dirname(os.path.abspath(path))
        return self._for_dir(directory)

    def _for_dir(self, directory: str) -> Config:
        cached = self._cache.get(directory)
        if cached is not None:
            return cached
        found: Config | None = None
        for name in CONFIG_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.lexists(candidate):  # a link or a FIFO is reported, not skipped
                try:
                    text = _read_text(candidate)
                except OSError as err:
                    raise ConfigError(f"cannot read config: {err.strerror}", path=candidate) from None
                found = parse_config(candidate, text, self._use_cache)
                if found is not None:
                    break
        if found is None:
            parent = os.path.dirname(directory)
            found = self._for_dir(parent) if parent != directory else Config(path="")
        self._cache[directory] = found
        return found
