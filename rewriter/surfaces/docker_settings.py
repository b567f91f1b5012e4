"""Typed settings for the Docker family of surfaces (Compose, ``docker run``, docker-py).

These surfaces share the shape of what they read (a memory limit is one or two settings, a
tmpfs is a target and ``size=..,mode=..`` options, a ulimit is soft and hard) and differ in how
they spell, parse and format it: that difference is each surface's codec table
(:class:`~rewriter.settings.Codecs`, the ``CODECS`` attribute). :class:`DockerSettings` turns the
surface's readers into :class:`~rewriter.settings.Found` values through its table, and typed
values back into the surface's writers, so that policy sees only keys and typed values.

A surface outside the family (Kubernetes manifests) implements ``find``/``set``/``supports``
itself, over its own table.
"""

from __future__ import annotations

from rewriter.model import ContainerDefaults, Mount, Setting, TmpfsMount, Ulimit
from rewriter.settings import (Codec, Codecs, Found, Key, MountSpec, TmpfsSpec, Ulimits, as_text, format_options,
                               tmpfs_options, tmpfs_spec)
from rewriter.sizes import ByteSize
from rewriter.yamlpatch import Refusal

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from rewriter.edits import Fix
    from rewriter.settings import V


def size_codec(name: str, parse: Callable[[object], ByteSize | None],
               format: Callable[[ByteSize], object]) -> Codec[ByteSize]:
    return Codec(name, parse, format)


def tmpfs_codec(name: str, parse_size: Callable[[str], ByteSize | None],
                format_size: Callable[[ByteSize], str]) -> Codec[Any]:
    """A tmpfs codec: parse reads a (target, options as written) pair; format gives the option
    text (``size=64m,mode=1777``), keeping what a change does not touch as it was written."""
    def parse(value: object) -> object:
        assert isinstance(value, tuple)
        target, written = value
        return tmpfs_spec(target, written, parse_size)

    def format(spec: object) -> str:
        return format_options(tmpfs_options(spec, parse_size, format_size))  # type: ignore[arg-type]
    return Codec(name, parse, format)


class DockerSettings(ContainerDefaults):
    """``find``/``get``/``set``/``supports``/``spelled`` over a Docker-family surface's readers
    and writers (the methods below that the surface defines) and its ``CODECS`` table."""

    CODECS: Codecs

    # -- the surface's readers and writers (spelled its own way, never seen by policy) ----------
    if TYPE_CHECKING:
        def memory_limits(self) -> list[Setting]: ...
        def memswap_limit(self) -> Setting | None: ...
        def pids_limits(self) -> list[Setting]: ...
        def cpu_limit(self) -> Setting | None: ...
        def ulimit(self, name: str) -> Ulimit | None: ...
        def tmpfs(self) -> list[TmpfsMount]: ...
        def mounts(self) -> list[Mount]: ...
        def env(self) -> dict[str, Setting]: ...
        def set_memory_limit(self, value: str, where: Setting | None) -> Fix: ...
        def set_memswap_limit(self, value: object) -> Fix: ...
        def set_pids_limit(self, value: int, where: Setting | None) -> Fix: ...
        def set_ulimit(self, name: str, soft: int, hard: int) -> Fix: ...
        def add_tmpfs(self, target: str, options: str) -> Fix: ...
        def set_tmpfs_options(self, mount: TmpfsMount, options: str) -> Fix: ...
        def add_mount(self, source: str, target: str, read_only: bool) -> Fix: ...
        def set_mount_read_only(self, mount: Mount) -> Fix: ...
        def set_env(self, name: str, value: str) -> Fix: ...
        def remove_env(self, name: str) -> Fix: ...

    def supports(self, key: Key[V]) -> bool:
        return self.CODECS.supports(key)

    def unsupported(self, key: Key[V]) -> str:
        return "" if self.supports(key) else self.CODECS.unsupported(key)

    def spelled(self, key: Key[V]) -> str:
        return self.CODECS.spelled(key)

    def formatted(self, key: Key[V], value: V) -> str:
        return self.CODECS.formatted(key, value)

    def get(self, key: Key[V]) -> Found[V] | None:
        found = self.find(key)
        return found[-1] if found else None

    def find(self, key: Key[V]) -> list[Found[V]]:
        if not self.supports(key):
            return []
        codec = self.CODECS.of(key)
        kind = key.kind
        settings: list[Setting]
        if kind == "memory":
            settings = self.memory_limits()
        elif kind == "swap":
            settings = [s for s in (self.memswap_limit(),) if s is not None]
        elif kind == "pids":
            settings = self.pids_limits()
        elif kind == "cpu":
            settings = [s for s in (self.cpu_limit(),) if s is not None]
        elif kind == "env":
            return [s.found(Key("env", name), codec.parse(s.value))
                    for name, s in self.env().items() if key.matches(name)]
        elif kind == "ulimit":
            limit = self.ulimit(key.name)
            if limit is None:
                return []
            return [limit.setting.found(key, codec.parse((limit.soft, limit.hard)), limit, limit.form)]
        elif kind == "tmpfs":
            return [m.setting.found(key, codec.parse((m.target, m.options)), m, m.form)
                    for m in self.tmpfs() if key.matches(m.target)]
        elif kind in ("mount", "config-mount"):
            return [m.setting.found(key, codec.parse((m.source, m.target, m.read_only)), m, m.form)
                    for m in self.mounts() if key.matches(m.target)]
        else:
            return []
        return [s.found(key, codec.parse(s.value)) for s in settings]

    def set(self, key: Key[V], value: V | Found[V] | None, where: Found[V] | None = None) -> Fix:
        if not self.supports(key):
            raise Refusal(f"{self.spelled(key)} cannot be written here")
        codec = self.CODECS.of(key)
        kind = key.kind
        place = where.place if where is not None else None
        if kind == "env":
            if value is None:
                return self.remove_env(key.name)
            return self.set_env(key.name, str(_written(codec, value)))
        if value is None:
            raise Refusal(f"{self.spelled(key)} cannot be removed here")
        if kind == "memory":
            assert place is None or isinstance(place, Setting)
            return self.set_memory_limit(_written(codec, value), place)
        if kind == "swap":
            return self.set_memswap_limit(_written(codec, value))
        if kind == "pids":
            assert place is None or isinstance(place, Setting)
            return self.set_pids_limit(_written(codec, value), place)
        if kind == "ulimit":
            assert isinstance(value, Ulimits) and value.soft is not None and value.hard is not None
            return self.set_ulimit(key.name, value.soft, value.hard)
        if kind == "tmpfs":
            options = str(_written(codec, value))
            if place is None:
                return self.add_tmpfs(value.target if isinstance(value, TmpfsSpec) else key.name, options)
            assert isinstance(place, TmpfsMount)
            return self.set_tmpfs_options(place, options)
        if kind in ("mount", "config-mount"):
            assert isinstance(value, MountSpec)
            if place is None:
                return self.add_mount(value.source, value.target, value.read_only)
            assert isinstance(place, Mount)
            if not value.read_only or (value.source, value.target) != (place.source, place.target):
                raise Refusal("only making a mount read-only is written here")
            return self.set_mount_read_only(place)
        raise Refusal(f"{self.spelled(key)} is not written by dockfix")


def _written(codec: Codec[V], value: V | Found[V]) -> Any:
    """What to write: a Found's value as it is written, else the codec's form of the value."""
    if isinstance(value, Found):
        return value.written
    return codec.format(value)


__all__ = ["DockerSettings", "as_text", "size_codec", "tmpfs_codec"]
