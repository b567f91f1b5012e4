"""The command line as users run it: exit codes, stdin, output formats, diffs git applies."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT

BASIC = (FIXTURES / "compose" / "basic" / "input.yaml").read_bytes()
BASIC_FIXED = (FIXTURES / "compose" / "basic" / "expected.prod.yaml").read_bytes()
BASIC_UNSAFE_FIXED = (FIXTURES / "compose" / "basic" / "expected.prod.unsafe.yaml").read_bytes()
COMPLIANT = (FIXTURES / "compose" / "compliant" / "input.yaml").read_bytes()
BROKEN = b"services:\n  api:\n    image: [unclosed\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "compose.yaml").write_bytes(BASIC)
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "docker-compose.yml").write_bytes(COMPLIANT)
    (tmp_path / "notes.yaml").write_bytes(b"services: {}\n")  # not a Compose file name: not walked
    return tmp_path


def test_check_exit_codes(run_cli, project: Path) -> None:
    code, out, err = run_cli("check", str(project / "ok"))
    assert code == 0 and out == b"" and "All checks passed" in err
    code, out, _ = run_cli("check", str(project))
    assert code == 1
    lines = out.decode().splitlines()
    assert lines and all(line.startswith(str(project / "app" / "compose.yaml") + ":") or
                         line.startswith(os.path.relpath(project / "app" / "compose.yaml")) for line in lines)
    assert any(" DF101 [*] service 'web': no tmpfs on '/tmp'" in line for line in lines)


def test_check_reports_line_and_column(run_cli, project: Path) -> None:
    code, out, _ = run_cli("check", "--select", "DF301", "app/compose.yaml", cwd=project)
    assert code == 1
    assert out.decode().startswith("app/compose.yaml:2:3: DF301 [*] service 'web': no memory limit")


def test_apply_writes_keeps_mode_and_is_idempotent(run_cli, project: Path) -> None:
    target = project / "app" / "compose.yaml"
    os.chmod(target, 0o640)
    code, _, err = run_cli("apply", str(project))
    assert code == 1, err  # the built-in memory limit is a suggestion: it remains a finding
    assert target.read_bytes() == BASIC_FIXED
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert (project / "ok" / "docker-compose.yml").read_bytes() == COMPLIANT
    assert not [p for p in (project / "app").iterdir() if p.name.startswith(".dockfix-")]
    code, out, _ = run_cli("diff", str(project))
    assert (code, out) == (0, b"")
    code, out, _ = run_cli("check", str(project))
    assert code == 1 and [line.split()[1] for line in out.decode().splitlines()] == ["DF301", "DF302"]
    code, out, _ = run_cli("check", "--ignore", "DF3", str(project))
    assert (code, out) == (0, b"")


def test_apply_exit_one_when_findings_remain(run_cli, tmp_path: Path) -> None:
    # pids_limit -1 is raised only by an unsafe fix: it remains after a plain apply
    f = tmp_path / "compose.yaml"
    f.write_bytes((FIXTURES / "compose" / "compliant" / "input.yaml").read_bytes().replace(b"pids_limit: 1024", b"pids_limit: -1"))
    code, out, err = run_cli("apply", str(f))
    assert code == 1
    assert b"DF402" in out and "more fixable" not in err
    code, _, _ = run_cli("apply", "--unsafe-fixes", str(f))
    assert code == 0
    assert b"pids_limit: 512" in f.read_bytes()


def test_diff_is_git_applicable(run_cli, project: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    code, out, _ = run_cli("diff", ".", cwd=project)
    assert code == 1
    assert out.startswith(b"--- a/app/compose.yaml\n+++ b/app/compose.yaml\n")
    from unidiff import PatchSet

    patch = PatchSet(out.decode())
    assert [p.path for p in patch] == ["app/compose.yaml"]
    (project / "change.diff").write_bytes(out)
    subprocess.run(["git", "apply", "--check", "change.diff"], cwd=project, check=True)
    subprocess.run(["git", "apply", "change.diff"], cwd=project, check=True)
    assert (project / "app" / "compose.yaml").read_bytes() == BASIC_FIXED


@pytest.mark.parametrize("case", ["crlf", "no-final-newline", "bom"])
def test_diff_applies_byte_exact_on_odd_files(run_cli, tmp_path: Path, case: str) -> None:
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    src = FIXTURES / "compose" / case
    (tmp_path / "compose.yaml").write_bytes((src / "input.yaml").read_bytes())
    code, out, _ = run_cli("diff", "compose.yaml", cwd=tmp_path)
    assert code == 1
    (tmp_path / "p.diff").write_bytes(out)
    subprocess.run(["git", "apply", "p.diff"], cwd=tmp_path, check=True)
    assert (tmp_path / "compose.yaml").read_bytes() == (src / "expected.prod.yaml").read_bytes()


def test_stdin_apply_prints_whole_fixed_text(run_cli) -> None:
    code, out, err = run_cli("apply", "-", "--stdin-filename", "compose.yaml", stdin=BASIC)
    assert out == BASIC_FIXED
    assert code == 1, err  # the suggested memory limit remains a finding
    code, out, _ = run_cli("apply", "-", "--stdin-filename", "compose.yaml", stdin=COMPLIANT)
    assert (code, out) == (0, COMPLIANT)


def test_stdin_check_and_diff(run_cli) -> None:
    code, out, _ = run_cli("check", "-", "--stdin-filename", "svc/compose.yaml", stdin=BASIC)
    assert code == 1 and out.startswith(b"svc/compose.yaml:")
    code, out, _ = run_cli("diff", "-", "--stdin-filename", "compose.yaml", stdin=BASIC)
    assert code == 1 and out.startswith(b"--- a/compose.yaml\n")


def test_stdin_broken_yaml_echoes_input_and_exits_2(run_cli) -> None:
    code, out, err = run_cli("apply", "-", "--stdin-filename", "compose.yaml", "--exit-zero", stdin=BROKEN)
    assert code == 2
    assert out == BROKEN
    assert err.startswith("compose.yaml:4:1: invalid YAML") or "compose.yaml:3:" in err


def test_broken_file_reported_and_others_still_fixed(run_cli, project: Path) -> None:
    bad = project / "bad" / "compose.yaml"
    bad.parent.mkdir()
    bad.write_bytes(BROKEN)
    code, _, err = run_cli("apply", ".", cwd=project)
    assert code == 2
    assert bad.read_bytes() == BROKEN
    line = [ln for ln in err.splitlines() if ln.startswith("bad/compose.yaml:")][0]
    assert line.split(":")[1:3] == ["4", "1"] or line.split(":")[1] == "3"
    assert "invalid YAML" in line
    assert (project / "app" / "compose.yaml").read_bytes() == BASIC_FIXED


def test_json_output_shape(run_cli) -> None:
    code, out, _ = run_cli("check", "-", "--stdin-filename", "compose.yaml", "--output-format", "json", stdin=BASIC)
    assert code == 1
    items = json.loads(out)
    assert {i["code"] for i in items} == {"DF101", "DF201", "DF301", "DF302", "DF401"}
    first = items[0]
    assert set(first) == {"code", "message", "severity", "filename", "location", "end_location", "fix"}
    assert first["severity"] in ("error", "warning", "info")
    assert set(first["location"]) == {"row", "column"} and first["location"]["row"] >= 1
    assert set(first["fix"]) == {"applicability", "message", "edits"}
    assert first["fix"]["applicability"] == "safe"
    edit = first["fix"]["edits"][0]
    assert set(edit) == {"content", "location", "end_location"}


def test_json_empty_list_when_clean(run_cli) -> None:
    code, out, _ = run_cli("check", "-", "--stdin-filename", "compose.yaml", "--output-format", "json", stdin=COMPLIANT)
    assert (code, json.loads(out)) == (0, [])


def test_github_format(run_cli) -> None:
    _, out, _ = run_cli("check", "-", "--stdin-filename", "compose.yaml", "--output-format", "github",
                        "--select", "DF401", stdin=BASIC)
    assert out.decode() == ("::warning title=dockfix (DF401),file=compose.yaml,line=2,col=3,endLine=2,endColumn=6::"
                            "compose.yaml:2:3: DF401 service 'web': no pids limit; threads and processes are "
                            "unbounded (profile prod: 512)\n")


def test_select_ignore_and_unknown_selector(run_cli) -> None:
    _, out, _ = run_cli("check", "-", "--stdin-filename", "compose.yaml", "--select", "DF1", stdin=BASIC)
    assert {line.split()[1] for line in out.decode().splitlines()} == {"DF101"}
    _, out, _ = run_cli("check", "-", "--stdin-filename", "compose.yaml", "--ignore", "DF1,DF2,DF3", stdin=BASIC)
    assert {line.split()[1] for line in out.decode().splitlines()} == {"DF401"}
    code, _, err = run_cli("check", "-", "--stdin-filename", "compose.yaml", "--select", "XX9", stdin=BASIC)
    assert code == 2 and "unknown rule selector 'XX9'" in err


def test_profiles_and_unknown_profile(run_cli) -> None:
    _, out, _ = run_cli("apply", "-", "--stdin-filename", "compose.yaml", "--profile", "dev", stdin=BASIC)
    assert out == (FIXTURES / "compose" / "basic" / "expected.dev.yaml").read_bytes()
    code, _, err = run_cli("check", "-", "--stdin-filename", "compose.yaml", "--profile", "qa", stdin=BASIC)
    assert code == 2 and "unknown profile 'qa'" in err


def test_config_profile_and_bad_config(run_cli, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_bytes(BASIC)
    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nprofile = "dev"\n')
    run_cli("apply", "compose.yaml", cwd=tmp_path)
    assert (tmp_path / "compose.yaml").read_bytes() == (FIXTURES / "compose" / "basic" / "expected.dev.yaml").read_bytes()
    (tmp_path / "dockfix.toml").write_text('profile = "prod"\nprofiles.prod.tmpfs-sise = "1g"\n')
    code, _, err = run_cli("check", "compose.yaml", cwd=tmp_path)
    assert code == 2
    assert "dockfix.toml:2:1: profile 'prod': unknown key 'tmpfs-sise'" in err


def test_exit_zero_and_exit_non_zero_on_fix(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "compose.yaml"
    f.write_bytes(BASIC)
    assert run_cli("check", "--exit-zero", str(f))[0] == 0
    assert run_cli("apply", "--unsafe-fixes", "--exit-non-zero-on-fix", str(f))[0] == 1
    assert run_cli("apply", "--unsafe-fixes", "--exit-non-zero-on-fix", str(f))[0] == 0


def test_rule_docs(run_cli) -> None:
    code, out, _ = run_cli("rule", "DF102")
    assert code == 0 and out.decode().startswith("DF102 (tmpfs-unbounded)") and b"half of the host's RAM" in out
    code, out, _ = run_cli("rule")
    assert code == 0 and len(out.decode().splitlines()) >= 9
    assert run_cli("rule", "DF999")[0] == 2


def test_bad_usage_exits_2(run_cli) -> None:
    assert run_cli("check", "--output-format", "xml")[0] == 2
    assert run_cli()[0] == 2


def test_console_script_runs_as_a_process(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_bytes(BASIC)
    proc = subprocess.run([sys.executable, "-m", "rewriter", "apply", "-", "--stdin-filename", "compose.yaml"],
                          input=BASIC, capture_output=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1, proc.stderr  # fixed; the suggested memory limit remains a finding
    assert proc.stdout == BASIC_FIXED


def test_console_script_exits_without_collecting(tmp_path: Path) -> None:
    """entry() freezes what the run loaded before the interpreter exits, so the collector's
    passes at exit (about 10 % of a cold start) skip it; the output is still flushed whole and
    atexit handlers still run."""
    code = ("import atexit, gc, sys\n"
            "sys.argv = ['dockfix', 'apply', '-', '--stdin-filename', 'compose.yaml']\n"
            "atexit.register(lambda: sys.stderr.write('frozen: %s' % (gc.get_freeze_count() > 10000)))\n"
            "from rewriter.cli import entry\n"
            "entry()\n")
    proc = subprocess.run([sys.executable, "-c", code], input=BASIC, capture_output=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, BASIC_FIXED, b"frozen: True")


def test_stdin_run_imports_no_heavy_modules(tmp_path: Path) -> None:
    code = ("import sys, io\nsys.argv=['dockfix']\n"
            # every regular expression compiled on the way (each costs 0.4 to 1.6 M instructions)
            "import re._compiler as rc\ncompiled = []\ncompile_ = rc.compile\n"
            "rc.compile = lambda p, flags=0: compiled.append(p) or compile_(p, flags)\n"
            "from rewriter.cli import main\n"
            "sys.stdin = io.TextIOWrapper(io.BytesIO(%r))\n"
            "rc = main(['apply','-','--stdin-filename','compose.yaml'])\n"
            "heavy = [m for m in ('libcst','dockerfile','dockerfile_parse','tree_sitter','pygls','httpx',"
            "'jsonschema','pathspec','unidiff','concurrent.futures','rewriter.project','ruamel.yaml',"
            # workload detectors load only for a service one of them knows (nginx: none)
            "'rewriter.detectors.jvm','rewriter.detectors.image','rewriter.detectors.databases',"
            # start-up cost: typing ~4 ms, dataclasses (+inspect) ~8 ms plus ~0.6 ms per class,
            # tomllib ~10 ms (no config here), shutil ~3 ms (argparse's help formatter)
            "'typing','dataclasses','inspect','tomllib','shutil','copy','fractions','heapq','pickle','hashlib',"
            # argparse ~2 ms and its gettext, which imports locale and looks for .mo files at every
            # message: the command line of format-on-save is read by cli.quick_args
            "'argparse','gettext','locale'"
            ") if m in sys.modules]\n"
            # PyYAML's import-time patterns compile on first use; the C loader never uses this one
            "import re\n"
            "heavy += ['NON_PRINTABLE'] if isinstance(sys.modules['yaml.reader'].Reader.NON_PRINTABLE, re.Pattern) else []\n"
            # 10 today: 4 of PyYAML's resolver (plain scalars), and 6 of dockfix's that this file
            # needs (its name, sizes, the profile's name, numbers when rendering, modes);
            # a new one on this path is compiled on first use (functools.cache) or counted here
            "heavy += compiled if len(compiled) > 10 else []\n"
            "sys.stderr.write(repr(heavy))\n" % BASIC)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stderr.decode().strip().endswith("[]"), proc.stderr


QUICK_COMMAND_LINES = [
    ["apply", "-", "--stdin-filename", "compose.yaml"], ["apply"], ["check", "a", "b", "-q"], ["check", "-q", "a", "b"],
    ["diff", "--profile=dev", "x"], ["apply", "--profile", "dev", "-"], ["apply", "--stdin-filename=-", "-"],
    ["apply", "--config", "c.toml", "--isolated", "--no-cache", "--unsafe-fixes", "--no-unsafe-fixes", "."],
    ["apply", "-q", "a", "-q"], ["apply", "--profile", "a", "--profile", "b", "--profile="], ["check", ""],
    ["check", "p", "--quiet", "--exit-zero", "--exit-non-zero-on-fix", "--no-inline-ignores", "--no-respect-gitignore"],
]
ARGPARSE_COMMAND_LINES = [
    ["check", "a", "-q", "b"], ["apply", "--profile"], ["apply", "--profile", "-x"], ["apply", "--prof", "dev"],
    ["apply", "-h"], ["apply", "--", "-"], ["apply", "-qq"], ["apply", "--quiet=yes"], ["apply", "--jobs", "2"],
    ["apply", "--select", "DF1"], ["apply", "--output-format", "json"], ["apply", "--file-type", "compose"],
    ["apply", "--write-to", "override"], ["apply", "-x"], ["apply", "--profile", "-1"], ["rule"], ["pr"], [],
    ["--version"], ["check", "--stdin-filename"],
]


@pytest.mark.parametrize("argv", QUICK_COMMAND_LINES + ARGPARSE_COMMAND_LINES, ids=" ".join)
def test_quick_reader_agrees_with_argparse(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Format-on-save's command line is read without argparse (4 ms of a cold start): what the
    quick reader reads, it reads as argparse does, and what it does not know goes to argparse."""
    from rewriter import cli

    monkeypatch.setenv("DOCKFIX_OUTPUT_FORMAT", "json")
    quick = cli.quick_args(argv)
    assert (quick is not None) == (argv in QUICK_COMMAND_LINES)
    if quick is not None:
        assert vars(quick) == vars(cli.build_parser(argv[0]).parse_args(argv))


