"""The passes: each module is one concern, knows policy and never offsets.

The registry is this explicit tuple (no registration by import side effect), and
:data:`~transforms.options.OPTIONS` the concerns' profile keys.
"""

from __future__ import annotations

from rewriter import profiles
from transforms import (
    config_mounts,
    go_runtime,
    image_antipatterns,
    kubernetes,
    memory,
    pids,
    project,
    tmpfs,
    ulimits,
)
from transforms.base import Context, Rule
from transforms.options import OPTIONS

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from transforms.base import Check, ImageCheck

TRANSFORMS: tuple[tuple[Check, tuple[Rule, ...]], ...] = (
    (tmpfs.check, tmpfs.RULES),
    (ulimits.check, ulimits.RULES),
    (memory.check, memory.RULES),
    (pids.check, pids.RULES),
    (config_mounts.check, config_mounts.RULES),
    (go_runtime.check, go_runtime.RULES),
    (image_antipatterns.check, image_antipatterns.RULES),
    (project.check, project.RULES),
    (kubernetes.check, kubernetes.RULES),
)

# Checks on images (Dockerfiles), which are not containers: limits cannot live in them.
IMAGE_TRANSFORMS: tuple[tuple[ImageCheck, tuple[Rule, ...]], ...] = (
    (image_antipatterns.check_image, image_antipatterns.IMAGE_RULES),
)

RULES: dict[str, Rule] = {rule.code: rule for _, rules in TRANSFORMS + IMAGE_TRANSFORMS
                          for rule in rules}
RULES = dict(sorted(RULES.items()))



def resolve_profile(name: str, user: dict[str, dict[str, object]] | None = None,
                    origin_path: str = "") -> profiles.Profile:
    """:func:`rewriter.profiles.resolve_profile` over every concern's options."""
    return profiles.resolve_profile(name, user or {}, origin_path, OPTIONS)


def parse_config(path: str, text: str, cache: bool = False) -> profiles.Config | None:
    """:func:`rewriter.profiles.parse_config` over every concern's options."""
    return profiles.parse_config(path, text, cache, OPTIONS)


__all__ = ["Context", "IMAGE_TRANSFORMS", "OPTIONS", "RULES", "Rule", "TRANSFORMS", "parse_config",
           "resolve_profile"]
