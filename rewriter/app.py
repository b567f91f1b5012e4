"""What ``check``, ``diff`` and ``apply`` do, given parsed arguments."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from rewriter.discovery import discover, kind_of
from rewriter.engine import Finding, Options
from rewriter.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, ConfigError, DockfixError
from rewriter.profiles import Config, ConfigFinder, Profile, check_profile_name
from rewriter.runner import Done, Failed, Job, Result, Skipped, job_root, run_all, write_atomic
from rewriter.source import SourceFile, printable_path

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.cache import Cache


class OptionsFor:
    """Options for each file from its closest config, with command-line values on top."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        from transforms import OPTIONS  # lazy: start-up

        # Parsed configs are cached for the command line only (not the server or the bot).
        self.finder = ConfigFinder(args.config, args.isolated, cache=not getattr(args, "no_cache", True),
                                   options=OPTIONS)
        self._cache: dict[tuple[str, str], Options] = {}

    def __call__(self, path: str, kind: str | None = None) -> Options:
        """The options for the file at ``path``; a development, test or CI file gets the ``dev``
        profile whatever the run asks for (:mod:`rewriter.roles`)."""
        config = self.finder.for_path(path if path != "-" else os.path.join(os.getcwd(), "-"))
        role, why = self._role(path, kind, config)
        if getattr(self.args, "write_to", None) == "override":
            # an override file is the profile's, named after it, and used only when asked for
            # (-f x.yaml -f x.prod.yaml): it gets the profile asked for, whatever the file's role
            role = "prod"
        key = (config.path, why if role == "dev" else "")
        cached = self._cache.get(key)
        if cached is None:
            cached = self._build(config, why if role == "dev" else "")
            self._cache[key] = cached
        return cached

    def skipped(self, path: str, kind: str | None = None) -> str:
        """Why the file is not checked at all ('' when it is): a ``none`` role in the config."""
        role, why = self._role(path, kind, self.finder.for_path(path if path != "-" else os.path.join(os.getcwd(), "-")))
        return f"role none ({why})" if role == "none" else ""

    @staticmethod
    def _role(path: str, kind: str | None, config: Config) -> tuple[str, str]:
        if path == "-":
            return "prod", ""
        from rewriter.roles import role_of  # lazy: start-up

        return role_of(path, kind if kind is not None else (kind_of(path) or ""), config.path, config.roles)

    def _build(self, config: Config, dev_because: str = "") -> Options:
        args = self.args
        name = args.profile or os.environ.get("DOCKFIX_PROFILE") or config.profile
        if args.profile:
            check_profile_name(args.profile, "<command line>")
        elif os.environ.get("DOCKFIX_PROFILE"):
            check_profile_name(name, "<environment: DOCKFIX_PROFILE>")
        if dev_because and name != "dev":
            profile = config.resolve_profile("dev")
            return self._options(config, profile.replace(role=f"instead of {name}, for {dev_because}"))
        try:
            profile = config.resolve_profile(name)
        except ConfigError as err:
            if not err.path:
                err.path = config.path or "<command line>"
            raise
        return self._options(config, profile)

    def _options(self, config: Config, profile: Profile) -> Options:
        args = self.args
        from transforms import RULES  # lazy: start-up

        for code in (args.select or ()) + (args.ignore or ()):
            if not any(r.startswith(code) for r in RULES):
                raise ConfigError(f"unknown rule selector '{code}' (see 'dockfix rule')", path="<command line>")
        return Options(
            profile=profile,
            select=args.select if args.select is not None else config.select,
            ignore=(args.ignore or ()) + config.ignore,
            unsafe_fixes=args.unsafe_fixes if args.unsafe_fixes is not None else config.unsafe_fixes,
            inline_ignores=args.inline_ignores,
            services=config.services,
            compose_files=config.compose_files,
        )


def run(args: argparse.Namespace) -> int:
    command: str = args.command
    fix = command in ("apply", "diff")
    options_for = OptionsFor(args)
    paths: list[str] = args.paths or ["."]
    jobs: list[Job] = []
    failed: list[Failed] = []  # files that cannot be done as asked, reported with the results
    if "-" in paths:
        if len(paths) > 1:
            raise ConfigError("'-' (stdin) cannot be combined with other paths", path="<command line>")
        name = args.stdin_filename or "-"
        # by name only: editors send every buffer, and a YAML file that is not named like a
        # Compose file (a Kubernetes manifest, values.yaml) is left alone unless --file-type says
        kind = kind_of(name, file_type=args.file_type) or "unknown"
        data = sys.stdin.buffer.read()
        jobs.append(Job(name, kind, options_for(name, kind), fix, stdin=data, skip=options_for.skipped(name, kind)))
    else:
        missing = [p for p in paths if not os.path.exists(p) and not os.path.islink(p)]
        targets = list(discover([p for p in paths if p not in missing],
                                respect_gitignore=args.respect_gitignore, file_type=args.file_type))
        composes = {os.path.realpath(t.path) for t in targets if t.kind == "compose"}
        for target in targets:
            why = options_for.skipped(target.path, target.kind)
            if why:
                if _explicit(args, target.path):
                    jobs.append(Job(target.path, target.kind, options_for(target.path, target.kind), fix, skip=why))
                continue
            options = options_for(target.path, target.kind)
            if args.write_to == "override" and target.kind == "compose":
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
    workers = args.jobs or os.cpu_count() or 1
    caches = None if args.no_cache or "-" in paths else Caches()
    pending: list[Job] = []
    cached: dict[int, Result] = {}
    for n, job in enumerate(jobs):
        hit = caches.lookup(job) if caches is not None else None
        if isinstance(hit, Done):
            cached[n] = hit
        else:
            pending.append(hit if isinstance(hit, Job) else job)
    progress = _progress_bar() if len(pending) >= 200 and sys.stderr.isatty() and not args.quiet else None
    ran = iter(run_all(pending, workers, progress))
    results = [cached[n] if n in cached else next(ran) for n in range(len(jobs))]
    results += failed
    status = report(args, results)
    if caches is not None:
        caches.store(results, command)
    return status


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