def test_quick_reader_knows_the_parser_options() -> None:
    """Each option the quick reader takes is the parser's, with the same destination and value."""
    from rewriter import cli

    actions = {flag: action for action in cli.build_parser("apply")._subparsers._group_actions[0]  # type: ignore[union-attr]
               .choices["apply"]._actions for flag in action.option_strings}
    for flag, (dest, value) in cli._SWITCHES.items():
        assert (actions[flag].dest, actions[flag].const) == (dest, value), flag
    for flag, dest in cli._VALUED.items():
        assert (actions[flag].dest, actions[flag].nargs, actions[flag].type, actions[flag].choices) == (
            dest, None, None, None), flag


def test_configured_stdin_run_parses_the_config_once(tmp_path: Path) -> None:
    """The second format-on-save in a configured project reads its config from the cache."""
    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nprofile = "dev"\n')
    code = ("import sys, io\nsys.argv=['dockfix']\nfrom rewriter.cli import main\n"
            "sys.stdin = io.TextIOWrapper(io.BytesIO(%r))\n"
            "rc = main(['apply','-','--stdin-filename','compose.yaml'])\n"
            "sys.stderr.write(repr('tomllib' in sys.modules))\n" % BASIC)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("DOCKFIX_CACHE_DIR", None)
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=tmp_path, env=env)
            for _ in range(2)]
    assert [r.stderr.decode().split()[-1] for r in runs] == ["True", "False"], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout != BASIC  # the same (dev profile) fixes both times
    assert [p.name.split("-", 1)[1] for p in (tmp_path / "xdg" / "dockfix" / "config").iterdir()] == [
        "pyproject.toml.json"]
    assert not (tmp_path / ".dockfix_cache").exists()


