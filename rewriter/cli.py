"""Command line: ``dockfix check|diff|apply [PATH...]``, ``dockfix rule CODE``, ``dockfix server``,
``dockfix pr``.

``main(argv) -> int`` is the only place that reads arguments; exit codes follow ruff:
0 nothing to report (or everything fixed), 1 findings remain or files would change,
2 bad input, bad configuration or an internal error.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Sequence
from types import SimpleNamespace

from rewriter import __version__
from rewriter.errors import EXIT_ERROR, EXIT_OK, DockfixError

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    import argparse

    from rewriter.app import Request


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


COMMANDS = {
    "check": "report findings",
    "diff": "print the fixes as a unified diff; write nothing",
    "apply": "write the fixes in place ('-': print the fixed text)",
    "server": "run the language server over stdio",
    "pr": "open or update a pull request with the fixes",
    "rule": "explain a rule",
}


def _formatter() -> type[argparse.HelpFormatter]:
    """argparse's help formatter without its ``import shutil`` (3 ms, for the terminal width).

    argparse makes a formatter for every option it adds; the width matters only for help text.
    """
    import argparse  # lazy: start-up

    class Formatter(argparse.HelpFormatter):
        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                     width: int | None = None) -> None:
            super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)

    return Formatter


def _columns() -> int:
    """The terminal's width the way shutil.get_terminal_size() finds it: $COLUMNS, else the
    terminal on standard output, else 80."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno() if sys.__stdout__ else 1).columns or 80
    except (ValueError, OSError):
        return 80


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; given the command being run, only that command's parser is built.

    argparse costs about a millisecond per dozen options, and format-on-save starts dockfix once
    per save, so ``apply`` does not pay for building ``pr``. With ``command=None`` every
    command is there (for ``dockfix --help`` and for errors about the command itself).
    """
    import argparse  # lazy: start-up

    formatter = _formatter()
    parser = argparse.ArgumentParser(
        prog="dockfix",
        formatter_class=formatter,
        description="Repair the runtime configuration of containers (Compose files) in place.",
    )
    parser.add_argument("--version", action="version", version=f"dockfix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    descriptions = {
        "server": "run the language server (diagnostics, quick fixes, formatting) over stdio",
        "pr": "commit the fixes for a profile on branch dockfix/<profile> and open or update its pull "
              "request on GitHub",
        "rule": "print a rule's documentation",
    }
    for name, help_text in COMMANDS.items():
        if command not in (None, name):
            continue  # named commands never reach the others' parsers, nor the list of commands
        child = sub.add_parser(name, help=help_text, formatter_class=formatter,
                               description=descriptions.get(name, help_text))
        if name in ("check", "diff", "apply"):
            _add_file_options(child)
        elif name == "pr":
            from rewriter.bot_options import add_arguments as add_pr_arguments  # lazy: start-up

            add_pr_arguments(child)
        elif name == "rule":
            child.add_argument("code", nargs="?", help="rule code, e.g. DF101 (omit to list all)")
    return parser


def _add_file_options(common: argparse.ArgumentParser) -> None:
    """The options of ``check``, ``diff`` and ``apply``."""
    from rewriter.api import file_kinds  # lazy: start-up (here, not at the top: entry() tunes the collector first)
    common.add_argument("paths", nargs="*", metavar="PATH", help="files or directories ('-' reads stdin)")
    common.add_argument("--profile", help="profile to apply (default: config 'profile', else prod)")
    common.add_argument("--unsafe-fixes", action="store_true", default=None, help="also apply unsafe fixes")
    common.add_argument("--no-unsafe-fixes", dest="unsafe_fixes", action="store_false")
    common.add_argument("--select", type=_codes, default=None, help="comma-separated rule codes or prefixes")
    common.add_argument("--ignore", type=_codes, default=None, help="comma-separated rule codes or prefixes")
    common.add_argument("--output-format", choices=("concise", "full", "json", "github", "sarif"),
                        default=os.environ.get("DOCKFIX_OUTPUT_FORMAT", "concise"))
    common.add_argument("--stdin-filename", help="the name of the file read from stdin")
    common.add_argument("--file-type", choices=file_kinds(), help="treat the inputs as this kind")
    common.add_argument("--config", help="use this config file instead of discovering one")
    common.add_argument("--isolated", action="store_true", help="ignore all config files")
    common.add_argument("--exit-zero", action="store_true", help="exit 0 even if findings remain")
    common.add_argument("--exit-non-zero-on-fix", action="store_true",
                        help="exit 1 if any file was changed, even if nothing remains")
    common.add_argument("--no-inline-ignores", dest="inline_ignores", action="store_false",
                        help="do not honour '# dockfix: ignore[...]' comments")
    common.add_argument("--no-respect-gitignore", dest="respect_gitignore", action="store_false")
    common.add_argument("--jobs", type=int, default=0, help="worker processes (default: all cores)")
    common.add_argument("--no-cache", action="store_true", help="do not read or write the cache (in ~/.cache/dockfix/)")
    common.add_argument("--write-to", choices=("file", "override"), default="file",
                        help="'override': put the settings into <stem>.<profile>.<ext> beside each "
                             "Compose file (compose.prod.yaml) instead of editing it")
    common.add_argument("-q", "--quiet", action="store_true", help="print only findings and errors")


# What `check`, `diff` and `apply` need from their command line when it holds only paths, these
# switches and these options with a plain value (as format-on-save runs dockfix): read without
# argparse, whose import (with gettext and locale) and parser cost about 4 ms of a 50 ms start.
# Anything else (other options, abbreviations, `-h`, `--`, a value that looks like an option,
# paths on both sides of an option) goes to argparse, which gives the same values or the error.
# tests/test_cli.py checks that both readers agree and that these are the parser's options.
_SWITCHES = {
    "--unsafe-fixes": ("unsafe_fixes", True), "--no-unsafe-fixes": ("unsafe_fixes", False),
    "--isolated": ("isolated", True), "--exit-zero": ("exit_zero", True),
    "--exit-non-zero-on-fix": ("exit_non_zero_on_fix", True), "--no-inline-ignores": ("inline_ignores", False),
    "--no-respect-gitignore": ("respect_gitignore", False), "--no-cache": ("no_cache", True),
    "-q": ("quiet", True), "--quiet": ("quiet", True),
}
_VALUED = {"--profile": "profile", "--stdin-filename": "stdin_filename", "--config": "config"}


def quick_args(arguments: Sequence[str]) -> SimpleNamespace | None:
    """The parsed command line of ``check``, ``diff`` or ``apply`` without argparse, or None
    when argparse must read it (see ``_SWITCHES``)."""
    if not arguments or arguments[0] not in ("check", "diff", "apply"):
        return None
    values: dict[str, object] = {
        "command": arguments[0], "profile": None, "unsafe_fixes": None, "select": None, "ignore": None,
        "output_format": os.environ.get("DOCKFIX_OUTPUT_FORMAT", "concise"), "stdin_filename": None,
        "file_type": None, "config": None, "isolated": False, "exit_zero": False, "exit_non_zero_on_fix": False,
        "inline_ignores": True, "respect_gitignore": True, "jobs": 0, "no_cache": False, "write_to": "file",
        "quiet": False,
    }
    paths: list[str] = []
    blocks = 0  # runs of paths: argparse takes only the first
    i, last_was_path = 1, False
    while i < len(arguments):
        arg = arguments[i]
        i += 1
        if arg == "-" or not arg.startswith("-"):
            blocks += not last_was_path
            paths.append(arg)
            last_was_path = True
            continue
        last_was_path = False
        name, eq, value = arg.partition("=")
        if name in _SWITCHES and not eq:
            dest, setting = _SWITCHES[name]
            values[dest] = setting
        elif name in _VALUED:
            if not eq:
                if i == len(arguments):
                    return None
                value = arguments[i]
                i += 1
            if value.startswith("-") and value != "-":
                return None
            values[_VALUED[name]] = value
        else:
            return None
    if blocks > 1:
        return None
    values["paths"] = paths
    return SimpleNamespace(**values)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    quick = quick_args(arguments)
    if quick is not None:
        return _guarded(lambda: _run(quick))
    named = arguments[0] if arguments and arguments[0] in COMMANDS else None
    parser = build_parser(named)
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exit_:
        return EXIT_ERROR if exit_.code not in (0, None) else EXIT_OK
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    if args.command == "rule":
        return _rule(args.code)
    if args.command == "server":
        from rewriter.lsp import serve  # lazy: start-up

        return serve()
    if args.command == "pr":
        from rewriter.bot import main as pr_main  # lazy: start-up
        from rewriter.bot_options import request_of as pr_request  # lazy: start-up

        return _guarded(lambda: pr_main(pr_request(args)))
    return _guarded(lambda: _run(args))


def _run(args: argparse.Namespace | SimpleNamespace) -> int:
    from rewriter.app import run  # lazy: start-up

    return run(request_of(args))


def _guarded(command: Callable[[], int]) -> int:
    """Run a command; a DockfixError is printed (exit 2), Ctrl-C exits 130."""
    try:
        return command()
    except DockfixError as err:
        from rewriter.output import fatal_text  # lazy: start-up

        print(fatal_text(err), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def request_of(args: argparse.Namespace | SimpleNamespace) -> Request:
    """The parsed flags of ``check``, ``diff`` or ``apply`` as the run's typed request."""
    from rewriter.api import Settings  # lazy: start-up
    from rewriter.app import Request  # lazy: start-up

    settings = Settings(profile=args.profile, select=args.select, ignore=args.ignore, unsafe_fixes=args.unsafe_fixes,
                        inline_ignores=args.inline_ignores, config=args.config, isolated=args.isolated,
                        write_to=args.write_to, cache_config=not args.no_cache)
    return Request(args.command, tuple(args.paths), settings, stdin_filename=args.stdin_filename, file_type=args.file_type,
                   respect_gitignore=args.respect_gitignore, jobs=args.jobs, use_cache=not args.no_cache,
                   quiet=args.quiet, output_format=args.output_format, exit_zero=args.exit_zero,
                   exit_non_zero_on_fix=args.exit_non_zero_on_fix)


