"""What ``check``, ``diff`` and ``apply`` do, given the parsed command line (a :class:`Request`):
find the files, run them (the cache, the process pool), write the fixes, print, pick the exit
status. Each is a step of its own (:func:`run`); the per-file work goes through
:mod:`rewriter.api`, as for the language server and the bot."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from rewriter.api import (Done, Failed, Finding, OptionsFor, Result, Settings, Skipped, kind_by_content,
                          with_declared, write)
from rewriter.discovery import discover, kind_of
from rewriter.engine import Options
from rewriter.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, ConfigError, DockfixError
from rewriter.record import Record
from rewriter.runner import Job, job_root, run_all
from rewriter.source import SourceFile, printable_path

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.cache import Cache


class Request(Record):
    """What ``check``, ``diff`` or ``apply`` is asked to do: the command line's flags, parsed
    (:func:`rewriter.cli.request_of`). ``settings`` holds what decides each file's options;
    the rest is how the run goes and what it prints."""

    __slots__ = ("command", "paths", "settings", "stdin_filename", "file_type", "respect_gitignore", "jobs",
                 "use_cache", "quiet", "output_format", "exit_zero", "exit_non_zero_on_fix")

    def __init__(self, command: str, paths: tuple[str, ...], settings: Settings, stdin_filename: str | None = None,
                 file_type: str | None = None, respect_gitignore: bool = True, jobs: int = 0,
                 use_cache: bool = True, quiet: bool = False, output_format: str = "concise",
                 exit_zero: bool = False, exit_non_zero_on_fix: bool = False) -> None:
        self.command = command
        self.paths = paths
        self.settings = settings
        self.stdin_filename = stdin_filename
        self.file_type = file_type
        self.respect_gitignore = respect_gitignore
        self.jobs = jobs
        self.use_cache = use_cache
        self.quiet = quiet
        self.output_format = output_format
        self.exit_zero = exit_zero
        self.exit_non_zero_on_fix = exit_non_zero_on_fix


def run(req: Request) -> int:
    """Run ``req`` in four steps: the files' results (from the cache or the engine), the
    writes (``apply``), the printing, and the exit status."""
    results, caches = results_of(req)
    write_errors = write_fixes(req, results)
    summary = summarise(req, results, write_errors)
    print_report(req, summary)
    if caches is not None:
        caches.store(results, req.command)
    return exit_status(req, summary)


def results_of(req: Request) -> tuple[list[Result], Caches | None]:
    """Every file's result, in the order given (and the caches, to store the new ones once the
    fixes are written). Nothing is printed or written."""
    command = req.command
    fix = command in ("apply", "diff")
    options_for = OptionsFor(req.settings)
    paths = list(req.paths) or ["."]
    jobs: list[Job] = []
    failed: list[Failed] = []  # files that cannot be done as asked, reported with the results
    if "-" in paths:
        if len(paths) > 1:
            raise ConfigError("'-' (stdin) cannot be combined with other paths", path="<command line>")
        name = req.stdin_filename or "-"
        # by name, then content: editors send every buffer, and a YAML file that is neither named
        # like a Compose file nor a Kubernetes manifest (values.yaml) is left alone unless
        # --file-type says
        kind = kind_of(name, file_type=req.file_type) or "unknown"
        data = sys.stdin.buffer.read()
        if kind == "unknown":
            kind = kind_by_content(name, data) or kind  # a manifest by its content, as in a directory walk
        jobs.append(Job(name, kind, options_for(name, kind), fix, stdin=data, skip=options_for.skipped(name, kind)))
    else:
        missing = [p for p in paths if not os.path.exists(p) and not os.path.islink(p)]
        walked = [p for p in paths if p not in missing]
        targets = list(discover(walked, respect_gitignore=req.respect_gitignore, file_type=req.file_type))
        if req.file_type in (None, "compose"):
            targets = with_declared(targets, walked, options_for)
        composes = {os.path.realpath(t.path) for t in targets if t.kind == "compose"}
        for target in targets:
            why = options_for.skipped(target.path, target.kind)
            if why:
                if _explicit(req, target.path):
                    jobs.append(Job(target.path, target.kind, options_for(target.path, target.kind), fix, skip=why))
                continue
            options = options_for(target.path, target.kind)
            if req.settings.write_to == "override" and target.kind == "compose":
                # Compose files only: the other kinds have no override file and are fixed in place
                job = _override_job(target.path, options, fix, composes)
                if isinstance(job, Failed):
                    failed.append(job)
                elif job is not None:
                    jobs.append(job)
                continue
            jobs.append(Job(target.path, target.kind, options, fix))
        for p in missing:
            jobs.append(Job(p, kind_of(p, explicit=True) or "compose", options_for(p), fix))
    jobs = _unique(jobs)
    workers = req.jobs or os.cpu_count() or 1
    caches = None if not req.use_cache or "-" in paths else Caches()
    pending: list[Job] = []
    cached: dict[int, Result] = {}
    for n, job in enumerate(jobs):
        hit = caches.lookup(job) if caches is not None else None
        if isinstance(hit, Done):
            cached[n] = hit
        else:
            pending.append(hit if isinstance(hit, Job) else job)
    progress = _progress_bar() if len(pending) >= 200 and sys.stderr.isatty() and not req.quiet else None
    ran = iter(run_all(pending, workers, progress))
    results = [cached[n] if n in cached else next(ran) for n in range(len(jobs))]
    results += failed
    return results, caches




class Caches:
    """One cache file per distinct set of options in this run."""

    def __init__(self) -> None:
        from rewriter.cache import project_root  # lazy: start-up

        self.root = project_root(os.getcwd())
        self._by_options: dict[str, Cache] = {}
        self._keys: dict[int, tuple[Options, str]] = {}

    def _cache(self, options: Options) -> Cache:
        """The cache for these options (results come back from worker processes as copies of
        the options, so they are told apart by value, not identity)."""
        from rewriter.cache import Cache, options_key  # lazy: start-up

        known = self._keys.get(id(options))
        if known is not None and known[0] is options:
            key = known[1]
        else:
            key = options_key(options)
            self._keys[id(options)] = (options, key)
        found = self._by_options.get(key)
        if found is None:
            found = Cache.open(self.root, key)
            self._by_options[key] = found
            import gc  # lazy: start-up

            # JSON arrays are lists, which (unlike tuples) the cyclic collector keeps tracking:
            # move what is loaded out of its way, or every collection walks the whole cache again
            # (the CLI owns the collector's settings, see cli.main; a run is short-lived)
            gc.freeze()
        return found

    def lookup(self, job: Job) -> Done | Job | None:
        """A cached result, the job with its bytes read (a miss), or None when unreadable."""
        if job.kind == "unknown" or job.skip:
            return None
        from rewriter import safefs  # lazy: start-up

        try:
            # a link, a FIFO or a device is refused unread; the runner reports it
            data = safefs.read_bytes(job.path, job_root(job), MAX_CACHED_BYTES)
        except OSError:
            return None
        findings = self._cache(job.options).get(job.path, data)
        if findings is not None and not (job.fix and any(
                f.fix is not None and job.options.applies(f.fix) and not f.refused for f in findings)):
            try:
                src = SourceFile.from_bytes(job.path, data)
            except DockfixError:
                return None
            from rewriter.engine import FileOutcome  # lazy: start-up

            return Done(job, data, FileOutcome(job.path, src, findings=list(findings)), from_cache=True)
        return job.replace(data=data)

    def store(self, results: list[Result], command: str) -> None:
        for result in results:
            if not isinstance(result, Done) or result.job.stdin is not None or result.from_cache:
                continue
            outcome = result.outcome
            cache = self._cache(result.job.options)
            if outcome.new_text is None:
                cache.put(result.job.path, result.data, outcome.findings, outcome.depends)
            elif command == "apply" and result.written:
                cache.put(result.job.path, outcome.src.with_text(outcome.new_text).to_bytes(), outcome.findings,
                          outcome.depends)
        for cache in self._by_options.values():
            cache.save()


MAX_CACHED_BYTES = 1024 * 1024


def _progress_bar() -> Callable[[int, int], None]:
    width = 30

    def show(done: int, total: int) -> None:
        filled = width * done // total
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\r" + " " * (width + 24) + "\r")
        sys.stderr.flush()

    return show


def _unique(jobs: list[Job]) -> list[Job]:
    """One job per file: a file named on the command line and also found by a walk is done once."""
    seen: set[str] = set()
    out = []
    for job in jobs:
        key = job.path if job.stdin is not None else os.path.realpath(job.path)
        if key not in seen:
            seen.add(key)
            out.append(job)
    return out


def _override_job(path: str, options: Options, fix: bool, composes: set[str]) -> Job | Failed | None:
    """The job that writes the Compose file ``path``'s settings into ``<stem>.<profile>.<ext>``
    beside it. A file that is itself the profile's override of a file beside it is that file's
    job (None when that file is in this run too); a file whose name gives no override name is
    an error, never silently skipped."""
    from rewriter.surfaces.compose_override import base_name_of, override_name  # lazy: start-up

    folder, name = os.path.split(path)
    profile = options.profile.name
    base = base_name_of(name, profile)
    if base is not None and os.path.isfile(os.path.join(folder, base)):
        base_path = os.path.join(folder, base)
        if os.path.realpath(base_path) in composes:
            return None
        return Job(path, "compose-override", options, fix, companion=base_path)
    over = override_name(name, profile)
    if over is None:
        return Failed(Job(path, "compose", options, fix), ConfigError(
            f"--write-to override writes '<name>.{profile}.yml' beside a '.yml' or '.yaml' file; "
            f"'{name}' has neither extension, so nothing was written (use --write-to file)", path=path))
    return Job(os.path.join(folder, over), "compose-override", options, fix, companion=path)


def write_fixes(req: Request, results: list[Result]) -> dict[int, DockfixError]:
    """``apply`` on files: write each fixed file in place (:func:`rewriter.api.write`); the
    writes that failed, by the result's index (nothing else is written: ``diff`` prints, and
    ``apply -`` prints the fixed text)."""
    failed: dict[int, DockfixError] = {}
    if req.command != "apply":
        return failed
    for n, result in enumerate(results):
        if isinstance(result, Done) and result.job.stdin is None and result.outcome.new_text is not None:
            try:
                write(result)
            except DockfixError as err:
                failed[n] = err
    return failed


class Summary:
    """What a run comes to, before anything is printed: the counts the exit status and the last
    line read, the findings that remain, and what each file prints, in order (``pieces``: the
    stream, ``out`` or ``err``, or ``note`` for what ``--quiet`` leaves out, and the text or the
    error to render)."""

    __slots__ = ("errors", "changed", "fixed", "remaining", "sources", "processed", "stdin_mode", "pieces")

    def __init__(self) -> None:
        self.errors = 0
        self.changed = 0
        self.fixed = 0
        self.remaining: list[Finding] = []
        self.sources: dict[str, SourceFile] = {}
        self.processed = 0
        self.stdin_mode = False
        self.pieces: list[tuple[str, str | DockfixError]] = []


def summarise(req: Request, results: list[Result], write_errors: dict[int, DockfixError]) -> Summary:
    """The summary of ``results`` once written (``write_errors``: the writes that failed)."""
    command = req.command
    out = Summary()
    out.stdin_mode = any(r.job.stdin is not None for r in results)
    pieces = out.pieces
    for n, result in enumerate(results):
        if isinstance(result, Failed):
            out.errors += 1
            pieces.append(("err", result.error))
            if out.stdin_mode and command == "apply":
                pieces.append(("out", _stdin_text(result.job)))
            continue
        if isinstance(result, Skipped):
            if result.job.stdin is not None and command == "apply":
                pieces.append(("out", _stdin_text(result.job)))
            if result.job.stdin is not None or _explicit(req, result.job.path):
                pieces.append(("note", f"{printable_path(result.job.path)}: skipped: {result.reason}"))
            continue
        assert isinstance(result, Done)
        out.processed += 1
        outcome = result.outcome
        src = outcome.src
        out.sources[src.path] = src.with_text(outcome.new_text) if outcome.new_text is not None else src
        out.remaining.extend(outcome.findings)
        out.fixed += len(outcome.fixed)
        new_text = outcome.new_text
        if command == "diff" and new_text is not None:
            out.changed += 1
            from rewriter.diff import unified_diff  # lazy: start-up
            from rewriter.diffcheck import checked  # lazy: start-up

            before, after = src.to_text(), src.with_text(new_text).to_text()
            try:
                pieces.append(("out", checked(src.path, before, after, unified_diff(
                    src.path, before, after,
                    new_file=result.job.companion is not None and not result.data and not os.path.lexists(src.path)))))
            except DockfixError as err:  # the diff does not reproduce the fix: say so, print none
                out.errors += 1
                pieces.append(("err", err))
        elif command == "apply":
            if result.job.stdin is not None:
                pieces.append(("out", (src.with_text(new_text) if new_text is not None else src).to_text()))
                out.changed += new_text is not None
            elif new_text is not None:
                refused = write_errors.get(n)
                if refused is None:
                    out.changed += 1
                else:
                    out.errors += 1
                    pieces.append(("err", refused))
                    # nothing was written: what was "fixed" still stands in the file
                    out.remaining.extend(outcome.fixed)
                    out.fixed -= len(outcome.fixed)
    return out


def print_report(req: Request, summary: Summary) -> None:
    """Print what each file gives (diffs, ``apply -``'s text, errors), the findings in the
    chosen format, and the last line."""
    command = req.command
    stdout = sys.stdout
    stdin_apply = summary.stdin_mode and command == "apply"
    # `apply -` is an editor's formatter: editors that merge stderr into the result (Neovim's
    # systemlist()) would put the summary into the file, so it goes only to a terminal
    quiet = req.quiet or (stdin_apply and not sys.stderr.isatty())
    for stream, piece in summary.pieces:
        if stream == "out":
            assert isinstance(piece, str)
            stdout.write(piece)
        elif isinstance(piece, DockfixError):
            from rewriter.output import error_text  # lazy: start-up

            print(error_text(piece), file=sys.stderr)
        elif stream == "err" or not quiet:
            print(piece, file=sys.stderr)
    to_print = summary.remaining if command != "diff" else []
    if quiet and stdin_apply and req.output_format in ("concise", "full"):
        # the same for the findings that remain (suggestions do, for most files): an editor shows
        # them from `check` or the language server, not from its formatter's stderr
        to_print = []
    if to_print:
        from rewriter import output  # lazy: start-up

        rendered = output.render(req.output_format, to_print, summary.sources)
        stream_ = sys.stderr if stdin_apply else stdout
        stream_.write(rendered)
    elif req.output_format in ("json", "sarif") and command != "diff":
        # an empty report is still a report: code scanning closes alerts on an empty SARIF run
        from rewriter import output  # lazy: start-up

        (sys.stderr if stdin_apply else stdout).write(output.render(req.output_format, [], summary.sources))
    if not quiet:
        _last_line(req, summary)


def exit_status(req: Request, summary: Summary) -> int:
    """0 nothing to report (or everything fixed), 1 findings remain or files would change, 2 a
    file could not be processed; ``--exit-zero`` and ``--exit-non-zero-on-fix`` as ruff has them."""
    if summary.errors:
        return EXIT_ERROR
    if req.exit_zero:
        return EXIT_OK
    if req.command == "diff":
        return EXIT_FINDINGS if summary.changed else EXIT_OK
    if req.command == "apply" and req.exit_non_zero_on_fix and (summary.changed or summary.fixed):
        return EXIT_FINDINGS
    # info notes with nothing to apply (e.g. "runtime limits cannot live in an image") are shown
    # but do not fail a run
    failing = [f for f in summary.remaining if f.severity.value != "info" or f.fixable]
    return EXIT_FINDINGS if failing else EXIT_OK


def _stdin_text(job: Job) -> str:
    data = job.stdin or b""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="surrogateescape")


def _explicit(req: Request, path: str) -> bool:
    return path in req.paths


def _last_line(req: Request, summary: Summary) -> None:
    command, remaining, fixed, changed = req.command, summary.remaining, summary.fixed, summary.changed
    errors, processed, unsafe_fixes = summary.errors, summary.processed, req.settings.unsafe_fixes
    parts = []
    if not processed and not errors:
        parts.append("No files to check." if command == "check" else "No files to fix.")
    elif command == "check":
        n = len(remaining)
        fixable = sum(1 for f in remaining if f.fixable and (unsafe_fixes or f.fix is not None and f.fix.applicability >= 2))
        unsafe = sum(1 for f in remaining if f.fix is not None and f.fix.applicability == 1)
        if n:
            parts.append(f"Found {n} finding{'s' if n != 1 else ''}.")
            if fixable:
                parts.append(f"[*] {fixable} fixable with 'dockfix apply'.")
            if unsafe and not unsafe_fixes:
                parts.append(f"{unsafe} more fixable with 'dockfix apply --unsafe-fixes'.")
        elif not errors:
            parts.append("All checks passed.")
    elif command == "diff":
        parts.append(f"{changed} file{'s' if changed != 1 else ''} would be changed ({fixed} fix{'es' if fixed != 1 else ''}).")
    else:
        parts.append(f"Fixed {fixed} finding{'s' if fixed != 1 else ''} in {changed} file{'s' if changed != 1 else ''}"
                     f"; {len(remaining)} remaining.")
    if errors:
        parts.append(f"{errors} file{'s' if errors != 1 else ''} could not be processed.")
    print(" ".join(parts), file=sys.stderr)