def test_directory_walk_respects_gitignore(run_cli, tmp_path: Path) -> None:
    for d in ("kept", "ignored", "node_modules"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "compose.yaml").write_bytes(BASIC)
    (tmp_path / "kept" / "docker-compose.prod.yml").write_bytes(BASIC)
    (tmp_path / "kept" / "stack.yml").write_bytes(BASIC)
    (tmp_path / ".gitignore").write_text("ignored/\n")
    _, out, _ = run_cli("check", "--select", "DF401", ".", cwd=tmp_path)
    assert sorted({line.split(":")[0] for line in out.decode().splitlines()}) == [
        "kept/compose.yaml", "kept/docker-compose.prod.yml"]
    _, out, _ = run_cli("check", "--select", "DF401", "--no-respect-gitignore", ".", cwd=tmp_path)
    assert "ignored/compose.yaml" in out.decode()


def test_cache_reuses_results_and_notices_changes(run_cli, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rewriter import engine

    calls: list[str] = []
    real = engine.process

    def counting(kind, src, options, *, fix, companion=None):  # type: ignore[no-untyped-def]
        calls.append(src.path)
        return real(kind, src, options, fix=fix, companion=companion)

    monkeypatch.setattr("rewriter.runner.process", counting)
    first = run_cli("check", ".", cwd=project)
    assert len(calls) == 2
    second = run_cli("check", ".", cwd=project)
    assert len(calls) == 2 and second == first
    (project / "ok" / "docker-compose.yml").write_bytes(BASIC)  # content changed: re-checked
    code, out, _ = run_cli("check", ".", cwd=project)
    assert len(calls) == 3 and out.count(b"DF401") == 2
    run_cli("check", "--no-cache", ".", cwd=project)
    assert len(calls) == 5
    # apply must not trust a cached "findings remain" result: it runs and fixes
    run_cli("apply", ".", cwd=project)
    assert (project / "app" / "compose.yaml").read_bytes() == BASIC_FIXED
    calls.clear()
    code, out, _ = run_cli("check", ".", cwd=project)
    assert (code, calls) == (1, [])  # from the cache; only the suggested memory limits remain
    assert {line.split()[1] for line in out.decode().splitlines()} == {"DF301", "DF302"}


def test_cache_filled_from_the_process_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Results come back from worker processes with copies of the options: all must be cached."""
    for n in range(12):
        (tmp_path / f"s{n}").mkdir()
        (tmp_path / f"s{n}" / "compose.yaml").write_bytes(BASIC.replace(b"nginx", f"img{n}".encode()))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(tmp_path / "cache"))
    from rewriter.cache import Cache, options_key
    from rewriter.cli import main
    from rewriter.engine import Options
    from transforms import resolve_profile

    assert main(["check", "-q", "--jobs", "2", "."]) == 1
    cache = Cache.open(str(tmp_path), options_key(Options(profile=resolve_profile("prod", {}))))
    assert len(cache.entries) == 12


def test_cached_findings_come_back_equal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rewriter.cache import Cache, decode, encode
    from rewriter.deps import signature
    from rewriter.edits import Applicability, Edit, Fix, Intent
    from rewriter.engine import Finding
    from rewriter.model import Severity

    fallback = Fix("local", (Edit(9, 9, "x: 1\n", -4),), Applicability.UNSAFE,
                   (Intent("set", ("services", "a", "x"), {1: [True, None, 1.5, "s"]}),), frozenset({"c"}))
    fix = Fix("shared", (Edit(0, 3, "abc"),), intents=(Intent("delete", ("a", 0)),), scope="services.a",
              reach=frozenset({"services.b"}), fallback=fallback)
    findings = [Finding("DF101", "compose.yaml", 1, 2, 3, 4, "m", Severity.WARNING, fix, "services.a", ""),
                Finding("DF706", "Dockerfile", 1, 1, 1, 1, "n", Severity.INFO, None)]
    assert decode(encode(findings)) == findings
    stored = encode(findings)
    for bad in ([stored[0][:2] + ["1"] + stored[0][3:]],  # a line that is not a number
                [stored[0][:8] + [stored[0][8][:3] + [[["set", ["a"], compile("0", "x", "eval")]]]
                                  + stored[0][8][4:]] + stored[0][9:]],  # code as an intent's value
                [stored[0][:8] + [stored[0][8][:3] + [[["set", ["a"], ["x", 1]]]]
                                  + stored[0][8][4:]] + stored[0][9:]],  # an untagged array as a value
                [stored[1][:7] + ["fatal"] + stored[1][8:]]):  # no such severity
        with pytest.raises(ValueError):
            decode(bad)
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(tmp_path / "cache"))
    cache = Cache.open(str(tmp_path), "key")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    depends = {str(tmp_path / "Dockerfile"): signature(str(tmp_path / "Dockerfile")), "/nowhere/go.mod": None}
    cache.put("compose.yaml", b"data", findings, depends)
    cache.save()
    again = Cache.open(str(tmp_path), "key")
    assert again.get("compose.yaml", b"data") == findings
    assert again.get("compose.yaml", b"other data") is None
    (tmp_path / "Dockerfile").write_text("FROM scratch AS changed\n")
    assert again.get("compose.yaml", b"data") is None
    import datetime  # a value the cache cannot hold: that file is not cached, the rest still is

    odd = Finding("DF101", "x.yaml", 1, 1, 1, 1, "m", Severity.WARNING,
                  Fix("f", (), intents=(Intent("set", ("a",), datetime.date(2026, 1, 1)),)))
    again.put("x.yaml", b"x", [odd])
    again.put("y.yaml", b"y", findings[1:])
    again.save()
    assert Cache.open(str(tmp_path), "key").get("x.yaml", b"x") is None
    assert Cache.open(str(tmp_path), "key").get("y.yaml", b"y") == findings[1:]


@pytest.mark.parametrize("planted", ["pickle", "marshal-code", "marshal-wrong-shape"])
def test_a_planted_cache_file_runs_no_code(planted: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever bytes are in a cache file are data, never code (the cache is the user's, and JSON)."""
    import marshal
    import pickle

    from rewriter.cache import Cache, digest, options_key
    from rewriter.cli import main
    from rewriter.engine import Options
    from transforms import resolve_profile

    (tmp_path / "compose.yaml").write_bytes(BASIC)
    marker = tmp_path / "pwned"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(tmp_path / ".dockfix_cache"))
    path = Path(Cache.open(str(tmp_path), options_key(Options(profile=resolve_profile("prod", {})))).path)
    path.parent.mkdir(parents=True)

    class Payload:
        def __reduce__(self) -> tuple[object, ...]:
            return (open, (str(marker), "w"))

    key, hashed = str(tmp_path / "compose.yaml"), digest(BASIC)
    if planted == "pickle":
        blob = pickle.dumps({key: (hashed, [Payload()], {})})
    elif planted == "marshal-code":
        code = compile(f"open({str(marker)!r}, 'w')", "x", "exec")
        blob = marshal.dumps({key: (hashed, [code], {})})
    else:
        blob = marshal.dumps({key: (hashed, [("DF101", "compose.yaml", 1, 1, 1, 1, "m", "warning", ("x",), "", "")],
                                        {})})
    path.write_bytes(blob)
    path.with_suffix(".pickle").write_bytes(blob)
    assert main(["check", "-q", "compose.yaml"]) == 1  # checked, not taken from the cache
    assert not marker.exists()