def _rule(code: str | None) -> int:
    import importlib  # lazy: start-up

    from transforms import RULES  # lazy: start-up

    if not code:
        width = max(len(rule.name) for rule in RULES.values())
        for rule in RULES.values():
            print(f"{rule.code}  {rule.name:<{width}}  {rule.summary}")
        return EXIT_OK
    found = RULES.get(code.upper())
    if found is None:
        print(f"dockfix: unknown rule '{code}' (see 'dockfix rule')", file=sys.stderr)
        return EXIT_ERROR
    module = importlib.import_module(found.module)
    print(f"{found.code} ({found.name}): {found.summary}\n")
    print((module.__doc__ or "").strip())
    return EXIT_OK


def entry() -> None:
    # A run is short and keeps most of what it allocates (modules, parsed files, findings), so
    # the collector's default (a pass every 700 allocations) finds little and costs 10 % of a
    # whole-repository run and 1 % of a cold start; one pass every 100,000 costs almost nothing
    # and still bounds cyclic garbage (peak memory on 3,400 files: 169 MB instead of 167 MB).
    gc.set_threshold(100_000, 50, 100)
    status = main()
    # At exit the interpreter runs the cyclic collector over everything the run loaded (four
    # passes) before it clears the modules: about 10 % of a cold start's instructions (15 of 159
    # million for `apply -` on a small Compose file), to free memory the exit frees anyway.
    # Frozen objects are skipped by those passes; the rest of the exit is unchanged (standard
    # streams flushed, atexit handlers run, modules cleared).
    gc.freeze()
    sys.exit(status)
