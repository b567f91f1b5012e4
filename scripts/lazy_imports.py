"""List (or mark) the imports made inside functions in ``rewriter/`` and ``transforms/``.

Every such import is there for start-up speed only (the import graph has no cycle to hide:
``lint-imports`` checks it, counting function-level imports too) and says so with a trailing
``# lazy: start-up`` comment; ``tests/test_layers.py`` fails on one without it.

    python scripts/lazy_imports.py          # list the unmarked ones, exit 1 if any
    python scripts/lazy_imports.py --mark   # append the comment to each unmarked one
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = "# lazy:"


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def function_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The import statements inside a function body (``if TYPE_CHECKING:`` blocks left out)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)) and in_function:
                found.append(child)
            walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    walk(tree, False)
    return found


def unmarked(root: Path = ROOT) -> list[tuple[Path, int]]:
    """(file, line) of every function-level import whose first line lacks ``# lazy:``."""
    out: list[tuple[Path, int]] = []
    for path in sorted([*(root / "rewriter").rglob("*.py"), *(root / "transforms").rglob("*.py")]):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in function_imports(ast.parse(text, str(path))):
            if MARK not in lines[node.lineno - 1]:
                out.append((path, node.lineno))
    return out


def mark(found: list[tuple[Path, int]]) -> None:
    by_file: dict[Path, list[int]] = {}
    for path, line in found:
        by_file.setdefault(path, []).append(line)
    for path, numbers in by_file.items():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for n in numbers:
            body = lines[n - 1].rstrip("\n")
            code, sep, comment = body.partition("  # ")
            if sep and not comment.startswith("type:"):
                lines[n - 1] = f"{code}  {MARK} start-up ({comment.strip()})\n"
            else:
                lines[n - 1] = f"{body}  {MARK} start-up\n"
        path.write_text("".join(lines), encoding="utf-8")


def main(argv: list[str]) -> int:
    found = unmarked()
    if "--mark" in argv:
        mark(found)
        return 0
    for path, line in found:
        print(f"{path.relative_to(ROOT)}:{line}: function-level import without '{MARK} start-up'")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