def test_a_file_named_twice_is_done_once(run_cli, project: Path) -> None:
    code, _, err = run_cli("apply", "--unsafe-fixes", "app/compose.yaml", ".", "./app/compose.yaml", cwd=project)
    assert code == 0, err
    assert (project / "app" / "compose.yaml").read_bytes() == BASIC_UNSAFE_FIXED


def test_cache_notices_a_changed_dockerfile(run_cli, tmp_path: Path) -> None:
    """A Compose result depends on the Dockerfile it builds (is it Go?): editing only the
    Dockerfile must not give the old, cached answer."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text("services:\n  api:\n    build: .\n    mem_limit: 512m\n")
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\nCMD [\"app\"]\n")
    _, out, _ = run_cli("check", "--select", "DF5", "compose.yaml", cwd=tmp_path)
    assert out == b""
    (tmp_path / "Dockerfile").write_text("FROM golang:1.24 AS build\nRUN go build -o /app .\n"
                                         "FROM alpine:3.20\nCOPY --from=build /app /app\n")
    _, out, _ = run_cli("check", "--select", "DF5", "compose.yaml", cwd=tmp_path)
    assert b"DF501" in out and b"GOMEMLIMIT" in out


def test_info_notes_do_not_fail_a_run(run_cli, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\nCMD [\"app\"]\n")
    code, out, _ = run_cli("check", "Dockerfile", cwd=tmp_path)
    assert b"DF706" in out and b"[*]" not in out
    assert code == 0
