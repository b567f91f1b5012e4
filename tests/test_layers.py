"""The layers hold (docs/architecture.md): no import cycle, lazy imports marked as such.

``lint-imports`` (the contract in pyproject.toml) runs in .ci/run; these checks need nothing but
the standard library, so the suite keeps them even where the dev extra is not installed.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lazy_imports_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("lazy_imports", ROOT / "scripts" / "lazy_imports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lazy_imports"] = module
    spec.loader.exec_module(module)
    return module


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports, at the top or inside functions (as import-linter
    counts them); ``from pkg import name`` counts ``pkg.name`` when that is a module."""
    files = [*(root / "rewriter").rglob("*.py"), *(root / "transforms").rglob("*.py")]
    names = {_module_name(p, root): p for p in files}
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        out: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names if a.name in names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                for alias in node.names:
                    if f"{base}.{alias.name}" in names:
                        out.add(f"{base}.{alias.name}")
                    elif base in names:
                        out.add(base)
        out.discard(name)
        graph[name] = out
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_even_through_function_level_imports() -> None:
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    """The check above can fail: the errors <-> source cycle of before, in miniature."""
    pkg = tmp_path / "rewriter"
    pkg.mkdir()
    (tmp_path / "transforms").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("def render():\n    from rewriter.source import display_path\n")
    (pkg / "source.py").write_text("from rewriter.errors import ParseError\n")
    assert cycles(import_graph(tmp_path)) == [["rewriter.errors", "rewriter.source"]]


def test_every_function_level_import_says_it_is_lazy_for_start_up() -> None:
    """A function-level import is there for start-up speed only; ``python scripts/lazy_imports.py
    --mark`` marks new ones (after checking that they hide no cycle: the test above)."""
    assert _lazy_imports_script().unmarked() == []


def test_unmarked_lazy_import_is_found(tmp_path: Path) -> None:
    for package in ("rewriter", "transforms"):
        (tmp_path / package).mkdir()
    (tmp_path / "rewriter" / "a.py").write_text(
        "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    import typing\n\n\ndef f():\n    import os\n"
        "    import re  # lazy: start-up\n")
    found = _lazy_imports_script().unmarked(tmp_path)
    assert [(p.name, line) for p, line in found] == [("a.py", 7)]


def test_ci_runs_the_readme_command_layers_and_types_first() -> None:
    """.ci/run is the README's test command: the same extras, lint-imports and mypy before pytest."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = readme.split("this is what `.ci/run` does", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    steps = [s.strip() for s in command.replace("\\\n", " ").split("&&")]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert steps[0] == "python3 -m venv .venv" and steps[0] in ci
    assert steps[1:] == [".venv/bin/pip install -q -e '.[test,dev]'", ".venv/bin/lint-imports",
                         ".venv/bin/python -m mypy", ".venv/bin/python -m pytest -q"]
    positions = [ci.index(step) for step in steps[1:]]
    assert positions == sorted(positions)
    assert ci.index("set +e") > ci.index(".venv/bin/python -m mypy")  # a failing check stops the run


def test_exit_codes_are_defined_once() -> None:
    """``EXIT_*`` lives in :mod:`rewriter.errors`; the front ends import it (it was defined three times)."""
    import re

    defined = [path.relative_to(ROOT).as_posix()
               for path in sorted([*(ROOT / "rewriter").rglob("*.py"), *(ROOT / "transforms").rglob("*.py")])
               if re.search(r"^\s*EXIT_\w+(?:\s*,\s*EXIT_\w+)*\s*=", path.read_text(encoding="utf-8"), re.M)]
    assert defined == ["rewriter/errors.py"]
