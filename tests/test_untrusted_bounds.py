"""Bounded work on untrusted repositories (issue 15, items 6-11): a crafted file cannot crash
dockfix, make it run for minutes, or use gigabytes; tokens never reach an error message; and text
from the repository cannot inject workflow commands or Markdown.

Each hostile input runs in a subprocess with a timeout, so that a regression shows as a failed test
rather than a hung suite: the timeouts are many times what the bounded code needs, and far below
what the old code took (given beside each). No assertion is about elapsed time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewriter.edits import Edit, Fix, select_compatible

ROOT = Path(__file__).resolve().parent.parent


def _dockfix(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``dockfix ARGS`` in a subprocess; a run past ``timeout`` fails the test."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("DOCKFIX_PROFILE", None)
    try:
        return subprocess.run([sys.executable, "-m", "rewriter", *args, "--jobs", "1", "--no-cache"],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"dockfix {' '.join(args)} still running after {timeout} s")


def _services(n: int) -> str:
    return "services:\n" + "".join(f"  s{i}:\n    image: nginx\n" for i in range(n))


# -- item 8: fix selection and regular expressions are linear --------------------------------------


def test_diff_of_thousands_of_services_is_not_quadratic(tmp_path: Path) -> None:
    # old code: 1,000 / 2,000 / 4,000 services took 14 / 56 / over 120 s
    (tmp_path / "compose.yaml").write_text(_services(3000))
    result = _dockfix(["diff", "compose.yaml"], tmp_path, timeout=90)
    assert result.returncode == 1, result.stderr
    assert result.stdout.count("+    pids_limit: 512\n") == 3000
    assert "1 file would be changed (15000 fixes)." in result.stderr
    # the diff (past difflib's size, see rewriter/diff.py) still applies and gives the fixed file
    applied = subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=result.stdout, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    fixed = (tmp_path / "compose.yaml").read_text()
    assert fixed.count("    pids_limit: 512\n") == 3000 and fixed.startswith("services:\n  s0:\n    image: nginx\n")


def _overlaps_naively(fixes: list[Fix]) -> list[Fix]:
    """The pairwise choice select_compatible must reproduce."""
    chosen: list[Fix] = []
    for fix in fixes:
        if all(not fix.overlaps(c) for c in chosen):
            chosen.append(fix)
    return chosen


@st.composite
def _fixes(draw: st.DrawFn) -> list[Fix]:
    out = []
    for n in range(draw(st.integers(0, 12))):
        edits = []
        for _ in range(draw(st.integers(0, 3))):
            start = draw(st.integers(0, 30))
            end = start + draw(st.sampled_from([0, 0, 1, 2, 5]))
            edits.append(Edit(start, end, "x"))
        claims = frozenset(draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=1)))
        out.append(Fix(f"fix {n}", tuple(edits), claims=claims))
    return out


@settings(max_examples=300, deadline=None)
@given(_fixes())
def test_select_compatible_chooses_as_the_pairwise_test_does(fixes: list[Fix]) -> None:
    assert select_compatible(fixes) == _overlaps_naively(fixes)


def test_unclosed_github_expressions_in_a_workflow(tmp_path: Path) -> None:
    # old code: a 312 KB line of unclosed ``${{`` took over 100 s (the lazy .*? per opening)
    wf = tmp_path / ".github" / "workflows" / "ci.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: docker run "
                  + "${{ " * 40000 + "nginx\n      - run: docker run ${{ env.IMG }}\n")
    result = _dockfix(["check", "."], tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr
    assert ".github/workflows/ci.yml:7:" in result.stdout


def test_github_expression_mask_matches_the_expression() -> None:
    from rewriter.surfaces.shell import GHA_EXPR, mask_expressions

    def by_regex(text: str) -> str:
        return GHA_EXPR.sub(lambda m: "${" + "G" * (len(m.group(0)) - 3) + "}", text)

    @settings(max_examples=500, deadline=None)
    @given(st.lists(st.sampled_from(["${{", "}}", "}", "$", "{", " ", "\n", "\r", "a"]), max_size=14).map("".join))
    def same(text: str) -> None:
        assert mask_expressions(text) == by_regex(text)

    same()


CGROUP_RE = re.compile(r"(?:>{1,2}|\btee\b(?:\s+-\S+)*)\s*['\"]?/sys/fs/cgroup\b")
ULIMIT_RE = re.compile(r"\bulimit\s+(?:-[A-Za-z]*n[A-Za-z]*\s+)(\d+)")
SHELL_TOKENS = ["tee", " ", "\t", "\n", "-", ">", ">>", "/sys/fs/cgroup", "'", '"', "a", "x_", "/", "n",
                "ulimit", "5", "\\"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(SHELL_TOKENS), max_size=14).map("".join))
def test_linear_image_matchers_agree_with_their_expressions(text: str) -> None:
    from transforms.image_antipatterns import cgroup_write, ulimit_nofile

    assert cgroup_write(text) == bool(CGROUP_RE.search(text))
    m = ULIMIT_RE.search(text)
    assert ulimit_nofile(text) == (m.group(1) if m else None)


def test_tee_flag_chains_in_a_dockerfile(tmp_path: Path) -> None:
    # old code: every ``tee`` inside the flags restarted the flag run: 45 KB took 14 s, 90 KB 50 s
    (tmp_path / "Dockerfile").write_text("FROM alpine\nRUN tee -tee -x\\\n" + "-tee -x\\\n" * 6000
                                         + "-tee -x /sys/fs/cgroup/memory.max\n")
    result = _dockfix(["check", "Dockerfile"], tmp_path, timeout=60)
    assert "Dockerfile:2:5: DF703" in result.stdout, result.stdout + result.stderr


def test_long_ulimit_flag_in_a_dockerfile(tmp_path: Path) -> None:
    # old code: a 60 KB ``-nnn...`` took 19 s (two stars splitting one run of letters)
    (tmp_path / "Dockerfile").write_text("FROM alpine\nRUN echo ulimit -" + "n" * 60000
                                         + " >> /etc/profile && echo 'ulimit -n 4096' >> /etc/profile\n")
    result = _dockfix(["check", "Dockerfile"], tmp_path, timeout=60)
    assert "Dockerfile:2:5: DF701" in result.stdout, result.stdout + result.stderr


def test_deeply_nested_command_substitution(tmp_path: Path) -> None:
    # old code: 50,000 levels of ``$(`` took 25 s (every level's words hold all the levels inside)
    levels = 50000
    (tmp_path / "run.sh").write_text("#!/bin/sh\ndocker run " + "$(" * levels + "x" + ")" * levels + " nginx\n"
                                     "docker run nginx\n")
    result = _dockfix(["check", "run.sh"], tmp_path, timeout=60)
    assert result.returncode == 2
    assert re.search(r"run\.sh:2:\d+: commands nest more than 64 deep", result.stderr), result.stderr


# -- item 7: .gitignore matching never backtracks ------------------------------------------------


def test_backtracking_gitignore_pattern(tmp_path: Path) -> None:
    # old code (pathspec's regular expressions): still running after 60 s
    (tmp_path / ".gitignore").write_text("*a*a*a*a*a*a*a*a*a*a*a*a*b\n")
    deep = tmp_path / ("a" * 80)
    deep.mkdir()
    (deep / "compose.yaml").write_text("services:\n  api:\n    image: nginx\n")
    result = _dockfix(["check", "."], tmp_path, timeout=30)
    assert result.returncode == 1, result.stderr
    assert f"{'a' * 80}/compose.yaml:2:3: DF101" in result.stdout


GITIGNORE = """\
# a comment
\\#hash
*.log
!keep.log
build/
/top.txt
docs/*.md
**/deep/x
a/**/b
out/**
[Tt]emp*
file[!0-9]
sp\\ 
tr   
*.py[cod]
\\!bang
what?ver
lit\\*star
x/**/y/**
[[:digit:]]num
"""

PATHS = [
    "a.log", "dir/a.log", "keep.log", "dir/keep.log", "build", "build/x.txt", "src/build", "src/build/y",
    "top.txt", "dir/top.txt", "docs/a.md", "docs/sub/a.md", "other/docs/a.md", "deep/x", "q/deep/x",
    "q/r/deep/x", "a/b", "a/q/b", "a/q/r/b", "xa/b", "out", "out/1", "out/1/2", "Temp1", "temp",
    "dir/tempo", "file1", "filea", "sp ", "sp", "tr", "tr   ", "m.pyc", "m.pyd", "m.py", "!bang", "bang",
    "whatever", "whatxver", "what/ver", "lit*star", "litXstar", "x/y/z", "x/q/y/z", "x/y", "#hash",
    "3num", "anum", "plain.txt", "dir/plain.txt",
]


def test_gitignore_matches_as_git_does(tmp_path: Path) -> None:
    from rewriter.gitignore import Spec

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text(GITIGNORE)
    dirs = {"build", "src/build", "out", "out/1", "docs", "docs/sub", "other/docs", "a", "a/q", "a/q/r",
            "xa", "q", "q/deep", "q/r", "q/r/deep", "deep", "dir", "src", "x", "x/y", "x/q", "x/q/y", "other",
            "what"}
    for d in sorted(dirs):
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
    for p in PATHS:
        if p not in dirs:
            (tmp_path / p).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / p).write_text("")
    listed = "\n".join(PATHS) + "\n"
    git = subprocess.run(["git", "-c", "core.quotePath=off", "check-ignore", "--no-index", "--stdin"], cwd=tmp_path,
                         input=listed, capture_output=True, text=True)
    assert git.returncode in (0, 1), git.stderr
    by_git = set(git.stdout.splitlines())
    spec = Spec.from_lines(GITIGNORE.splitlines())
    ours = {p for p in PATHS if spec.match_file(p + ("/" if p in dirs else ""))}
    assert ours == by_git
