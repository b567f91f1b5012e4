"""A service whose mapping others merge is a service of its own (issue 10, bug 4).

``web: &web {...}`` with ``worker: {<<: *web}``: ``web`` is the anchor, not an alias. Its fixes
change the anchored mapping, so they reach every service that merges it and does not set the key
itself: they are applied when those services want the identical change or have their own key
(the shared-anchor policy), and reported with the reason otherwise. An alias (``one: *base``)
still gets no automatic fix.
"""

from __future__ import annotations

from rewriter.engine import Options, process
from transforms import resolve_profile
from rewriter.source import SourceFile
from rewriter.yamlview import parse_yaml

# With --unsafe-fixes: the built-in memory limit and raising an explicit pids limit are suggestions,
# and these tests are about where every fix goes, not about which ones are safe.
PROD = Options(profile=resolve_profile("prod", {}), unsafe_fixes=True)
SETTINGS = {"tmpfs", "ulimits", "mem_limit", "memswap_limit", "pids_limit"}


def run(text: str):  # type: ignore[no-untyped-def]
    return process("compose", SourceFile.from_text("compose.yaml", text), PROD, fix=True)


def model(text: str) -> dict[str, dict[str, object]]:
    resolved = parse_yaml(SourceFile.from_text("compose.yaml", text)).model()
    assert isinstance(resolved, dict)
    return resolved["services"]  # type: ignore[no-any-return]


def test_the_anchor_owner_is_fixed_and_its_users_change_only_as_intended() -> None:
    text = ("services:\n  web: &web\n    image: example/web\n    environment:\n      A: '1'\n"
            "  worker:\n    <<: *web\n    command: work\n")
    outcome = run(text)
    assert outcome.new_text is not None
    assert [f.message for f in outcome.findings] == []
    before, after = model(text), model(outcome.new_text)
    for name in ("web", "worker"):
        assert set(after[name]) - set(before[name]) == SETTINGS
        assert {k: v for k, v in after[name].items() if k not in SETTINGS} == before[name]
    # web's own mapping holds its settings: the anchor, at its own place
    assert outcome.new_text.index("pids_limit") < outcome.new_text.index("  worker:")


def test_a_user_with_its_own_key_is_not_reached() -> None:
    text = ("services:\n  web: &web\n    image: example/web\n  cron:\n    <<: *web\n    pids_limit: 1024\n")
    outcome = run(text)
    assert outcome.new_text is not None
    after = model(outcome.new_text)
    assert after["web"]["pids_limit"] == 512 and after["cron"]["pids_limit"] == 1024


def test_a_user_that_does_not_want_the_change_keeps_the_anchor_as_it_is() -> None:
    text = ("services:\n  web: &web\n    image: example/web\n    pids_limit: 100\n"
            "  worker:  # dockfix: ignore[DF402]\n    <<: *web\n")
    outcome = run(text)
    assert outcome.new_text is not None
    assert model(outcome.new_text)["worker"]["pids_limit"] == 100
    low = [f for f in outcome.findings if f.code == "DF402"]
    assert len(low) == 1 and "services.worker, which does not want the identical change" in low[0].refused


def test_an_alias_is_still_not_edited() -> None:
    text = "x-base: &base\n  image: example/base\nservices:\n  one: *base\n  two:\n    <<: *base\n"
    outcome = run(text)
    one = [f for f in outcome.findings if "service 'one'" in f.message]
    assert one and all("this definition is an alias of another" in f.message for f in one)
    assert set(model(outcome.new_text or text)["two"]) >= SETTINGS
