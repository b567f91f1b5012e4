"""Property-based conformance: Compose documents built as *text* (never dumped by a YAML library)
with anchors and ``<<`` merges, flow and block styles, comments, CRLF, a BOM, no final newline and
odd scalars. For every document that parses, :func:`conformance.check_file` (tests/conformance.py) must find no
violation: apply does not crash, the resolved model changes only at paths the fixes name, every
original line is kept in order except lines holding a named key (and those only gain text when
they hold a parent key), the Compose schema still holds if it held, a second run changes nothing,
and every service is covered.

Profiles: ``ci`` (default, 100 examples) and ``thorough`` (``DOCKFIX_HYPOTHESIS=thorough``, 1000).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import conformance as c
from rewriter.runner import Done

settings.register_profile("ci", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("DOCKFIX_HYPOTHESIS", "ci"))

ODD_SCALARS = ["0755", "on", "off", "yes", "12345678901234567890123", "'65536'", '"1024"', "1e3",
               "~", "null", "0x1F", "'true'", ".inf", "-0", "'a: b'", '"# not a comment"']
IMAGES = ["nginx", "golang:1.22", "'redis:7'", '"postgres:16"', "ghcr.io/x/y@sha256:abc"]
COMMENT = st.sampled_from(["", "  # note", " #x", "  # dockfix: not-a-pragma"])
NAME = st.sampled_from(["api", "web", "db", "worker", "'quoted'", "x-y", "a1"])


@st.composite
def setting_lines(draw: st.DrawFn, indent: str) -> list[str]:
    """Lines of one service body in block style (some settings dockfix cares about, some not)."""
    lines = [f"{indent}image: {draw(st.sampled_from(IMAGES))}{draw(COMMENT)}"]
    extras = draw(st.lists(st.sampled_from([
        "labels", "environment-map", "environment-list", "ports-flow", "tmpfs-scalar", "tmpfs-list",
        "ulimits-int", "ulimits-map", "mem_limit", "pids_limit", "command", "comment-line", "blank",
    ]), max_size=5, unique=True))
    families: set[str] = set()
    for extra in extras:
        family = extra.split("-")[0]  # one environment/tmpfs/ulimits each: no duplicate keys
        if family in families and family not in ("comment", "blank"):
            continue
        families.add(family)
        odd = draw(st.sampled_from(ODD_SCALARS))
        if extra == "labels":
            lines += [f"{indent}labels:", f"{indent}  odd: {odd}"]
        elif extra == "environment-map":
            lines += [f"{indent}environment:", f"{indent}  MODE: {odd}"]
        elif extra == "environment-list":
            lines += [f"{indent}environment:", f"{indent}  - MODE={odd.strip(chr(39))}"]
        elif extra == "ports-flow":
            lines.append(f"{indent}ports: ['8080:80', \"443:443\"]")
        elif extra == "tmpfs-scalar":
            lines.append(f"{indent}tmpfs: /tmp")
        elif extra == "tmpfs-list":
            lines += [f"{indent}tmpfs:", f"{indent}- /run"]
        elif extra == "ulimits-int":
            lines += [f"{indent}ulimits:", f"{indent}  nofile: {draw(st.sampled_from(['1024', '65536']))}"]
        elif extra == "ulimits-map":
            lines += [f"{indent}ulimits: {{nofile: {{soft: 1024, hard: 2048}}}}"]
        elif extra == "mem_limit":
            lines.append(f"{indent}mem_limit: {draw(st.sampled_from(['256m', '1g', '2048M', '512000000']))}")
        elif extra == "pids_limit":
            lines.append(f"{indent}pids_limit: {draw(st.sampled_from(['100', '-1', '0']))}")
        elif extra == "command":
            lines.append(f"{indent}command: [\"sh\", \"-c\", {odd}]")
        elif extra == "comment-line":
            lines.append(f"{indent}# a comment between keys")
        else:
            lines.append("")
    return lines


@st.composite
def compose_documents(draw: st.DrawFn) -> bytes:
    step = draw(st.sampled_from([2, 4]))
    ind = " " * step
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("# top comment")
    use_anchor = draw(st.booleans())
    if use_anchor:
        anchor_style = draw(st.sampled_from(["block", "flow"]))
        if anchor_style == "block":
            lines.append("x-defaults: &defaults")
            lines += draw(setting_lines(ind))[1:]
            lines.append(f"{ind}restart: {draw(st.sampled_from(['always', 'unless-stopped']))}")
        else:
            lines.append("x-defaults: &defaults {restart: always, environment: {A: '1'}}")
    lines.append("services:")
    names = draw(st.lists(NAME, min_size=1, max_size=3, unique=True))
    for name in names:
        form = draw(st.sampled_from(["block", "flow", "merge", "merge-list"] if use_anchor
                                    else ["block", "flow"]))
        if form == "flow":
            image = draw(st.sampled_from(IMAGES))
            lines.append(f"{ind}{name}: {{image: {image}, restart: always}}{draw(COMMENT)}")
            continue
        lines.append(f"{ind}{name}:{draw(COMMENT)}")
        if form == "merge":
            lines.append(f"{ind * 2}<<: *defaults")
        elif form == "merge-list":
            lines.append(f"{ind * 2}<<: [*defaults]")
        lines += draw(setting_lines(ind * 2))
    text = "\n".join(lines)
    if draw(st.booleans()):
        text += "\n"
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text.encode("utf-8")


@given(compose_documents())
def test_generated_compose_documents_conform(data: bytes) -> None:
    result = c.check_file("compose.yaml", "compose", data)
    assert result.status != "crashed", result.reason
    assert result.violations == [], data.decode("utf-8")


@given(compose_documents())
def test_bytes_outside_edits_are_preserved(data: bytes) -> None:
    """Character level: every original line that holds no key a fix names survives with all of its
    characters, in order (fixes only insert around it). Lines are aligned first (difflib on lines;
    a character-level alignment across the whole file can pair characters of different lines), then
    each old line of a changed block must be a character subsequence of the block's new text. The
    BOM is compared exactly."""
    import difflib

    result = c.run_once("compose.yaml", "compose", data, c.options_for("prod"))
    if not isinstance(result, Done):
        return
    new = c.output_bytes(result)
    assert new.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
    if new == data:
        return
    leaves, parents = c.named_keys(c.applied_intents(result.outcome.fixed))
    old_lines = data.decode("utf-8").splitlines(keepends=True)
    new_lines = new.decode("utf-8").splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag not in ("delete", "replace"):
            continue
        block = "".join(new_lines[j1:j2])
        for line in old_lines[i1:i2]:
            if any(c._holds_key(line, k) for k in leaves):
                continue
            body = line.rstrip("\r\n")
            it = iter(block)
            assert all(ch in it for ch in body), f"line {line!r} lost characters"
            ending = line[len(body):]
            if ending:  # its line ending is kept too, unless a flow mapping on it grew inside
                assert body + ending in block or any(c._holds_key(line, k) for k in parents), (
                    f"line {line!r} lost its line ending")


@given(compose_documents())
def test_libyaml_and_ruamel_give_the_same_fix(data: bytes) -> None:
    """The fast parser and the reference agree on generated documents too."""
    import os

    from rewriter.engine import Options, process
    from rewriter.errors import DockfixError
    from transforms import resolve_profile
    from rewriter.source import SourceFile

    options = Options(profile=resolve_profile("prod", {}))
    results = []
    for which in ("libyaml", "ruamel"):
        os.environ["DOCKFIX_YAML_BACKEND"] = which
        try:
            outcome = process("compose", SourceFile.from_bytes("compose.yaml", data), options, fix=True)
            results.append(("ok", outcome.new_text))
        except DockfixError:
            results.append(("error", None))
        finally:
            del os.environ["DOCKFIX_YAML_BACKEND"]
    assert results[0] == results[1]
