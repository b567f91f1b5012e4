"""The front ends' API (rewriter/api.py): check a text, fix a text, fix one finding, with
typed settings instead of argparse namespaces; errors as data, rendered by the output layer;
the language server and the bot reach the engine only through the API."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest

from rewriter import api
from rewriter.errors import ConfigError, ParseError, WriteError
from rewriter.output import error_text, fatal_text

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BASIC = (FIXTURES / "compose" / "basic" / "input.yaml").read_text()
DOCKERFILE = (FIXTURES / "dockerfile" / "profile-ulimit" / "input.Dockerfile").read_text()
ISOLATED = api.Settings(isolated=True)


@pytest.fixture(autouse=True)
def _no_profile_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKFIX_PROFILE", raising=False)


def test_check_a_compose_text(tmp_path: Path) -> None:
    checked = api.check_text(BASIC, str(tmp_path / "compose.yaml"), "compose", ISOLATED)
    assert checked is not None and checked.error is None
    assert [(f.code, f.line, f.column) for f in checked.findings] == [
        ("DF101", 2, 3), ("DF201", 2, 3), ("DF301", 2, 3), ("DF302", 2, 3), ("DF401", 2, 3)]
    # the memory limits are suggestions (no evidence of the workload's needs): unsafe fixes
    assert [f.code for f in checked.findings if f.fix is not None
            and f.fix.applicability == api.Applicability.UNSAFE] == ["DF301", "DF302"]


def test_a_kind_dockfix_does_not_handle_is_no_check(tmp_path: Path) -> None:
    assert api.check_text(BASIC, str(tmp_path / "values.yaml"), None, ISOLATED) is None
    fixed = api.fix_text(BASIC, str(tmp_path / "values.yaml"), None, ISOLATED)
    assert (fixed.text, fixed.fixed, fixed.remaining, fixed.error) == (BASIC, [], [], None)


@pytest.mark.parametrize(("settings", "unsafe", "expected"), [
    (ISOLATED, None, "expected.prod.yaml"),
    (ISOLATED, True, "expected.prod.unsafe.yaml"),
    (api.Settings(isolated=True, unsafe_fixes=True), None, "expected.prod.unsafe.yaml"),
    (api.Settings(isolated=True, unsafe_fixes=True), False, "expected.prod.yaml"),
    (api.Settings(isolated=True, profile="dev"), None, "expected.dev.yaml"),
])
def test_fix_a_compose_text(tmp_path: Path, settings: api.Settings, unsafe: bool | None, expected: str) -> None:
    fixed = api.fix_text(BASIC, str(tmp_path / "compose.yaml"), "compose", settings, unsafe=unsafe)
    assert fixed.error is None
    assert fixed.text == (FIXTURES / "compose" / "basic" / expected).read_text()
    # nothing fixed is also reported as remaining, and a second run has nothing more to fix
    assert not {(f.code, f.line) for f in fixed.fixed} & {(f.code, f.line) for f in fixed.remaining}
    again = api.fix_text(fixed.text, str(tmp_path / "compose.yaml"), "compose", settings, unsafe=unsafe)
    assert again.text == fixed.text and again.fixed == []


def test_fix_a_text_is_what_apply_stdin_prints(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("apply", "-", "--stdin-filename", "compose.yaml", "--isolated", stdin=BASIC.encode(),
                             cwd=tmp_path)
    assert code == 1, err
    fixed = api.fix_text(BASIC, str(tmp_path / "compose.yaml"), "compose", ISOLATED)
    assert out.decode() == fixed.text
    assert [f.code for f in fixed.remaining] == ["DF301", "DF302"]


def test_fix_one_compose_finding(tmp_path: Path) -> None:
    path = str(tmp_path / "compose.yaml")
    doc = api.Document(BASIC, path, "compose", ISOLATED)
    candidates = {c.finding.code: c for c in doc.candidates()}
    assert sorted(candidates) == ["DF101", "DF201", "DF301", "DF302", "DF401"]  # unsafe ones offered too
    tmpfs = candidates["DF101"]
    assert tmpfs.id == api.finding_id("DF101", (tmpfs.start, tmpfs.end))
    assert BASIC[tmpfs.start:tmpfs.end] == "web"  # the service's key
    one = doc.fix_one(tmpfs)
    assert one.refused == ""
    assert one.text == BASIC + "    tmpfs:\n      - /tmp:size=64m,mode=1777\n"
    # the same by id, from the text alone
    assert api.fix_one(BASIC, path, "compose", ISOLATED, tmpfs.id) == one
    assert api.fix_one(BASIC, path, "compose", ISOLATED, candidates["DF301"].id).text == (
        BASIC + "    mem_limit: 512m\n")
    missing = api.fix_one(BASIC, path, "compose", ISOLATED, "DF101@0-1")
    assert missing.text is None and "no fixable finding DF101@0-1" in missing.refused


def test_fix_one_keeps_a_bom(tmp_path: Path) -> None:
    """Offsets and texts are the editor's: with the byte order mark."""
    text = "\ufeff" + BASIC
    doc = api.Document(text, str(tmp_path / "compose.yaml"), "compose", ISOLATED)
    first = doc.candidates()[0]
    assert text[first.start:first.end] == "web"
    one = doc.fix_one(first)
    assert one.text is not None and one.text.startswith("\ufeffservices:")


