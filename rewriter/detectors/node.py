"""Node.js workloads: V8's old space from ``--max-old-space-size`` (MiB).

The flag is read from ``NODE_OPTIONS`` (the container's environment, else the Dockerfile's
``ENV``) and from the command, the last one winning. The process needs more than its old space
(new space, code, buffers and native memory), so the old space stays at or below 75 % of the
limit (Node.js CLI docs, "--max-old-space-size").

Kibana is a Node.js server: ``--max-old-space-size`` in ``NODE_OPTIONS`` is its heap as for any
Node program (Elastic, "Configure Kibana memory": without it the heap "scales based on total memory
available"). Without the flag, what it needs is unknown, and Elastic's own operator (ECK) gives a
Kibana container 1Gi by default ("Set Kibana default memory requests and limits to 1Gi",
elastic/cloud-on-k8s #1818): a built-in 512m is half of that, so the suggestion is floored at 1g.
"""

from __future__ import annotations

import re

from rewriter.detectors.facts import Inputs, WorkloadFacts, repository_name
from rewriter.sizes import ByteSize

KIBANA_DEFAULT = ByteSize(1024**3)  # ECK's default memory request and limit for Kibana
KIBANA = ("Kibana (Node.js), whose heap scales with the memory it sees unless --max-old-space-size in "
          "NODE_OPTIONS says how much (Elastic, \"Configure Kibana memory\")")

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
    if heap is None and inputs.image and repository_name(inputs.image) == "kibana":
        return WorkloadFacts(
            kind="node", evidence=evidence, heavy=KIBANA, heap=KIBANA_DEFAULT,
            heap_source="the 1Gi Elastic's operator (ECK) gives a Kibana container by default",
            heap_ratio=1.0, heap_is_floor=True, ratio_source="Elastic's default for Kibana on Kubernetes",
            floor_note="Kibana's heap scales with the memory it sees unless --max-old-space-size in NODE_OPTIONS "
                       "says how much (Elastic, \"Configure Kibana memory\"), and what it needs grows with its "
                       "plugins, reporting and alerting")
    return WorkloadFacts(
        kind="node", evidence=evidence, heap=heap[0] if heap else None, heap_source=heap[1] if heap else "",
        ratio_source="Node needs room beyond V8's old space for new space, code, buffers and native memory")
