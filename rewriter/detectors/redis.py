"""Redis (and Valkey, KeyDB): ``--maxmemory`` in the command.

Redis units are decimal for ``k``/``m``/``g`` and binary for ``kb``/``mb``/``gb`` (redis.conf),
and plain numbers are bytes. Without ``maxmemory`` (or with 0) Redis grows with its data, so
what it needs is unknown. With it, the limit keeps a quarter for fragmentation, client buffers
and the copy-on-write of a background save (``maxmemory`` at most 75 % of the limit).
"""

from __future__ import annotations

import re

from rewriter.detectors.facts import Inputs, WorkloadFacts
from rewriter.sizes import ByteSize

_UNITS = {"": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


def redis_size(text: str) -> ByteSize | None:
    m = re.fullmatch(r"(\d+)([kmg]b?)?", text.strip().lower())
    return ByteSize(int(m.group(1)) * _UNITS[m.group(2) or ""]) if m else None


def detect(inputs: Inputs, evidence: str) -> WorkloadFacts:
    heap: tuple[ByteSize, str] | None = None
    for m in re.finditer(r"--maxmemory(?:=|\s+)[\"']?(\w+)", " ".join(inputs.command)):
        size = redis_size(m.group(1))
        if size is not None and size.bytes > 0:
            heap = (size, f"--maxmemory {m.group(1)} in the command")
    return WorkloadFacts(
        kind="redis", evidence=evidence,
        heavy="" if heap else "a database whose memory grows with its data (no --maxmemory)",
        heap=heap[0] if heap else None, heap_source=heap[1] if heap else "",
        ratio_source="Redis needs room beyond maxmemory for fragmentation, buffers and the "
                     "copy-on-write of a background save")
