"""Profiles (what each container must have) and configuration discovery.

Each concern declares its own profile keys (:class:`Option`: a validator, a default per built-in
profile, a line of documentation) in its transform module; this module knows none of them and
resolves a profile over the declarations it is given (``transforms.OPTIONS``). Built-in profiles
are data, written the way a user writes their own in ``[tool.dockfix.profiles]``; ``extends``
layers one on another. Every key and value is checked when the file is loaded, so a
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
    from collections.abc import Callable, Sequence
    from typing import Any, Generic, TypeVar

    T = TypeVar("T")

    class _Typed(Generic[T]):
        """An :class:`Option` is generic in the type of its value, for mypy only."""
else:
    class _Typed:
        __slots__ = ()

        def __class_getitem__(cls, item: object) -> type:
            return cls

DEFAULT_PROFILE = "prod"
CONFIG_NAMES = (".dockfix.toml", "dockfix.toml", "pyproject.toml")

# The built-in profiles and the one each extends: their values are the concerns' declarations
# (each option's ``defaults``), see :func:`builtin_profiles`.
BUILTIN_NAMES: dict[str, str | None] = {"prod": None, "staging": "prod", "dev": None}
TOP_KEYS = {"profile", "select", "ignore", "extend-select", "unsafe-fixes", "profiles", "services",
            "exclude", "extend-exclude", "respect-gitignore", "compose-files", "roles"}
ROLES = ("prod", "dev", "none")  # a deployed file (the run's profile), the dev profile, not checked
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


class ServiceConfig(Record):
    """Per-service facts the files cannot tell (``[tool.dockfix.services.NAME]``)."""

    __slots__ = ("name", "go", "go_version")

    def __init__(self, name: str, go: bool | None = None, go_version: tuple[int, int] | None = None) -> None:
        self.name = name
        self.go = go  # None: detect from the build
        self.go_version = go_version


SERVICE_KEYS = {"go", "go-version"}


class Option(_Typed["T"]):
    """One profile key, declared by the concern that reads it (``transforms/*.py``).

    ``parse(value, key, where, path)`` checks a raw TOML value and returns the typed one (a
    ConfigError naming the profile otherwise); ``defaults`` are the raw values of the built-in
    profiles that set it (``staging`` extends ``prod``); ``unset`` is the raw value when no layer
    of a profile sets the key; ``not_for`` names the kinds of container the concern asks nothing
    of (``job``: a one-off job, ``tool``: a tool run in a build or test script), which then get
    ``off``. A declaration is a plain record, cheap to build at import: nothing is parsed until a
    profile is resolved.
    """

    __slots__ = ("name", "parse", "defaults", "unset", "off", "not_for", "doc")

    def __init__(self, name: str, parse: Callable[[object, str, str, str], T],
                 defaults: tuple[tuple[str, object], ...], unset: object = None, off: object = None,
                 not_for: tuple[str, ...] = (), doc: str = "") -> None:
        self.name = name  # the key in [tool.dockfix.profiles.NAME], e.g. "mem-limit"
        self.parse = parse
        self.defaults = defaults  # (("prod", "512m"), ("dev", "none"))
        self.unset = unset
        self.off = off  # the typed value that turns the concern off (None, or () for a list)
        self.not_for = not_for
        self.doc = doc  # one line for ``dockfix`` users: what the key sets


def builtin_profiles(options: Sequence[Option[Any]]) -> dict[str, dict[str, object]]:
    """The built-in profiles as a user would write them, from the options' declared defaults."""
    out: dict[str, dict[str, object]] = {}
    for name, parent in BUILTIN_NAMES.items():
        body: dict[str, object] = {} if parent is None else {"extends": parent}
        for option in options:
            for profile, value in option.defaults:
                if profile == name:
                    body[option.name] = value
        out[name] = body
    return out


class Profile(Record):
    """A resolved profile: each declared option's typed value (:meth:`get`)."""

    __slots__ = ("name", "origin", "values", "user_keys", "user_file", "role")

    def __init__(self, name: str, origin: str, values: tuple[tuple[str, object], ...],
                 user_keys: tuple[str, ...] = (), user_file: str = "", role: str = "") -> None:
        self.name = name
        self.origin = origin  # "built-in" or the config file path
        self.values = values  # (option name, typed value), in the options' order
        self.role = role  # why a file got this profile, e.g. "instead of prod, for a test or CI file under 'tests/'"
        # The keys a [tool.dockfix] profile sets itself (or through a user profile it extends):
        # their values are the user's choice, which makes a fix using them safe. A key that only a
        # built-in profile gives is a default for unknown workloads (see transforms/memory.py).
        self.user_keys = user_keys
        self.user_file = user_file  # the config file those keys are in

    def get(self, option: Option[T]) -> T:
        """The profile's value for ``option``. A profile resolved without that option's
        declaration is a programming error, never a silent "off" (``transforms.OPTIONS``)."""
        for name, value in self.values:
            if name == option.name:
                return value  # type: ignore[return-value]  # parsed by option.parse
        raise KeyError(f"profile {self.name} was resolved without the option '{option.name}'")

    def with_values(self, changes: dict[str, object]) -> Profile:
        """A copy with some options' values replaced (``{"mem-limit": None}``)."""
        return self.replace(values=tuple((n, changes.get(n, v)) for n, v in self.values))

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

    def for_kind(self, kind: str, options: Sequence[Option[Any]]) -> Profile:
        """The profile a kind of container gets (``job``, ``tool``): each option that does not
        apply to it turned off, as its concern declares (:attr:`Option.not_for`)."""
        return self.with_values({o.name: o.off for o in options if kind in o.not_for})


class Config(Record):
    __slots__ = (
        "path", "profile", "select", "ignore", "unsafe_fixes", "profiles", "exclude", "respect_gitignore",
        "services", "compose_files", "roles", "options",
    )

    def __init__(self, path: str, profile: str = DEFAULT_PROFILE, select: tuple[str, ...] = (),
                 ignore: tuple[str, ...] = (), unsafe_fixes: bool = False,
                 profiles: dict[str, dict[str, object]] | None = None, exclude: tuple[str, ...] = (),
                 respect_gitignore: bool = True, services: tuple[ServiceConfig, ...] = (),
                 compose_files: tuple[tuple[str, ...], ...] = (),
                 roles: tuple[tuple[str, str], ...] = (), options: tuple[Option[Any], ...] = ()) -> None:
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
        self.options = options  # the concerns' profile options (transforms.OPTIONS)

    def resolve_profile(self, name: str | None = None) -> Profile:
        return resolve_profile(name or self.profile, self.profiles, self.path, self.options)


def _line_of(text: str, key: str) -> int:
    r"""The line where ``key = ...`` is written (1 when it cannot be told). ``^[ \t]*``, not
    ``^\s*``: under MULTILINE ``\s*`` ran from every line start over all the blank lines after it,
    so a config of 200 KB of blank lines and a ``[x]`` table took minutes to report (quadratic)."""
    m = re.search(rf"(?:^[ \t]*|\.)[\"']?{re.escape(key)}[\"']?\s*=", text, re.MULTILINE)
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


def _raw_profile(name: str, user: dict[str, dict[str, object]],
                 builtin: dict[str, dict[str, object]]) -> tuple[dict[str, object], str]:
    if name in user:
        return user[name], "user"
    if name in builtin:
        return builtin[name], "built-in"
    known = sorted(set(builtin) | set(user))
    raise ConfigError(f"unknown profile '{name}' (known: {', '.join(known)})")


def resolve_profile(name: str, user: dict[str, dict[str, object]], origin_path: str = "",
                    options: Sequence[Option[Any]] = ()) -> Profile:
    """The profile ``name`` (a user's from ``user``, else a built-in one), each of ``options``
    checked and typed; the built-in profiles are the options' declared defaults."""
    check_profile_name(name, origin_path or "<command line>")
    builtin = builtin_profiles(options)
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
            raw, kind = _raw_profile(current, user, builtin)
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
        if parent is None and kind == "user" and current in builtin and current not in chain[:-1]:
            layers.append(builtin[current])
            builtin_parent = builtin[current].get("extends")
            parent = builtin_parent if isinstance(builtin_parent, str) else None
        current = parent
    for layer in reversed(layers):
        merged.update({k: v for k, v in layer.items() if k != "extends"})
    where = f"profile '{name}'"
    return Profile(
        name=name,
        origin=origin,
        values=tuple((o.name, o.parse(merged.get(o.name, o.unset), o.name, where, origin_path)) for o in options),
        user_keys=tuple(sorted(user_keys)),  # sorted: the cache key is the options' repr
        user_file=origin_path if user_keys else "",
    )


# -- validators the concerns' options are built from -------------------------------------------


def size_option(minimum: int = 1) -> Callable[[object, str, str, str], ByteSize | None]:
    """A size in Docker units (``64m``, ``1g``, bytes) or ``"none"`` (None), at least ``minimum``."""
    def parse(value: object, key: str, where: str, path: str) -> ByteSize | None:
        return _size_or_none(value, f"{where}: {key}", path, minimum)
    return parse


def count_option(low: int, high: int | None) -> Callable[[object, str, str, str], int | None]:
    """A whole number from ``low`` to ``high`` (no bound: None), or ``"none"`` (None)."""
    def parse(value: object, key: str, where: str, path: str) -> int | None:
        return _int_or_none(value, f"{where}: {key}", path, low, high)
    return parse


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


def parse_config(path: str, text: str, cache: bool = False, options: Sequence[Option[Any]] = ()) -> Config | None:
    """Parse one config file; None for a pyproject.toml without ``[tool.dockfix]``. A profile's
    keys are ``extends`` and the ``options`` the concerns declare (``transforms.OPTIONS``).

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
    profile_keys = {"extends"} | {o.name for o in options}
    if not isinstance(profiles, dict):
        raise ConfigError("'profiles' must be a table of profiles", path=path)
    for name, body in profiles.items():
        check_profile_name(name, path, *_key_position(text, name))
        if not isinstance(body, dict):
            raise ConfigError(f"profile '{name}' must be a table", path=path)
        _check_keys(body, profile_keys, f"profile '{name}': ", text, path)
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
        options=tuple(options),
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

    def __init__(self, explicit: str | None = None, isolated: bool = False, cache: bool = False,
                 options: Sequence[Option[Any]] = ()) -> None:
        self._options = tuple(options)  # the concerns' profile options (transforms.OPTIONS)
        self._cache: dict[str, Config] = {}
        self._explicit: Config | None = None
        self._isolated = isolated
        self._use_cache = cache  # keep parsed TOML in the user's cache (see _toml)
        if explicit:
            try:
                text = _read_text(explicit)
            except OSError as err:
                raise ConfigError(f"cannot read config: {err.strerror}", path=explicit) from None
            self._explicit = parse_config(explicit, text, cache, self._options) or Config(
                path=explicit, options=self._options)

    def for_path(self, path: str) -> Config:
        if self._explicit is not None:
            return self._explicit
        if self._isolated:
            return Config(path="", options=self._options)
        directory = os.path.dirname(os.path.abspath(path))
        return self._for_dir(directory)

    def _for_dir(self, directory: str) -> Config:
        """The config of the closest directory at or above ``directory`` that has one. A loop,
        not a recursion per level: 1,500 nested directories raised RecursionError, which ended
        the run with a traceback (exit 1). Every directory passed gets the answer."""
        passed: list[str] = []
        current = directory
        while True:
            found = self._cache.get(current)
            if found is not None:
                break
            passed.append(current)
            found = self._config_in(current)
            if found is not None:
                break
            parent = os.path.dirname(current)
            if parent == current:
                found = Config(path="", options=self._options)
                break
            current = parent
        for below in passed:
            self._cache[below] = found
        return found

    def _config_in(self, directory: str) -> Config | None:
        for name in CONFIG_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.lexists(candidate):  # a link or a FIFO is reported, not skipped
                try:
                    text = _read_text(candidate)
                except OSError as err:
                    raise ConfigError(f"cannot read config: {err.strerror}", path=candidate) from None
                found = parse_config(candidate, text, self._use_cache, self._options)
                if found is not None:
                    return found
        return None
