"""Node.js workloads: V8's old space from ``--max-old-space-size`` (MiB).

The flag is read from ``NODE_OPTIONS`` (the container's environment, else the Dockerfile's
``ENV``) and from the command, the last one winning. The process needs more than its old space
(new space, code, buffers and native memory), so the old space stays at or below 75 % of the
limit (Node.js CLI docs, "--max-old-space-size").
"""

from __future__ import annotations

import re

from rewriter.detectors.facts import Inputs, WorkloadFacts
from rewriter.sizes import ByteSize

_FLAG = r"--max[-_]old[-_]space[-_]size(?:=|\s+)(\d+)"


def detect(inputs: Inputs, evidence: str) -> WorkloadFacts:
    heap: tuple[ByteSize, str] | None = None
    sources: list[tuple[str, str]] = []
    found = inputs.variable("NODE_OPTIONS")
    if found is not None:
        sources.append((found[0], f"in {found[1]}"))
    sources.append((" ".join(inputs.command), "in the command"))
    for text, where in sources:
        for m in re.finditer(_FLAG, text):
            heap = (ByteSize.mib(int(m.group(1))), f"{m.group(0)} {where}")
    return WorkloadFacts(
        kind="node", evidence=evidence, heap=heap[0] if heap else None, heap_source=heap[1] if heap else "",
        ratio_source="Node needs room beyond V8's old space for new space, code, buffers and native memory")
