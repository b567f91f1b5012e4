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
from pytest_httpserver import HTTPServer
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
    # --unsafe-fixes: the built-in memory limit and swap are suggestions, and this measures all five
    result = _dockfix(["diff", "compose.yaml", "--unsafe-fixes"], tmp_path, timeout=90)
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
    wf.write_text("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: docker run -d "
                  + "${{ " * 40000 + "nginx\n      - run: docker run -d ${{ env.IMG }}\n")
    result = _dockfix(["check", "."], tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr
    assert ".github/workflows/ci.yml:7:" in result.stdout


def test_github_expression_mask_matches_the_expression() -> None:
    from rewriter.surfaces.shell_regions import GHA_EXPR, mask_expressions

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
    # (the search is slow when nothing matches: here the chain ends without a cgroup path)
    (tmp_path / "Dockerfile").write_text("FROM alpine\nRUN tee -tee -x\\\n" + "-tee -x\\\n" * 12000
                                         + "-tee -x\nRUN echo 1 > /sys/fs/cgroup/memory.max\n")
    result = _dockfix(["check", "Dockerfile"], tmp_path, timeout=60)
    assert "Dockerfile:12004:5: DF703" in result.stdout, result.stdout + result.stderr
    assert result.stdout.count("DF703") == 1


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


# -- item 6: Python that would crash libcst -------------------------------------------------------

DEEP_PYTHON = "import docker\nc = docker.from_env()\nc.containers.run('nginx', x=" + "(" * 1500 + "1" + ")" * 1500 + ")\n"
GOOD_PYTHON = "import docker\nc = docker.from_env()\nc.containers.run('nginx')\n"


def test_deeply_nested_python_is_refused_and_the_run_goes_on(tmp_path: Path) -> None:
    # old code: libcst overflows its stack and the process dies (exit 139; with 8 files or more, a
    # BrokenProcessPool traceback)
    (tmp_path / "app.py").write_text(DEEP_PYTHON)
    for n in range(9):
        (tmp_path / f"ok{n}.py").write_text(GOOD_PYTHON)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "rewriter", "check", ".", "--no-cache", "--jobs", "2"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "app.py:3:" in result.stderr and "more than 200 nested brackets" in result.stderr
    assert result.stdout.count("ok0.py:3:1: DF") == 5


@pytest.mark.parametrize(("expression", "what"), [
    ("(" * 201 + "1" + ")" * 201, "more than 200 nested brackets"),
    ("[" * 3000 + "]" * 3000, "more than 200 nested brackets"),
    ('f"{' * 300 + "1" + '}"' * 300, "more than 200 nested brackets"),
    ("-" * 5000 + "1", "a chain of more than 1000 operators"),
    ("+".join(["1"] * 5000), "a chain of more than 1000 operators"),
    ("a" + ".b" * 5000, "a chain of more than 1000 operators"),
])
def test_python_nesting_precheck(expression: str, what: str, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(f"import docker\nc = docker.from_env()\nc.containers.run('nginx', x={expression})\n")
    result = _dockfix(["check", "app.py"], tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert re.search(r"app\.py:3:\d+: Python nests too deeply for a safe parse \(" + re.escape(what), result.stderr)


def test_python_nesting_precheck_lets_ordinary_code_through() -> None:
    from rewriter.source import SourceFile
    from rewriter.surfaces.python_cst import check_nesting

    ordinary = ("x = [" + "(1, 2), " * 5000 + "]\n" + "y = " + " + ".join(["a.b(c)[d]"] * 200) + "\n"
                + "z = " + "(" * 190 + "1" + ")" * 190 + "\n" + 'w = f"{{literal}} {a} {b[1]}"\n' + "s = '((((((((('\n" * 30)
    check_nesting(SourceFile.from_text("ok.py", ordinary))


def test_language_server_survives_deep_python(tmp_path: Path) -> None:
    # old code: the server process dies in libcst (the engine calls segfault)
    program = (
        "import sys\n"
        "from rewriter import lsp\n"
        "text = sys.stdin.read()\n"
        "settings = lsp.Settings()\n"
        "checked = lsp.check_text(text, sys.argv[1], 'python', settings)\n"
        "from rewriter.output import error_text\n"
        "print(error_text(checked.error) if checked.error else 'no error')\n"
        "print(lsp.fixed_text(text, sys.argv[1], 'python', settings) == text)\n"
        "from lsprotocol import types as t\n"
        "at = t.Position(line=2, character=0)\n"
        "wanted = [t.Diagnostic(range=t.Range(start=at, end=at), message='x', code='DF101', source='dockfix')]\n"
        "print(lsp.quick_fixes(text, sys.argv[1], 'python', settings, 'file:///x', wanted, 'utf-16'))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", program, str(tmp_path / "app.py")], input=DEEP_PYTHON, cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "app.py:3:" in lines[0] and "nested brackets" in lines[0]
    assert lines[1:] == ["True", "[]"]


# -- item 10: the token never reaches a message ---------------------------------------------------

from test_bot import TOKEN, FakeGitHub, Repo, fake, repo, run_pr  # noqa: E402,F401  (fixtures)


def test_token_with_a_trailing_newline_is_stripped(repo: Repo, fake: FakeGitHub,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # old code: "LocalProtocolError: Illegal header value b'Bearer ghs_...\n'" printed the token
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN + "\n")
    rc, out = run_pr(capsys, "--profile", "prod")  # asserts the token is not in the output
    assert rc == 0, out
    assert len(fake.pulls) == 1


def test_a_token_too_short_to_be_real_is_refused(repo: Repo, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # old code: a one-character token was used, and masking it replaced that character in every
    # git message
    monkeypatch.setenv("GITHUB_TOKEN", "e")
    rc, out = run_pr(capsys, "--profile", "prod")
    assert rc == 2 and "too short" in out and "GITHUB_TOKEN" in out
    assert repo.remote_sha("dockfix/prod") is None


def test_every_form_of_the_token_is_masked_and_only_whole() -> None:
    from rewriter.secrets import Scrubber

    token = "ghs_Secret/Value+1\n"
    scrub = Scrubber([token])
    for form in ("ghs_Secret/Value+1", "ghs_Secret/Value+1\\n", "b'Bearer ghs_Secret/Value+1\\n'",
                 "ghs_Secret%2FValue%2B1%0A", "ghs_Secret%2FValue%2B1", '"ghs_Secret/Value+1\\n"'):
        assert "Secret" not in scrub(f"error: {form} here"), form
    assert "Secret" not in scrub(f"Illegal header value {('Bearer ' + token).encode()!r}")
    assert Scrubber(["abcdefgh"])("xabcdefghx abcdefgh.") == "xabcdefghx ***."


def test_httpx_error_text_is_scrubbed(httpserver: HTTPServer) -> None:
    from rewriter.github import GitHub, GitHubError

    token = "ghs_0123456789abcdef"
    gh = GitHub(httpserver.url_for("/"), "acme/shop", token + "\n", timeout=5)
    gh._client.headers["Authorization"] = f"Bearer {token}\n"  # what the old code sent
    with pytest.raises(GitHubError) as raised:
        gh.default_branch()
    gh.close()
    assert "0123456789abcdef" not in str(raised.value)
    assert "***" in str(raised.value)


# -- items 11 and 12: repository text cannot inject workflow commands or Markdown ----------------


def test_control_characters_in_names_are_escaped_in_human_output(tmp_path: Path) -> None:
    # old code: the service name's newline started a line "::error ...", which a runner obeys
    (tmp_path / "compose.yaml").write_text(
        'services:\n  "api\\n::error file=x::pwned\\n::stop-commands::abc\\u001b[31m":\n    image: nginx\n')
    for fmt in ("concise", "full"):
        result = _dockfix(["check", "compose.yaml", "--output-format", fmt], tmp_path)
        assert result.returncode == 1, result.stderr
        lines = (result.stdout + result.stderr).splitlines()
        assert not [line for line in lines if line.lstrip().startswith("::")], result.stdout
        assert "\x1b" not in result.stdout
        assert "api\\n::error file=x::pwned\\n::stop-commands::abc\\x1b[31m" in result.stdout


def test_a_path_cannot_start_a_workflow_command(tmp_path: Path) -> None:
    bad = tmp_path / "::stop-commands::abc"
    bad.mkdir()
    (bad / "compose.yaml").write_text("services:\n  api:\n    image: nginx\n")
    (bad / "docker-compose.yml").write_text("services: [\n")
    result = _dockfix(["check", "."], tmp_path)
    assert result.returncode == 2
    lines = (result.stdout + result.stderr).splitlines()
    assert lines and not [line for line in lines if line.lstrip().startswith("::")]
    assert "./::stop-commands::abc/compose.yaml:2:3: DF101" in result.stdout
    assert "./::stop-commands::abc/docker-compose.yml:2:1: invalid YAML" in result.stderr


def _outside_code(markdown: str) -> str:
    """The text of ``markdown`` with its code spans removed (fences of equal length pair up)."""
    return re.sub(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", " ", markdown)


def test_pr_body_shows_repository_text_only_in_code_spans() -> None:
    from rewriter.bot import Fixed, pr_body

    hostile = [
        Fixed("deploy/@octocat/compose.yaml", 2, "DF101", "add tmpfs ![x](https://evil.example/p.png)",
              "service '@admin <img src=x onerror=alert(1)> [click](https://evil.example)': no tmpfs"),
        Fixed("a`b``c|d/compose.yaml", 3, "DF401", "set pids_limit", "service '`@team` | x\nrow @admin [l](https://evil.example)': no pids limit"),
    ]
    body = pr_body("prod", hostile, 0)
    rows = [line for line in body.splitlines() if line.startswith("| ") and "DF" in line]
    assert len(rows) == 2
    for row in rows:
        outside = _outside_code(row.replace("\\|", ""))
        for marker in ("@", "<", "](", "!["):
            assert marker not in outside, (marker, row)
    assert "deploy/@octocat/compose.yaml" in rows[0]
    assert "``` a`b``c\\|d/compose.yaml ```" in rows[1]
    for line in body.splitlines():  # a newline in a cell would end the row and the code span with it
        outside = _outside_code(line.replace("\\|", ""))
        assert "@" not in outside and "](" not in outside and "![" not in outside, line


def test_a_file_name_with_a_newline_cannot_add_lines_to_a_diff(tmp_path: Path) -> None:
    name = "compose.\n+++ evil\nx.yaml"
    (tmp_path / name).write_text("services:\n  api:\n    image: nginx\n")
    result = _dockfix(["diff", "."], tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith('--- "a/compose.\\n+++ evil\\nx.yaml"\n+++ "b/compose.\\n+++ evil\\nx.yaml"\n')
    check = subprocess.run(["git", "apply", "--check", "-"], cwd=tmp_path, input=result.stdout, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stderr


# -- item 9: per-file caps bound memory --------------------------------------------------------------


def _peak_rss_kb(args: list[str], cwd: Path) -> tuple[int, int, str]:
    """Exit code, peak RSS (KB) and stderr of ``dockfix ARGS`` in a child process."""
    program = ("import resource, subprocess, sys\n"
               "r = subprocess.run([sys.executable, '-m', 'rewriter', *sys.argv[1:]], capture_output=True, text=True,\n"
               "                   timeout=240)\n"
               "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
               "sys.stderr.write(r.stderr)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", program, *args, "--jobs", "1", "--no-cache"], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    code, rss = result.stdout.split()
    return int(code), int(rss), result.stderr


def test_a_huge_compose_file_is_refused_before_it_costs_memory(tmp_path: Path) -> None:
    # old code: 2.1 MB of small services took 2.7 GB, 9.8 MB exhausted 6 GB
    lines = ["services:"] + [f"  s{i}: {{image: x}}" for i in range(260_000)]
    (tmp_path / "compose.yaml").write_text("\n".join(lines) + "\n")
    code, rss, err = _peak_rss_kb(["check", "compose.yaml"], tmp_path)
    assert code == 2, err
    assert "compose.yaml:1:1: too large to check: 260001 lines and flow items (the limit is 250000" in err
    assert rss < 300_000, rss


def test_too_many_services_is_an_error_that_names_the_cap(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(_services(40001))
    result = _dockfix(["check", "compose.yaml"], tmp_path, timeout=120)
    assert result.returncode == 2
    assert "compose.yaml:80002:3: too many containers (services, docker run commands, SDK calls) in one file: " \
           "40001 (dockfix checks at most 40000 per file" in result.stderr
    assert "DF101" not in result.stdout  # nothing half-checked is reported


def test_too_many_findings_is_an_error_that_names_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rewriter import engine
    from rewriter.errors import ParseError
    from transforms import resolve_profile
    from rewriter.source import SourceFile

    monkeypatch.setattr(engine, "MAX_FINDINGS", 9)
    src = SourceFile.from_text("compose.yaml", _services(2))  # 10 findings
    with pytest.raises(ParseError, match="too many findings in one file: 10 .dockfix checks at most 9"):
        engine.process("compose", src, engine.Options(profile=resolve_profile("prod", {})), fix=False)


def test_a_huge_python_file_is_not_given_to_libcst(tmp_path: Path) -> None:
    # old code: libcst takes about 40 us per token: 3 MB of list items kept it busy for minutes
    (tmp_path / "app.py").write_text(GOOD_PYTHON + "DATA = [\n" + "    (1, 2),\n" * 300_000 + "]\n")
    result = _dockfix(["check", "app.py"], tmp_path, timeout=90)
    assert result.returncode == 2, result.stderr
    assert re.search(r"app\.py:\d+:\d+: Python file too large to parse safely \(more than 250000 tokens\)",
                     result.stderr), result.stderr


def test_the_yaml_cap_applies_to_inputs_not_to_fixed_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    # a fixed file is longer than its input: 16,000 services (32,000 lines) become 176,000 lines,
    # and the oracle's re-parse must not count against the cap
    from rewriter import engine, yamlview
    from rewriter.errors import ParseError
    from transforms import resolve_profile
    from rewriter.source import SourceFile

    monkeypatch.setattr(yamlview, "MAX_YAML_LINES", 6)
    options = engine.Options(profile=resolve_profile("prod", {}))
    outcome = engine.process("compose", SourceFile.from_text("compose.yaml", _services(2)), options, fix=True)
    assert outcome.new_text is not None and outcome.new_text.count("pids_limit: 512") == 2
    assert not [f for f in outcome.findings if f.refused]
    with pytest.raises(ParseError, match="too large to check: 7 lines"):
        engine.process("compose", SourceFile.from_text("compose.yaml", _services(3)), options, fix=False)


def test_pr_bot_escapes_a_failed_file_in_its_log(repo: Repo, fake: FakeGitHub,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """``dockfix pr`` runs in a CI job and names each file it could not process on stderr: the
    file's path (and the parser's message) are repository text, printed raw, so a directory
    named with a newline and ``::error`` wrote a workflow command into the job's log."""
    bad = repo.push_to_main
    bad("x\n::error file=a::pwned\n::stop-commands::abc/compose.yaml", "services: [\n", "a file the bot cannot parse")
    rc, out = run_pr(capsys, "--profile", "prod")
    assert rc in (0, 1), out
    assert "::error file=a::pwned" in out  # named, escaped
    assert not [line for line in out.splitlines() if line.lstrip().startswith("::")], out


# -- item 8, found again: regular expressions added since -------------------------------------------

OLD_HELM = re.compile(r"\{\{-?\s*(?:[^}]*\.(?:Values|Release|Chart|Capabilities|Files|Template)\b"
                      r"|(?:include|template|toYaml|tpl|define)\b)|\|\s*nindent\b")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["{{", "{", "}", "}}", ".Values", ".Valuesx", ".Chart", " ", "-", "include",
                                 "|", "nindent", "a", "\n", "$"]), max_size=12).map("".join))
def test_helm_object_scan_agrees_with_the_expression_it_replaces(text: str) -> None:
    from rewriter.surfaces.kubernetes import _HELM, _helm_object

    assert (_helm_object(text) or bool(_HELM.search(text))) == bool(OLD_HELM.search(text))


def test_unclosed_template_braces_in_a_kubernetes_manifest(tmp_path: Path) -> None:
    # old code: ``\{\{[^}]*\.Values`` scanned from every ``{{`` to the end: 400 KB took minutes
    (tmp_path / "deploy.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: \""
                                          + "{{" * 500_000 + "\"\n")
    result = _dockfix(["check", "deploy.yaml"], tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr


def test_hostile_bake_files_beside_a_compose_file(tmp_path: Path) -> None:
    """``docker-bake.hcl`` is read to link ``image: example/api`` to its build: under (?m)
    ``^\\s*`` every line start ran over all the blank lines after it, and each unclosed target
    scanned to the end of the file (300 KB took minutes); a ``docker-bake.json`` nested 200,000
    deep raised RecursionError, which failed the Compose file beside it."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text("services:\n  api:\n    image: example/api:1\n")
    for name, text in (("docker-bake.hcl", 'target "a" {\n' + "\n" * 900_000),
                       ("docker-bake.hcl", 'target "a" {\n' * 70_000),
                       ("docker-bake.hcl", 'target "a" {\n' + "  tags = [\n" * 90_000),
                       ("docker-bake.json", "[" * 200_000)):
        (tmp_path / name).write_text(text)
        result = _dockfix(["check", "--select", "DF3", "compose.yaml"], tmp_path, timeout=60)
        assert result.returncode == 1, (name, result.stderr)
        (tmp_path / name).unlink()


def test_bake_targets_are_still_read() -> None:
    from rewriter.detectors.image import _hcl_targets

    text = ('group "default" {\n  targets = ["api"]\n}\n\ntarget "api" {\n  inherits = ["base"]\n'
            '  context = "app"\n  tags = [\n    "example/api:1",\n    "${REG}/api",\n  ]\n}\r\n'
            'target "base" {\n  dockerfile = "Dockerfile.base"\n  args = { A = "}" }\n}\n')
    assert _hcl_targets(text) == {"api": {"inherits": ["base"], "context": "app", "tags": ["example/api:1"]},
                                  "base": {"dockerfile": "Dockerfile.base"}}


def test_a_config_of_blank_lines_is_reported_at_once(tmp_path: Path) -> None:
    # old code: ``^\s*`` under MULTILINE ran from every line start over the blank lines after it:
    # 200 KB of them and an unknown ``[x]`` table took minutes to report
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text("services:\n  api:\n    image: nginx\n")
    (tmp_path / "dockfix.toml").write_text("\n" * 600_000 + "[x]\na = 1\n")
    result = _dockfix(["check", "."], tmp_path, timeout=60)
    assert result.returncode == 2 and "dockfix.toml:1:1: unknown key 'x'" in result.stderr, result.stderr
    (tmp_path / "dockfix.toml").write_text("\n\n  foo = 1\n")
    result = _dockfix(["check", "."], tmp_path, timeout=60)
    assert "dockfix.toml:3:1: unknown key 'foo'" in result.stderr, result.stderr  # its own line, not the first blank


def test_a_repository_nested_1500_directories_deep(tmp_path: Path) -> None:
    """Python 3.11's ``os.walk`` and the search for a config file recursed once per directory
    level: 1,500 nested directories (3,000 characters of path, which git stores) raised
    RecursionError, a traceback and exit 1, as if there were findings."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text("services:\n  api:\n    image: nginx\n")
    levels = [str(tmp_path / "a")]
    for _ in range(1499):
        levels.append(os.path.join(levels[-1], "a"))
    try:
        for level in levels:
            os.mkdir(level)
        deep = os.path.join(levels[-1], "compose.yaml")
        with open(deep, "w") as fh:
            fh.write("services:\n  deep:\n    image: nginx\n")
        result = _dockfix(["check", "--output-format", "concise", "."], tmp_path, timeout=120)
        assert "Traceback" not in result.stderr, result.stderr[-1500:]
        assert result.returncode == 1, result.stderr[-1500:]
        assert "a/a/compose.yaml:2:3: DF101" in result.stdout and "service 'deep'" in result.stdout
    finally:  # bottom-up, without recursion (shutil.rmtree recurses too)
        for level in reversed(levels):
            for name in os.listdir(level) if os.path.isdir(level) else []:
                os.unlink(os.path.join(level, name))
            if os.path.isdir(level):
                os.rmdir(level)


def test_a_walk_through_many_gitignore_files_is_linear(tmp_path: Path) -> None:
    """Every .gitignore met was kept in one list and every path tested against all of them: the
    walk was quadratic in directories (8,000 directories with a .gitignore and a Dockerfile each:
    4.6 s; 40,000: about two minutes). Each path now looks only at its own ancestors' files."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    for i in range(40_000):
        directory = repo / f"d{i}"
        directory.mkdir()
        (directory / ".gitignore").write_text("*.tmp.yaml\n")
        (directory / "Dockerfile").write_bytes(b"")
    (repo / "d7" / "compose.tmp.yaml").write_bytes(b"")  # ignored by d7/.gitignore
    (repo / "d7" / "compose.yaml").write_bytes(b"")
    program = ("import sys\nfrom rewriter.discovery import discover\n"
               "found = [t.path for t in discover([sys.argv[1]])]\n"
               "print(len(found), sum(p.endswith('.yaml') for p in found))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        result = subprocess.run([sys.executable, "-c", program, str(repo)], env=env, capture_output=True, text=True,
                                timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the walk of 40,000 directories still running after 60 s")
    assert result.stdout.split() == ["40001", "1"], result.stderr
