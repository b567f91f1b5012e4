"""dockerfile-parse as a second reader of build args in FROM lines (a differential test).

:func:`rewriter.project.stages_of` resolves ``ARG`` defaults and ``build.args`` in ``FROM`` the way
BuildKit does. ``DockerfileParser(build_args=...).parent_images`` resolves them independently;
wherever it can be trusted (the same number of instructions as BuildKit's parser, so no heredoc it
mis-reads, and no ``${VAR:-x}``/``${VAR:+x}`` modifier, which dockerfile-parse 2.0.1 leaves
half-expanded: last test) the two must agree on every fixture Dockerfile.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from rewriter.errors import DockfixError
from rewriter.project import stages_of
from rewriter.source import SourceFile
from rewriter.surfaces import dockerfile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and "dockerfile" in p.name.lower())
MODIFIER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?[-+]")


def _theirs(text: str, args: dict[str, str]) -> tuple[list[str], int]:
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), build_args=args)
    return list(parser.parent_images), sum(i["instruction"] != "COMMENT" for i in parser.structure)


def _ours(path: str, text: str, args: dict[str, str]) -> tuple[list[str], int]:
    image = dockerfile.load(SourceFile.from_text(path, text))
    return [s.resolved for s in stages_of(image, dict(args))], len(image.instructions)


def test_there_are_dockerfiles_with_args_in_from() -> None:
    assert len(FILES) > 50
    assert sum("ARG" in p.read_text(encoding="utf-8", errors="replace") for p in FILES) >= 5


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
@pytest.mark.parametrize("args", [{}, {"GO_VERSION": "1.23", "BASE": "alpine:3.20", "VERSION": "9"}])
def test_from_lines_resolve_as_dockerfile_parse_does(path: Path, args: dict[str, str]) -> None:
    text = path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
    if MODIFIER.search(text):
        pytest.skip("a ${VAR:-x} modifier: dockerfile-parse does not expand it")
    try:
        ours, count = _ours(str(path), text, args)
    except DockfixError as err:  # not a Dockerfile BuildKit reads: nothing to compare
        pytest.skip(f"not parsed: {err}")
    theirs, their_count = _theirs(text, args)
    if their_count != count:
        pytest.skip("dockerfile-parse reads a different number of instructions (heredoc)")
    assert ours == theirs


@pytest.mark.parametrize(("text", "args", "want"), [
    ("ARG V=1.22\nFROM golang:${V} AS b\nRUN go build\nFROM b\n", {}, ["golang:1.22", "b"]),
    ("ARG V=1.22\nFROM golang:$V\n", {"V": "1.23"}, ["golang:1.23"]),
    ('ARG V="1.19"\nFROM golang:$V\n', {}, ["golang:1.19"]),
    ("ARG A=1 B=2\nFROM img:$A.$B\n", {}, ["img:1.2"]),
    ("FROM a\nARG V=2\nFROM golang:$V\n", {}, ["a", "golang:"]),  # an ARG after FROM is not global
])
def test_both_readers_agree_on_the_cases_that_matter(text: str, args: dict[str, str], want: list[str]) -> None:
    assert _ours("Dockerfile", text, args)[0] == want
    assert _theirs(text, args)[0] == want


@pytest.mark.parametrize(("text", "args", "buildkit", "dockerfile_parse"), [
    ("ARG V\nFROM golang:${V:-1.21}\n", {}, "golang:1.21", "golang::-1.21}"),
    ("ARG V=1.22\nFROM golang:${V:-1.21}\n", {}, "golang:1.22", "golang:1.22:-1.21}"),
    ("ARG V\nFROM golang:${V:+x}\n", {"V": "1"}, "golang:x", "golang:1:+x}"),
])
def test_dockerfile_parse_still_misreads_modifiers(text: str, args: dict[str, str], buildkit: str,
                                                   dockerfile_parse: str) -> None:
    """Why dockfix does not resolve FROM with dockerfile-parse (docs/architecture.md, "The two
    checking libraries"; upstream issue containerbuildsystem/dockerfile-parse#122): BuildKit
    expands ``${V:-x}`` and ``${V:+x}``, dockerfile-parse 2.0.1 leaves them half-expanded. When
    a release gets it right this test fails, and stages_of can use it instead."""
    assert _ours("Dockerfile", text, args)[0] == [buildkit]
    assert _theirs(text, args)[0] == [dockerfile_parse]
