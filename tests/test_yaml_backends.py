"""libyaml (the fast path) and ruamel.yaml (the reference) must agree on every real file: the
same spans (but for empty values, which have no text), the same findings, the same fixed bytes,
and both fail where one fails."""

from __future__ import annotations

import pytest

from conftest import FIXTURES
from rewriter.engine import Options, process
from rewriter.errors import DockfixError
from transforms import resolve_profile
from rewriter.source import SourceFile
from rewriter.yamlview import backend, parse_yaml

FILES = sorted(p for p in (FIXTURES / "real").rglob("*") if p.suffix in (".yaml", ".yml")) + \
    sorted((FIXTURES / "compose").glob("*/*.yaml")) + sorted((FIXTURES / "override").glob("*/*.yaml"))
PROD = Options(profile=resolve_profile("prod", {}))


def _run(monkeypatch: pytest.MonkeyPatch, which: str, data: bytes, name: str) -> tuple[str, object]:
    monkeypatch.setenv("DOCKFIX_YAML_BACKEND", which)
    assert backend() == which
    src = SourceFile.from_bytes(name, data)
    try:
        doc = parse_yaml(src)
        spans: list[tuple[int, int]] = []
        stack = [doc.root] if doc.root is not None else []
        while stack:
            node = stack.pop()
            if node.id == "scalar" and node.value == "" and node.style is None:
                continue  # an empty value has no text; the two place its mark differently
            spans.append((node.start_mark.index, node.end_mark.index))
            if node.id == "mapping":
                stack.extend(v for pair in node.value for v in pair)
            elif node.id == "sequence":
                stack.extend(node.value)
        outcome = process("compose", src, PROD, fix=True)
    except DockfixError as err:
        return "error", (err.line, err.column)
    return "ok", (spans, outcome.new_text, [(f.code, f.line, f.message) for f in outcome.findings])


def test_libyaml_is_available_here() -> None:
    pytest.importorskip("yaml")
    import yaml

    assert yaml.__with_libyaml__


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_backends_agree(path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()
    fast = _run(monkeypatch, "libyaml", data, str(path))
    reference = _run(monkeypatch, "ruamel", data, str(path))
    assert fast[0] == reference[0]
    if fast[0] == "ok":
        assert fast == reference


def test_pyyaml_compiles_its_patterns_on_first_use() -> None:
    """yamlview imports PyYAML with its import-time regular expressions left uncompiled (the
    unprintable-character class alone costs 3.5 ms of a cold start): they still match what
    PyYAML's compiled ones match, ``re.compile`` is PyYAML's own again afterwards, and a pattern
    the C loader never uses (the pure-Python reader's) is never compiled."""
    import subprocess
    import sys

    from conftest import ROOT

    code = (
        "import re, sys\n"
        "from rewriter.yamlview import _import_pyyaml\n"
        "compile_ = re.compile\n"
        "yaml = _import_pyyaml()\n"
        "assert re.compile is compile_\n"
        "assert not isinstance(yaml.reader.Reader.NON_PRINTABLE, re.Pattern)\n"
        "text = 'a: 2001-12-14\\nb: 0x1F\\nc: yes\\nd: 1.5e+3\\ne: ~\\nf: 1:20\\ng: nginx:1.27\\n'\n"
        "print(sorted(yaml.load(text, Loader=yaml.CSafeLoader).items()))\n"
        "print(sorted(yaml.load(text, Loader=yaml.SafeLoader).items()))\n"
        "print([k.tag for k, _ in yaml.compose('<<: {}\\n', Loader=yaml.CSafeLoader).value])\n"
        "try:\n"
        "    yaml.load('a: \\x07', Loader=yaml.SafeLoader)\n"
        "except yaml.reader.ReaderError as err:\n"
        "    print('unprintable', err.character == 7)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    expected = ("[('a', datetime.date(2001, 12, 14)), ('b', 31), ('c', True), ('d', 1500.0), ('e', None), "
                "('f', 80), ('g', 'nginx:1.27')]")
    assert proc.stdout.splitlines() == [expected, expected, "['tag:yaml.org,2002:merge']", "unprintable True"]


INT_PATTERN = r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"
FLOAT_PATTERN = (r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                 r"|\.(?:nan|NaN|NAN))$")
NUMBER_EDGES = ["", "0", "-0", "+1", "+-1", "1_0", "0o17", "0o", "0o8", "-0o1", "0x1F", "0xg", "0x", "0X1", "00x1",
                "1.", ".5", ".", "-.5", "1.2.3", "1e5", "1e+5", "1E-5", "1e", "e5", ".e5", "1.e5", "1eE5", "1Ee5",
                ".inf", "-.Inf", "+.INF", ".iNf", ".nan", "-.nan", ".NaN", "12\n", "12\n\n", "\n", "1.5\n", "٣",
                "1 ", " 1", "1e5\n", "0x1F\n"]


@pytest.mark.parametrize("text", NUMBER_EDGES)
def test_numbers_read_as_the_core_schema_patterns(text: str) -> None:
    import re

    from rewriter.yamlview import _is_float, _is_int

    assert (_is_int(text), _is_float(text)) == (bool(re.match(INT_PATTERN, text)), bool(re.match(FLOAT_PATTERN, text)))


def test_numbers_read_as_the_core_schema_patterns_generated() -> None:
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rewriter.yamlview import _is_float, _is_int

    @settings(max_examples=3000, deadline=None)
    @given(st.text(alphabet="0123456789+-.eExoabfABFinfINFNa\n _٣", max_size=10))
    def agree(text: str) -> None:
        assert _is_int(text) == bool(re.match(INT_PATTERN, text)), text
        assert _is_float(text) == bool(re.match(FLOAT_PATTERN, text)), text

    agree()


def test_pyyaml_imports_plainly_while_another_thread_runs() -> None:
    """With another thread running (the language server checks in one), ``re.compile`` is not
    swapped: that thread could compile a pattern of its own meanwhile."""
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import re, threading\n"
            "stop = threading.Event()\n"
            "threading.Thread(target=stop.wait).start()\n"
            "from rewriter.yamlview import _import_pyyaml\n"
            "yaml = _import_pyyaml()\n"
            "stop.set()\n"
            "print(isinstance(yaml.reader.Reader.NON_PRINTABLE, re.Pattern))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert (proc.returncode, proc.stdout) == (0, "True\n"), proc.stderr
