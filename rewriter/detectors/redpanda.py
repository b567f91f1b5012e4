"""Redpanda: a Seastar program that sizes its memory from what the container sees.

Seastar (``src/core/resource.cc``, ``calculate_memory``) reads the memory it may use from the
cgroup limit, keeps a reserve outside its allocator (``--reserve-memory``; by default
``max(1536 MiB, 7 %)`` of that memory in current Seastar, ``max(1 GiB, 5 %)`` in older builds) and
takes the rest, or ``--memory`` when given. It refuses to start when ``--memory`` is larger than
the memory it sees less the reserve ("insufficient physical memory: needed ... available ..."),
and below reserve + 500 MB it takes 500 MB whatever the limit. Redpanda's own deployment gives
Redpanda 80 % of the container's memory and keeps the rest for Seastar's and the container's
overhead (Redpanda docs, "Manage Pod Resources in Kubernetes": the Helm chart's default, which
Redpanda recommends). So:

- ``--memory X`` in the command: the limit is at least ``X / 80 %`` and at least ``X`` plus the
  reserve (``--reserve-memory R``, else the default 1536 MiB, or ``X / 93 %`` for limits past
  21.9 GiB where 7 % is larger): below that Redpanda does not start. Evidence: a safe limit.
- no ``--memory``: what it needs is unknown, and a limit below the default reserve + 500 MB
  (about 2g) leaves Seastar 500 MB in a container that may hold less: a suggestion, floored there.

``--smp N`` runs one reactor thread per shard (all the CPUs it sees without it): far below a pids
limit of 512 on any usual host, so the pids rule is left as it is.
"""

from __future__ import annotations

import re

from rewriter.detectors.facts import Inputs, WorkloadFacts
from rewriter.sizes import ByteSize

HELM_SHARE = 0.8  # Redpanda's Helm chart: --memory is 80 % of the container's memory
DEFAULT_RESERVE = 1536 * 1024**2  # Seastar's default reserve: max(1536 MiB, 7 % of the memory)
RESERVE_SHARE = 0.07
MIN_MEMORY = 500_000_000  # Seastar's floor: below reserve + 500 MB it takes 500 MB anyway
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_FLAG = r"--{name}(?:=|\s+)['\"]?(\d+)([kKmMgGtT])?i?[bB]?\b"
HELM_SOURCE = ("Redpanda's Helm chart gives --memory 80 % of the container's memory and keeps the rest "
               "for Seastar's and the container's overhead (Redpanda docs, \"Manage Pod Resources\")")
START_SOURCE = ("Seastar refuses to start when --memory exceeds the memory it sees less its reserve: "
                "\"insufficient physical memory\" (seastar src/core/resource.cc)")
HEAVY = ("a streaming broker (Redpanda, on Seastar) that takes all the memory it sees less a reserve of "
         "max(1536 MiB, 7 %) unless --memory says how much, and 500 MB whatever the limit below that "
         "(seastar src/core/resource.cc); give it --memory and --reserve-memory in the command")


def _flag(command: str, name: str) -> tuple[ByteSize, str] | None:
    """The last ``--name SIZE`` (Seastar sizes: binary ``K``/``M``/``G``/``T``, bare bytes)."""
    found: tuple[ByteSize, str] | None = None
    for m in re.finditer(_FLAG.format(name=name), command):
        found = (ByteSize(int(m.group(1)) * _UNITS[(m.group(2) or "").lower()]), m.group(0).strip("'\""))
    return found


def detect(inputs: Inputs, evidence: str) -> WorkloadFacts:
    command = " ".join(inputs.command)
    memory = _flag(command, "memory")
    if memory is None:
        floor = ByteSize(DEFAULT_RESERVE + MIN_MEMORY)
        return WorkloadFacts(kind="redpanda", evidence=evidence, heavy=HEAVY, heap=floor,
                             heap_source="Seastar's default reserve of 1536 MiB plus the 500 MB it takes "
                                         "at least (no --memory in the command)",
                             heap_ratio=1.0, heap_is_floor=True,
                             ratio_source="below that Seastar takes 500 MB whatever the limit: seastar "
                                          "src/core/resource.cc",
                             floor_note="Redpanda takes all the memory it sees less a reserve unless --memory "
                                        "(and --reserve-memory) in the command says how much")
    size, written = memory
    reserve = _flag(command, "reserve-memory")
    if reserve is not None:
        floor_bytes = size.bytes + reserve[0].bytes
        reserve_text = f"{reserve[1]} in the command"
    else:
        floor_bytes = size.bytes + DEFAULT_RESERVE
        if DEFAULT_RESERVE < RESERVE_SHARE * floor_bytes:  # past 21.9 GiB the 7 % reserve is larger
            floor_bytes = -(-size.bytes * 100 // round((1 - RESERVE_SHARE) * 100))
        reserve_text = "Seastar's default reserve of max(1536 MiB, 7 %) (no --reserve-memory in the command)"
    helm = -(-size.bytes * 100 // round(HELM_SHARE * 100))
    if helm >= floor_bytes:
        return WorkloadFacts(kind="redpanda", evidence=evidence, heap=size,
                             heap_source=f"{written} in the command", heap_ratio=HELM_SHARE,
                             ratio_source=f"{HELM_SOURCE}; {reserve_text} fits in the rest")
    return WorkloadFacts(kind="redpanda", evidence=evidence, heap=ByteSize(floor_bytes),
                         heap_source=f"{written} in the command plus {reserve_text}", heap_ratio=1.0,
                         ratio_source=START_SOURCE)
