"""The passes: each module is one concern, knows policy and never offsets.

The registry is this explicit tuple (no registration by import side effect).
"""

from __future__ import annotations

from transforms import config_mounts, memory, pids, tmpfs, ulimits
from transforms.base import Check, Context, Rule

TRANSFORMS: tuple[tuple[Check, tuple[Rule, ...]], ...] = (
    (tmpfs.check, tmpfs.RULES),
    (ulimits.check, ulimits.RULES),
    (memory.check, memory.RULES),
    (pids.check, pids.RULES),
    (config_mounts.check, config_mounts.RULES),
)

RULES: dict[str, Rule] = {rule.code: rule for _, rules in TRANSFORMS for rule in rules}

__all__ = ["Context", "RULES", "Rule", "TRANSFORMS"]
