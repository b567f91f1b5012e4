"""Byte sizes: one type, one parser and one formatter per surface.

The unit rules differ by surface and getting them wrong breaks programs (runtime-facts.md):

- Docker CLI and Compose (go-units ``RAMInBytes``, binary): ``64m``, ``64mb``, ``64MiB``, ``64 m``;
  ``64Mi`` is rejected.
- docker-py (``parse_bytes``): ``64m`` or ``64mb`` only.
- GOMEMLIMIT (``runtime.parseByteCount``): ``^[0-9]+(([KMGT]i)?B)?$`` or ``off``; anything else
  makes the Go program throw at start.
- Kubernetes quantities: ``64Mi``.
"""

from __future__ import annotations

import functools
import re

from rewriter.record import Record

KIB = 1024
MIB = 1024**2
GIB = 1024**3

_DOCKER_UNITS = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": 1024**4, "p": 1024**5}
# go-units RAMInBytes: a number, an optional space, an optional unit letter, then "", "b" or "ib".
_DOCKER_RE = re.compile(r"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?((?:[iI])?[bB])?$")
_GOMEMLIMIT_RE = functools.cache(lambda: re.compile(r"^([0-9]+)(([KMGT]i)?B)?$"))  # only when one is set
_GO_UNITS = {"": 1, "Ki": KIB, "Mi": MIB, "Gi": GIB, "Ti": 1024**4}
# Kubernetes resource.Quantity: a decimal number, then a binary (Ki..Ei) or decimal (k..E, m for
# thousandths) suffix or a decimal exponent (128974848, 129e6, 129M, 123Mi, 0.5Gi).
_KUBERNETES_RE = functools.cache(lambda: re.compile(
    r"^\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"))
_KUBERNETES_UNITS = {"": (1, 0), "Ki": (KIB, 0), "Mi": (MIB, 0), "Gi": (GIB, 0), "Ti": (1024**4, 0),
                     "Pi": (1024**5, 0), "Ei": (1024**6, 0), "m": (1, -3), "k": (1, 3), "M": (1, 6),
                     "G": (1, 9), "T": (1, 12), "P": (1, 15), "E": (1, 18)}


@functools.total_ordering
class ByteSize(Record):
    __slots__ = ("bytes",)

    def __init__(self, bytes: int) -> None:
        self.bytes = bytes

    def __lt__(self, other: ByteSize) -> bool:
        return self.bytes < other.bytes

    # -- parsing ---------------------------------------------------------------------------
    @classmethod
    def parse_docker(cls, text: str) -> ByteSize | None:
        """Parse a Docker/Compose size (``512m``, ``1g``, ``1.5g``, ``536870912``); None if invalid."""
        m = _DOCKER_RE.match(text.strip())
        if not m:
            return None
        number, unit, suffix = m.group(1), (m.group(2) or "").lower(), m.group(3) or ""
        if suffix.lower() == "ib" and not unit:
            return None
        value = float(number) * _DOCKER_UNITS[unit]
        return cls(int(value))

    @classmethod
    def parse_gomemlimit(cls, text: str) -> ByteSize | None:
        """Parse a GOMEMLIMIT value the way the Go runtime does; None if it would crash Go."""
        m = _GOMEMLIMIT_RE().match(text)
        if not m:
            return None
        unit = m.group(3) or ""
        return cls(int(m.group(1)) * _GO_UNITS[unit])

    @classmethod
    def parse_kubernetes(cls, text: str) -> ByteSize | None:
        """Parse a Kubernetes quantity (``64Mi``, ``1G``, ``0.5Gi``, ``129e6``); None if invalid.
        A fraction of a byte rounds up, as the API server does."""
        m = _KUBERNETES_RE().match(text.strip())
        if not m:
            return None
        whole, _, decimals = m.group(1).partition(".")
        suffix = m.group(2) or ""
        if suffix[:1] in ("e", "E"):
            factor, exponent = 1, int(suffix[1:])
        else:
            factor, exponent = _KUBERNETES_UNITS[suffix]
        numerator = int((whole or "0") + decimals) * factor
        exponent -= len(decimals)
        if exponent >= 0:
            return cls(numerator * 10**exponent)
        return cls(-(-numerator // 10**-exponent))

    @classmethod
    def mib(cls, n: int) -> ByteSize:
        return cls(n * MIB)

    # -- formatting ------------------------------------------------------------------------
    def docker(self) -> str:
        """Docker CLI / Compose / docker-py form: ``64m``, ``1g``, or plain bytes."""
        for unit, factor in (("g", GIB), ("m", MIB), ("k", KIB)):
            if self.bytes and self.bytes % factor == 0:
                return f"{self.bytes // factor}{unit}"
        return str(self.bytes)

    def gomemlimit(self) -> str:
        """GOMEMLIMIT form: whole MiB with the ``MiB`` suffix, else plain bytes."""
        if self.bytes % MIB == 0:
            return f"{self.bytes // MIB}MiB"
        return str(self.bytes)

    def kubernetes(self) -> str:
        """Kubernetes quantity: ``64Mi``, ``1Gi``, or plain bytes."""
        for unit, factor in (("Gi", GIB), ("Mi", MIB), ("Ki", KIB)):
            if self.bytes and self.bytes % factor == 0:
                return f"{self.bytes // factor}{unit}"
        return str(self.bytes)

    def human(self) -> str:
        return self.docker()
