"""Byte-exact fixture cases for every surface (see tests/fixture_runner.py for the layout).

Each case runs in every mode (profile x safe/unsafe): the output must equal the expected file
byte for byte, still be valid for its kind, and the expected file must come back unchanged
(idempotence).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixture_runner import Case, cases, fixed_bytes, modes, syntax_error  # noqa: E402

PARAMS = [(case, profile, unsafe) for case in cases() for profile, unsafe in modes(case)]
IDS = [f"{c.id}-{p}{'-unsafe' if u else ''}" for c, p, u in PARAMS]


def test_every_surface_has_cases() -> None:
    kinds = {case.kind for case, _, _ in PARAMS}
    assert kinds == {"compose", "dockerfile", "shell", "python", "kubernetes"}
    assert len({case.id for case, _, _ in PARAMS}) >= 80


@pytest.mark.parametrize(("case", "profile", "unsafe"), PARAMS, ids=IDS)
def test_fixture(case: Case, profile: str, unsafe: bool) -> None:
    expected = case.expected_for(profile, unsafe).read_bytes()
    got = fixed_bytes(case.input, case.kind, profile, unsafe)
    assert got == expected
    assert syntax_error(case.kind, case.input, got) == ""


@pytest.mark.parametrize(("case", "profile", "unsafe"), PARAMS, ids=IDS)
def test_fixture_idempotent(case: Case, profile: str, unsafe: bool) -> None:
    data = case.expected_for(profile, unsafe).read_bytes()
    # run the expected text under the input's name, so the project model sees the same files
    assert fixed_bytes(case.input, case.kind, profile, unsafe, data=data) == data
