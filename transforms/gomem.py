"""Go runtime facts that both the Compose rules (:mod:`transforms.go_runtime`) and the Dockerfile
rules (:mod:`transforms.image_antipatterns`) read: the GOMEMLIMIT formula and its profile option
(``gomemlimit-ratio``), how a malformed value was meant, the Go version whose GOMAXPROCS follows
the CPU limit, and DF502 itself.

A leaf below both, so that neither imports the other to share them (they used to import each
other). DF502's documentation stays in :mod:`transforms.go_runtime`'s docstring.
"""

from __future__ import annotations

import functools
import re

from rewriter.errors import ConfigError
from rewriter.model import Severity
from rewriter.profiles import Option
from rewriter.sizes import MIB, ByteSize
from transforms.base import Rule

MALFORMED = Rule("DF502", "gomemlimit-malformed", "GOMEMLIMIT that makes the Go runtime throw at start",
                 Severity.ERROR, "transforms.go_runtime")



def _ratio(value: object, key: str, where: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.1 <= float(value) <= 1.0:
        raise ConfigError(f"{where}: {key} must be a number between 0.1 and 1.0, got {value!r}", path=path)
    return float(value)


# Declared here, read by go_runtime (GOMEMLIMIT) and image_antipatterns (DF706's example).
RATIO = Option("gomemlimit-ratio", _ratio, (("prod", 0.9), ("dev", 0.9)), unset=0.9, off=0.9,
               doc="the share of (memory limit - /tmp tmpfs) GOMEMLIMIT is set to")
OPTIONS = (RATIO,)

AUTO_GOMAXPROCS = (1, 25)  # Go 1.25 reads the cgroup CPU limit for its default GOMAXPROCS
_LOOSE = functools.cache(lambda: re.compile(r"^\s*(\d+)\s*([KMGT])?(i|I)?([bB])?\s*$", re.IGNORECASE))


def gomemlimit_value(limit: ByteSize, tmpfs: ByteSize, ratio: float) -> ByteSize | None:
    """floor(ratio x (L - T) / MiB) MiB, or None when nothing is left."""
    room = limit.bytes - tmpfs.bytes
    # The ratio as the decimal it was written as (0.9 is 9/10, not its binary approximation), so
    # that an exact result is not rounded down by one; the profile keeps it within 0.1..1.0.
    whole, _, decimals = repr(ratio).partition(".")
    mib = int(whole + decimals) * room // (10 ** len(decimals) * MIB)
    return ByteSize.mib(mib) if mib >= 1 else None


def loose_size(text: str) -> ByteSize | None:
    """What a malformed GOMEMLIMIT meant (``512M``, ``512Mi``, ``1g``), read leniently."""
    m = _LOOSE().match(text)
    if not m:
        return None
    factor = {"": 1, "K": 1024, "M": MIB, "G": 1024**3, "T": 1024**4}[(m.group(2) or "").upper()]
    return ByteSize(int(m.group(1)) * factor)
