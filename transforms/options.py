"""Every concern's profile options, collected: the keys ``[tool.dockfix.profiles.NAME]`` accepts.

Each transform module declares its own options (:class:`rewriter.profiles.Option`: the key, its
validator, its default in each built-in profile); this tuple is the registry the configuration
loader and the profile resolver are given (``ConfigFinder(options=OPTIONS)``), in the order their
values are checked. Adding a concern's option is a line in its module and its name here.
"""

from __future__ import annotations

from transforms.config_mounts import OPTIONS as CONFIG_MOUNTS
from transforms.gomem import OPTIONS as GO
from transforms.memory import OPTIONS as MEMORY
from transforms.pids import OPTIONS as PIDS
from transforms.tmpfs import OPTIONS as TMPFS
from transforms.ulimits import OPTIONS as ULIMITS

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from typing import Any

    from rewriter.profiles import Option

OPTIONS: tuple[Option[Any], ...] = TMPFS + ULIMITS + MEMORY + PIDS + GO + CONFIG_MOUNTS
