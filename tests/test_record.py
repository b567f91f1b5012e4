"""Records (rewriter.record): value semantics for the slotted classes on the cold path."""

from __future__ import annotations

import pickle

import pytest

from rewriter.edits import Edit, Fix, Intent
from rewriter.engine import Finding
from rewriter.model import Severity, Span
from rewriter.sizes import ByteSize


def test_equality_and_hash_are_by_value_and_type() -> None:
    assert Span(1, 2) == Span(1, 2) and hash(Span(1, 2)) == hash(Span(1, 2))
    assert Span(1, 2) != Span(1, 3)
    assert Span(1, 2) != (1, 2)  # not a tuple
    assert Edit(1, 2) != Span(1, 2)  # same values, another type
    assert len({Span(1, 2), Span(1, 2), Span(2, 3)}) == 2


def test_repr_names_the_fields() -> None:
    assert repr(Intent("set", ("a", 0), 5)) == "Intent(op='set', path=('a', 0), value=5)"


def test_replace_makes_a_changed_copy() -> None:
    fix = Fix("m", (Edit(0, 0, "x"),))
    other = fix.replace(message="n", scope="services.a")
    assert (other.message, other.scope, other.edits) == ("n", "services.a", fix.edits)
    assert fix.message == "m"
    with pytest.raises(TypeError, match="no field nope"):
        fix.replace(nope=1)


def test_records_survive_pickle() -> None:
    """The process pool pickles jobs and results."""
    fix = Fix("m", (Edit(3, 3, "a: 1\n", order=-2),), intents=(Intent("set", ("a",), 1),),
              claims=frozenset({"svc:a/x"}))
    finding = Finding("DF101", "compose.yaml", 1, 2, 1, 3, "msg", Severity.WARNING, fix, "services.a")
    assert pickle.loads(pickle.dumps(finding)) == finding


def test_edits_and_sizes_are_ordered() -> None:
    assert sorted([Edit(5, 5, "b"), Edit(1, 2), Edit(5, 5, "a", order=1), Edit(5, 5, "a")]) == [
        Edit(1, 2), Edit(5, 5, "a"), Edit(5, 5, "a", order=1), Edit(5, 5, "b")]
    assert ByteSize.mib(64) < ByteSize.mib(65) <= ByteSize.mib(65)
    assert max(ByteSize(1), ByteSize(3), ByteSize(2)) == ByteSize(3)


def _all_records() -> list[type]:
    import importlib
    import pkgutil

    import rewriter
    import transforms
    from rewriter.record import Record

    for package in (rewriter, transforms):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith(".__main__"):
                importlib.import_module(info.name)
    found: list[type] = []
    pending = list(Record.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_record_has_its_init_parameters_as_slots() -> None:
    """replace() and pickling call a record's class with its slots, in order."""
    import inspect

    records = _all_records()
    assert len(records) >= 30
    for cls in records:
        params = list(inspect.signature(cls.__init__).parameters)[1:]
        assert params == list(cls.__slots__), cls.__name__