def test_check_and_fix_a_dockerfile_text(tmp_path: Path) -> None:
    path = str(tmp_path / "Dockerfile")
    checked = api.check_text(DOCKERFILE, path, "dockerfile", ISOLATED)
    assert checked is not None
    assert [(f.code, f.line) for f in checked.findings] == [("DF706", 1), ("DF701", 4), ("DF701", 6), ("DF701", 7)]
    # every DF701 fix is unsafe (the line may matter to something else in the image): a safe
    # run changes nothing, an unsafe one gives the fixture's expected file
    safe = api.fix_text(DOCKERFILE, path, "dockerfile", ISOLATED)
    assert safe.text == DOCKERFILE and safe.fixed == []
    unsafe = api.fix_text(DOCKERFILE, path, "dockerfile", ISOLATED, unsafe=True)
    assert unsafe.text == (FIXTURES / "dockerfile" / "profile-ulimit" / "expected.prod.unsafe.Dockerfile").read_text()
    assert [f.code for f in unsafe.fixed] == ["DF701"] * 3 and [f.code for f in unsafe.remaining] == ["DF706"]
    doc = api.Document(DOCKERFILE, path, "dockerfile", ISOLATED)
    (bashrc,) = [c for c in doc.candidates() if c.finding.line == 7]
    one = doc.fix_one(bashrc)
    assert one.text == DOCKERFILE.replace("RUN echo 'ulimit -n 1048576' >> /root/.bashrc\n", "")


def test_errors_come_back_as_data(tmp_path: Path) -> None:
    broken = "services:\n  api:\n    image: [unclosed\n"
    path = str(tmp_path / "compose.yaml")
    checked = api.check_text(broken, path, "compose", ISOLATED)
    assert checked is not None and checked.findings == [] and isinstance(checked.error, ParseError)
    err = checked.error
    assert (err.kind, err.path, err.line > 0, err.column > 0) == ("parse", path, True, True)
    fixed = api.fix_text(broken, path, "compose", ISOLATED)
    assert fixed.text == broken and isinstance(fixed.error, ParseError)
    assert api.Document(broken, path, "compose", ISOLATED).candidates() == []
    binary = api.fix_text("a\x00b", path, "compose", ISOLATED)
    assert binary.text == "a\x00b" and binary.error is not None and binary.error.message.startswith("binary file")


def test_the_output_layer_renders_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    where = ParseError("not valid UTF-8 (byte 0xff)", path=str(tmp_path / "a" / "compose.yaml"), line=3, column=7)
    assert error_text(where) == "a/compose.yaml:3:7: not valid UTF-8 (byte 0xff)"
    assert fatal_text(where) == "dockfix: a/compose.yaml:3:7: not valid UTF-8 (byte 0xff)"
    assert error_text(WriteError("read-only file; not written", path="x.yaml")) == "x.yaml: read-only file; not written"
    assert error_text(ParseError("bad\nline")) == "<unknown>: bad\\nline"  # repository text stays on its line
    # a configuration error that names no file is its message alone
    assert fatal_text(ConfigError("unknown rule selector 'X'")) == "dockfix: unknown rule selector 'X'"
    assert [e.kind for e in (ConfigError(""), ParseError(""), WriteError(""))] == ["config", "parse", "write"]
    assert not hasattr(where, "render")  # errors do not render themselves


def test_settings_replace_namespaces(tmp_path: Path) -> None:
    (tmp_path / "dockfix.toml").write_text('profile = "dev"\nselect = ["DF1"]\n')
    path = str(tmp_path / "compose.yaml")
    options = api.OptionsFor(api.Settings())(path)
    assert (options.profile.name, options.select) == ("dev", ("DF1",))
    options = api.OptionsFor(api.Settings(profile="prod", select=("DF2",), unsafe_fixes=True))(path)
    assert (options.profile.name, options.select, options.unsafe_fixes) == ("prod", ("DF2",), True)
    assert api.OptionsFor(api.Settings(isolated=True))(path).profile.name == "prod"
    assert api.OptionsFor(api.Settings()).profile_name(path) == "dev"
    with pytest.raises(ConfigError, match="unknown rule selector 'XX9'"):
        api.OptionsFor(api.Settings(select=("XX9",)))(path)
    with pytest.raises(ConfigError, match="invalid profile name"):
        api.OptionsFor(api.Settings(profile="../x")).profile_name(path)


