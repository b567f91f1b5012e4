"""The planned state of a container: its memory limit and /tmp tmpfs once the profile's own
rules have run, computed once per container and read by every concern that sizes something
from them.

tmpfs pages count against the memory limit but not against GOMEMLIMIT or a heap, so GOMEMLIMIT
(:mod:`transforms.go_runtime`) is 0.9 x (limit - tmpfs) of the *planned* limit and tmpfs: the
limit in force or the one DF301 adds (:func:`transforms.memory.plan`), the tmpfs as written,
lowered by DF106, added by DF101/DF102 (:func:`transforms.tmpfs.planned_tmpfs`), or moved from a
Dockerfile's ``/etc/fstab`` by an unsafe DF702 fix. Each of those modules answers for its own
rules; a reader never asks whether some rule code is selected.
"""

from __future__ import annotations

from rewriter.edits import Applicability
from rewriter.record import Record
from rewriter.sizes import ByteSize
from transforms.base import Context
from transforms.image_antipatterns import moved_tmpfs_size
from transforms.memory import MemoryPlan, plan, shown
from transforms.tmpfs import TMP, on_disk, planned_tmpfs

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.model import Container


class PlannedState(Record):
    """The memory limit and the /tmp tmpfs a container ends up with."""

    __slots__ = ("memory", "tmpfs", "tmpfs_from")

    def __init__(self, memory: MemoryPlan | None, tmpfs: ByteSize, tmpfs_from: str) -> None:
        self.memory = memory  # None: no limit, and DF301 adds none
        self.tmpfs = tmpfs  # 0 without a tmpfs on /tmp
        self.tmpfs_from = tmpfs_from  # "tmpfs /tmp 64m (profile prod)", "" without one

    @property
    def budget(self) -> tuple[ByteSize, str] | None:
        """The limit's size and where it comes from; None when there is none or it cannot be read."""
        if self.memory is None or self.memory.size is None:
            return None
        return self.memory.size, self.memory.described

    @property
    def applicability(self) -> Applicability:
        """A value computed from a limit DF301 only suggests is itself a suggestion."""
        return self.memory.applicability if self.memory is not None else Applicability.SAFE


def planned(container: Container, ctx: Context) -> PlannedState:
    """The container's planned state, computed once per container and context."""
    return ctx.memo("plan", container, lambda: _planned(container, ctx))


def _planned(container: Container, ctx: Context) -> PlannedState:
    size, where = _tmpfs(container, ctx)
    return PlannedState(plan(container, ctx), size, where)


def _tmpfs(container: Container, ctx: Context) -> tuple[ByteSize, str]:
    found = planned_tmpfs(container, ctx)
    if found is not None:
        return found
    if not container.find(TMP) and ctx.unsafe_fixes and not on_disk(container):
        moved = moved_tmpfs_size(container, ctx)
        if moved is not None:
            return moved, f"tmpfs /tmp {shown(container, moved)} (moved from the Dockerfile's /etc/fstab)"
    return ByteSize(0), ""
