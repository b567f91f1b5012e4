"""Value records for the cold path: slotted classes with equality, hashing, repr and ``replace``.

dockfix runs once per save in an editor, so start-up time is a feature. Creating a class with
``@dataclass`` costs about 0.6 ms (it compiles its methods with ``exec``) and ``NamedTuple``
needs the ``typing`` module (about 4 ms to import) plus 0.2 ms per class; there are some thirty
records on the path of ``dockfix apply -``. A plain class with ``__slots__`` and its own
``__init__`` costs nothing to create, so records are written that way and this base class gives
them value semantics over their slots. Records are treated as immutable: nothing assigns to a
record's field after ``__init__``; ``replace`` makes a changed copy.

A record's ``__slots__`` are exactly its ``__init__`` parameters, in the same order: ``replace``
and pickling (the process pool sends records between processes) call the class with them. A
class with private state beside its fields (``SourceFile``'s line index) is not a record.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (mypy honours this name)
if TYPE_CHECKING:
    from typing import Self


class Record:
    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in self.__slots__])

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), self._values())

    def replace(self, **changes: object) -> Self:
        """A copy with some fields changed (unknown names are an error)."""
        unknown = set(changes) - set(self.__slots__)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(sorted(unknown))}")
        return type(self)(*[changes.get(name, getattr(self, name)) for name in self.__slots__])