def test_fix_files_then_write(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(BASIC)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "compose.yaml").write_text("services: [\n")
    results = api.fix_files([str(tmp_path)], ISOLATED)
    by_name = {Path(r.job.path).relative_to(tmp_path).as_posix(): r for r in results}
    assert isinstance(by_name["broken/compose.yaml"], api.Failed)
    done = by_name["compose.yaml"]
    assert isinstance(done, api.Done)
    assert (tmp_path / "compose.yaml").read_text() == BASIC  # nothing is written before write()
    assert api.write(done) is True and done.written
    assert (tmp_path / "compose.yaml").read_text() == (FIXTURES / "compose" / "basic" / "expected.prod.yaml").read_text()


def test_the_command_line_run_prints_writes_and_exits_in_separate_steps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from rewriter import app

    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(BASIC)
    monkeypatch.chdir(tmp_path)
    req = app.Request("apply", ("compose.yaml",), ISOLATED, jobs=1, use_cache=False)
    results, _ = app.results_of(req)
    assert (tmp_path / "compose.yaml").read_text() == BASIC and capsys.readouterr() == ("", "")
    assert app.write_fixes(req.replace(command="diff"), results) == {}  # diff writes nothing
    assert (tmp_path / "compose.yaml").read_text() == BASIC
    assert app.write_fixes(req, results) == {}
    assert (tmp_path / "compose.yaml").read_text() != BASIC
    summary = app.summarise(req, results, {})
    assert (summary.changed, summary.fixed, len(summary.remaining), summary.errors) == (1, 3, 2, 0)
    assert capsys.readouterr() == ("", "")  # nothing printed until print_report
    assert app.exit_status(req, summary) == 1
    assert app.exit_status(req.replace(exit_zero=True), summary) == 0
    app.print_report(req, summary)
    out, err = capsys.readouterr()
    assert out.count("DF30") == 2 and err == "Fixed 3 findings in 1 file; 2 remaining.\n"
    # a write that failed: reported, counted as an error, its fixes still remaining
    failed = app.summarise(req, results, {0: WriteError("file changed on disk", path="compose.yaml")})
    assert (failed.errors, failed.changed, failed.fixed, len(failed.remaining)) == (1, 0, 0, 5)
    assert app.exit_status(req, failed) == 2
    app.print_report(req, failed)
    assert capsys.readouterr().err.startswith("compose.yaml: file changed on disk\n")


FORBIDDEN = {"rewriter.app", "rewriter.engine", "rewriter.runner", "rewriter.edits", "rewriter.surfaces",
             "rewriter.discovery", "rewriter.profiles", "transforms"}


@pytest.mark.parametrize("front_end", ["lsp", "bot"])
def test_front_ends_reach_the_engine_only_through_the_api(front_end: str) -> None:
    """lsp.py and bot.py import no engine internals, at the top or in a function (the
    import-linter contract in pyproject.toml says the same; this needs the standard library only),
    and neither build nor take an argparse namespace: the bot gets a typed request
    (rewriter.bot_options.PrRequest) whose fixes are asked for with the API's Settings."""
    source = (ROOT / "rewriter" / f"{front_end}.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not {m for m in imported if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}
    assert "rewriter.api" in imported or "rewriter" in imported
    assert "Namespace" not in source


def test_the_contract_names_the_front_ends() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    contract = text[text.index('name = "the language server and the bot go through rewriter.api"'):]
    contract = contract[:contract.index("[[tool.importlinter.contracts]]")]
    assert '"rewriter.lsp", "rewriter.bot"' in contract
    assert all(f'"{m}"' in contract for m in FORBIDDEN)


def test_stdin_is_read_once_by_the_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``apply -`` reads standard input in the run's first step, never again when printing."""
    from rewriter import app

    class _Stdin:
        buffer = io.BytesIO(BASIC.encode())

    monkeypatch.setattr("sys.stdin", _Stdin())
    monkeypatch.chdir(tmp_path)
    req = app.Request("apply", ("-",), ISOLATED, stdin_filename="compose.yaml", jobs=1)
    results, caches = app.results_of(req)
    assert caches is None and len(results) == 1 and results[0].job.stdin == BASIC.encode()