def report(args: argparse.Namespace, results: list[Result]) -> int:
    command: str = args.command
    errors = 0
    changed = 0
    remaining: list[Finding] = []
    fixed_count = 0
    sources: dict[str, SourceFile] = {}
    stdout = sys.stdout
    stdin_mode = any(r.job.stdin is not None for r in results)
    # `apply -` is an editor's formatter: editors that merge stderr into the result (Neovim's
    # systemlist()) would put the summary into the file, so it goes only to a terminal
    quiet = args.quiet or (stdin_mode and command == "apply" and not sys.stderr.isatty())
    for result in results:
        if isinstance(result, Failed):
            errors += 1
            print(result.error.render(), file=sys.stderr)
            if stdin_mode and command == "apply":
                stdout.write(_stdin_text(result.job))
            continue
        if isinstance(result, Skipped):
            if result.job.stdin is not None and command == "apply":
                stdout.write(_stdin_text(result.job))
            if not quiet and (result.job.stdin is not None or _explicit(args, result.job.path)):
                print(f"{printable_path(result.job.path)}: skipped: {result.reason}", file=sys.stderr)
            continue
        assert isinstance(result, Done)
        outcome = result.outcome
        src = outcome.src
        sources[src.path] = src.with_text(outcome.new_text) if outcome.new_text is not None else src
        remaining.extend(outcome.findings)
        fixed_count += len(outcome.fixed)
        new_text = outcome.new_text
        if command == "diff" and new_text is not None:
            changed += 1
            from rewriter.diff import unified_diff  # lazy: start-up
            from rewriter.diffcheck import checked  # lazy: start-up

            before, after = src.to_text(), src.with_text(new_text).to_text()
            try:
                stdout.write(checked(src.path, before, after, unified_diff(
                    src.path, before, after,
                    new_file=result.job.companion is not None and not result.data and not os.path.lexists(src.path))))
            except DockfixError as err:  # the diff does not reproduce the fix: say so, print none
                errors += 1
                print(err.render(), file=sys.stderr)
        elif command == "apply":
            if result.job.stdin is not None:
                stdout.write((src.with_text(new_text) if new_text is not None else src).to_text())
                changed += new_text is not None
            elif new_text is not None:
                try:
                    write_atomic(src.path, result.data, src.with_text(new_text).to_bytes(), job_root(result.job))
                    result.written = True
                    changed += 1
                except DockfixError as err:
                    errors += 1
                    print(err.render(), file=sys.stderr)
                    # nothing was written: what was "fixed" still stands in the file
                    remaining.extend(outcome.fixed)
                    fixed_count -= len(outcome.fixed)
    to_print = remaining if command != "diff" else []
    if quiet and stdin_mode and command == "apply" and args.output_format in ("concise", "full"):
        # the same for the findings that remain (suggestions do, for most files): an editor shows
        # them from `check` or the language server, not from its formatter's stderr
        to_print = []
    if to_print:
        from rewriter import output  # lazy: start-up

        rendered = output.render(args.output_format, to_print, sources)
        stream = sys.stderr if (stdin_mode and command == "apply") else stdout
        stream.write(rendered)
    elif args.output_format in ("json", "sarif") and command != "diff":
        # an empty report is still a report: code scanning closes alerts on an empty SARIF run
        from rewriter import output  # lazy: start-up

        (sys.stderr if stdin_mode and command == "apply" else stdout).write(output.render(args.output_format, [], sources))
    if not quiet:
        processed = sum(1 for r in results if isinstance(r, Done))
        _summary(command, remaining, fixed_count, changed, errors, args, processed)
    if errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_OK
    if command == "diff":
        return EXIT_FINDINGS if changed else EXIT_OK
    if command == "apply" and args.exit_non_zero_on_fix and (changed or fixed_count):
        return EXIT_FINDINGS
    # info notes with nothing to apply (e.g. "runtime limits cannot live in an image") are shown
    # but do not fail a run
    failing = [f for f in remaining if f.severity.value != "info" or f.fixable]
    return EXIT_FINDINGS if failing else EXIT_OK


def _stdin_text(job: Job) -> str:
    data = job.stdin or b""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="surrogateescape")


def _explicit(args: argparse.Namespace, path: str) -> bool:
    return path in (args.paths or [])


def _summary(command: str, remaining: list[Finding], fixed: int, changed: int, errors: int,
             args: argparse.Namespace, processed: int) -> None:
    parts = []
    if not processed and not errors:
        parts.append("No files to check." if command == "check" else "No files to fix.")
    elif command == "check":
        n = len(remaining)
        fixable = sum(1 for f in remaining if f.fixable and (args.unsafe_fixes or f.fix is not None and f.fix.applicability >= 2))
        unsafe = sum(1 for f in remaining if f.fix is not None and f.fix.applicability == 1)
        if n:
            parts.append(f"Found {n} finding{'s' if n != 1 else ''}.")
            if fixable:
                parts.append(f"[*] {fixable} fixable with 'dockfix apply'.")
            if unsafe and not args.unsafe_fixes:
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
