"""``dockfix pr``: keep exactly one pull request per profile with the fixes dockfix would apply.

Each run rebuilds branch ``dockfix/<profile>`` as one commit on the head of the base branch (the
remote's default branch unless ``--base`` says otherwise), in a temporary ``git worktree``, so the
user's checkout, its branch and its uncommitted changes are never touched. Then:

- fixes, and no pull request open for the branch: push (``--force-with-lease``) and open one
  (a 422 "already exists" race turns into an update);
- fixes and an open pull request: push if the commit's tree or base changed, update title and body;
- nothing to fix: close the open pull request and delete the branch;
- the same fix set was closed without merging before: leave it closed.

The pull request body carries ``<!-- dockfix:meta ... -->`` (profile and a fingerprint of the fix
set) so later runs recognise their own pull requests; a branch whose head commit dockfix did not
make is left alone. ``--dry-run`` prints the branch, the diff and the pull request text, and makes
no push and no write request (it still reads, when it has a token).

Environment, as GitHub Actions sets it (flags override): ``GITHUB_TOKEN``, ``GITHUB_REPOSITORY``,
``GITHUB_API_URL``. The token is only ever sent in the ``Authorization`` header; git pushes use
the remote's own credentials (``actions/checkout`` configures them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rewriter import __version__
from rewriter.bot_options import DEFAULT_AUTHOR, PrRequest
from rewriter.errors import EXIT_FINDINGS, EXIT_OK, ConfigError, DockfixError
from rewriter.secrets import MIN_TOKEN_LENGTH

if TYPE_CHECKING:
    from rewriter.api import Finding, Settings
    from rewriter.github import GitHub, PullRequest

TRAILER = "Dockfix-Profile"
META_RE = re.compile(r"<!-- dockfix:meta ([A-Za-z0-9+/=]+) -->")
MAX_BODY = 60000  # GitHub refuses bodies over 65536 characters


# -- git ------------------------------------------------------------------------------------------------


class Git:
    def __init__(self, cwd: str, scrub: Sequence[str] = ()) -> None:
        from rewriter.secrets import Scrubber  # lazy: start-up

        self.cwd = cwd
        self.scrub = Scrubber([s for s in scrub if s])

    def __call__(self, *args: str, check: bool = True, cwd: str | None = None) -> str:
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
        proc = subprocess.run(["git", *args], cwd=cwd or self.cwd, env=env, capture_output=True, text=True,
                              check=False)
        if check and proc.returncode != 0:
            message = self.scrub((proc.stderr or proc.stdout).strip())
            raise DockfixError(f"git {args[0]} failed: {message}", path=cwd or self.cwd)
        return proc.stdout if proc.returncode == 0 else ""


def default_branch(git: Git, remote: str, github: GitHub | None = None) -> str:
    """The remote's HEAD branch; when the remote does not say (a bare mirror whose HEAD names no
    branch), the repository's default branch from the GitHub API."""
    out = git("ls-remote", "--symref", remote, "HEAD")
    m = re.search(r"^ref: refs/heads/(\S+)\tHEAD$", out, re.MULTILINE)
    if m and remote_sha(git, remote, m.group(1)) is not None:
        return m.group(1)
    if github is not None:
        return github.default_branch()
    raise ConfigError(f"cannot tell the default branch of remote '{remote}'; pass --base", path="<command line>")


def remote_sha(git: Git, remote: str, branch: str) -> str | None:
    out = git("ls-remote", remote, f"refs/heads/{branch}")
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return sha
    return None


def fetch(git: Git, remote: str, branch: str) -> str:
    """Fetch one branch into FETCH_HEAD only (no refs of the user's are created or moved)."""
    git("fetch", "--quiet", "--no-tags", remote, f"refs/heads/{branch}")
    return git("rev-parse", "FETCH_HEAD^{commit}").strip()


def repo_from_url(url: str) -> str | None:
    m = re.search(r"github\.com[:/]+([^/]+)/([^/]+?)(?:\.git)?/?$", url)
    return f"{m.group(1)}/{m.group(2)}" if m else None


@contextmanager
def worktree(git: Git, commit: str) -> Iterator[str]:
    parent = tempfile.mkdtemp(prefix="dockfix-pr-")
    path = os.path.join(parent, "tree")
    git("worktree", "add", "--detach", "--quiet", path, commit)
    try:
        yield path
    finally:
        git("worktree", "remove", "--force", path, check=False)
        shutil.rmtree(parent, ignore_errors=True)
        git("worktree", "prune", check=False)


# -- fixes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixed:
    path: str  # relative to the repository root, forward slashes
    line: int
    code: str
    fix: str  # what the fix does
    message: str  # the finding


@dataclass(frozen=True)
class Open:
    """A finding dockfix did not write: a human decides."""
    path: str
    line: int
    code: str
    status: str  # why it is not in the diff: a suggestion, no safe value, refused, a note
    message: str


@dataclass
class FixRun:
    fixed: list[Fixed] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    remaining: int = 0
    failed: list[str] = field(default_factory=list)
    open: list[Open] = field(default_factory=list)


def compute_fixes(root: str, paths: Sequence[str], settings: Settings) -> FixRun:
    """Run ``dockfix apply`` on ``root`` (a worktree) with ``settings`` (the profile the branch is
    named for) and say what it did."""
    from rewriter import api  # lazy: start-up

    targets = [os.path.join(root, p) for p in paths] if paths else [root]
    run = FixRun()
    for result in api.fix_files(targets, settings):
        rel = os.path.relpath(result.job.path, root).replace(os.sep, "/")
        if isinstance(result, api.Failed):  # printed to a CI log: no newline may start a workflow command
            from rewriter.source import printable  # lazy: start-up

            run.failed.append(printable(f"{rel}: {result.error.message}"))
            continue
        if not isinstance(result, api.Done):
            continue
        outcome = result.outcome
        run.remaining += len(outcome.findings)
        run.open.extend(Open(rel, f.line, f.code, _status(f), f.message) for f in outcome.findings)
        if not api.write(result):
            continue
        run.changed.append(rel)
        for f in outcome.fixed:
            run.fixed.append(Fixed(rel, f.line, f.code, f.fix.message if f.fix else "", f.message))
    run.fixed.sort(key=lambda f: (f.path, f.line, f.code))
    run.open.sort(key=lambda f: (f.path, f.line, f.code))
    return run


def _status(finding: Finding) -> str:
    """Why a finding is left to a human, in the words of the pull request's table."""
    if finding.refused:
        return "fix refused"
    from rewriter.api import Applicability  # lazy: start-up

    if finding.fix is not None and finding.fix.applicability == Applicability.UNSAFE:
        return "suggestion (`--unsafe-fixes`)"
    if finding.severity.value == "info":
        return "note"
    return "no safe value"


# -- the pull request text -------------------------------------------------------------------------


def fingerprint(fixed: Sequence[Fixed]) -> str:
    text = "\n".join(f"{f.path}\0{f.code}\0{f.message}" for f in fixed)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def meta_marker(profile: str, fixed: Sequence[Fixed]) -> str:
    data = json.dumps({"v": 1, "profile": profile, "fingerprint": fingerprint(fixed)}, sort_keys=True)
    return f"<!-- dockfix:meta {base64.b64encode(data.encode()).decode()} -->"


def read_meta(body: str) -> dict[str, object] | None:
    m = META_RE.search(body or "")
    if not m:
        return None
    try:
        data = json.loads(base64.b64decode(m.group(1)))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _code(text: str, *, cell: bool = False) -> str:
    """Repository text (paths, service names in messages) as a code span in a table cell.

    Inside a code span Markdown is inert: no ``@mention`` notifies anyone, no link, image or HTML
    renders. The fence is one backtick longer than any run of backticks in the text, so the text
    cannot close it; in a table ``cell`` a ``|`` is escaped (GFM unescapes it inside code spans too);
    line breaks become spaces and other control characters escapes.
    """
    from rewriter.source import printable  # lazy: start-up

    text = printable(text.replace("\r\n", " ").replace("\r", " ").replace("\n", " "))
    if cell:
        text = text.replace("|", "\\|")
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest or text.startswith(" ") or text.endswith(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def pr_title(profile: str) -> str:
    return f"dockfix: runtime configuration fixes (profile {profile})"


def pr_body(profile: str, fixed: Sequence[Fixed], remaining: int, open_: Sequence[Open] = ()) -> str:
    files = sorted({f.path for f in fixed})
    lines = [
        meta_marker(profile, fixed),
        f"dockfix applied **{len(fixed)} fix{'es' if len(fixed) != 1 else ''}** in {len(files)} "
        f"file{'s' if len(files) != 1 else ''} for profile {_code(profile)}.",
        "",
        "| File | Line | Rule | Fix | Finding |",
        "|---|---|---|---|---|",
    ]
    _rows(lines, [f"| {_code(f.path, cell=True)} | {f.line} | {f.code} | {_code(f.fix, cell=True)} | "
                  f"{_code(f.message, cell=True)} |" for f in fixed], MAX_BODY - 2000, "more, not listed")
    lines += [
        "",
        "### How to suppress a fix",
        "",
        "- One finding: put `# dockfix: ignore[CODE]` at the end of the line, or on the line above "
        "(in a Dockerfile, on its own line above the instruction) on the base branch; the next run leaves "
        "that finding out.",
        "- A rule everywhere: `ignore = [\"CODE\"]` in `[tool.dockfix]` (pyproject.toml) or dockfix.toml.",
        f"- Other values: change profile {_code(profile)} in the config; `dockfix rule CODE` explains each rule.",
        "",
        "Closing this pull request without merging keeps this exact set of fixes from being proposed again. "
        "The branch is rebuilt on every run: do not push to it (dockfix leaves a branch it did not write alone).",
    ]
    if open_:
        # what dockfix could not decide: suggestions from a built-in default, explicit values it
        # only reports, overlays and jobs; listed for a human, never written
        lines += ["", "### Findings for a human", "",
                  "dockfix did not change these: each needs a value or a decision only the project can give.",
                  "", "| File | Line | Rule | Status | Finding |", "|---|---|---|---|---|"]
        _rows(lines, [f"| {_code(o.path, cell=True)} | {o.line} | {o.code} | {o.status} | "
                      f"{_code(o.message, cell=True)} |" for o in open_], MAX_BODY - 1000, f"more: run {_code(f'dockfix check --profile {profile}')}")
    elif remaining:
        lines += ["", f"{remaining} finding{'s' if remaining != 1 else ''} could not be fixed automatically: "
                      f"run {_code(f'dockfix check --profile {profile}')} to see {'them' if remaining != 1 else 'it'}."]
    lines += ["", "---", f"<sub>dockfix {__version__} · {_code(f'dockfix pr --profile {profile}')}</sub>", ""]
    return "\n".join(lines)


def _rows(lines: list[str], rows: list[str], budget: int, more: str) -> None:
    """Append table ``rows`` while the body stays within ``budget`` characters; say how many more."""
    size = sum(len(x) + 1 for x in lines)
    shown = 0
    for row in rows:
        if size + len(row) > budget:
            break
        lines.append(row)
        size += len(row) + 1
        shown += 1
    if shown < len(rows):
        lines.append(f"| … | | | | {len(rows) - shown} {more} |")


def commit_message(profile: str, fixed: Sequence[Fixed]) -> str:
    lines = [f"Apply dockfix fixes (profile {profile})", ""]
    lines += [f"- {f.path}:{f.line}: {f.code} {f.fix}" for f in fixed[:50]]
    if len(fixed) > 50:
        lines.append(f"- and {len(fixed) - 50} more")
    lines += ["", f"{TRAILER}: {profile}"]
    return "\n".join(lines) + "\n"


# -- the run ------------------------------------------------------------------------------------------


@dataclass
class Plan:
    repo_root: str
    remote: str
    repo: str | None
    base: str
    branch: str
    profile: str


def _author(git: Git, flag: str | None) -> tuple[str, str]:
    text = flag
    if not text:
        name = git("config", "user.name", check=False).strip()
        email = git("config", "user.email", check=False).strip()
        if name and email:
            return name, email
        text = DEFAULT_AUTHOR
    m = re.fullmatch(r"\s*(.+?)\s*<([^<>]+)>\s*", text)
    if not m:
        raise ConfigError(f"--author must look like 'Name <email>', not '{text}'", path="<command line>")
    return m.group(1), m.group(2)


def _profile_name(settings: Settings, root: str) -> str:
    """The profile, checked to be a plain name before it names a branch (``dockfix/<profile>``)."""
    from rewriter.api import OptionsFor  # lazy: start-up

    return OptionsFor(settings).profile_name(os.path.join(root, "-"))


def say(request: PrRequest, text: str, *, always: bool = False) -> None:
    if always or not request.quiet:
        print(text, file=sys.stderr)


def main(request: PrRequest) -> int:
    token_env = request.token_env
    raw_token = os.environ.get(token_env, "")
    token = raw_token.strip()  # a secret pasted or read from a file often ends with a newline
    if token and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"the token in {token_env} is too short to be a GitHub token "
                          f"(under {MIN_TOKEN_LENGTH} characters)", path="<environment>")
    git = Git(os.getcwd(), scrub=[raw_token])
    top = git("rev-parse", "--show-toplevel", check=False).strip()
    if not top:
        raise ConfigError("not inside a git checkout", path=os.getcwd())
    git = Git(top, scrub=[raw_token])
    remote = request.remote
    url = git("remote", "get-url", remote, check=False).strip()
    if not url:
        raise ConfigError(f"no git remote named '{remote}'", path=top)
    repo = request.repo or os.environ.get("GITHUB_REPOSITORY") or repo_from_url(url)
    api_url = request.api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    profile = _profile_name(request.settings, top)
    if not request.dry_run and not token:
        raise ConfigError(f"no token: set {token_env} (or use --dry-run)", path="<environment>")
    if not repo and not request.dry_run:
        raise ConfigError("cannot tell the GitHub repository: set GITHUB_REPOSITORY or pass --repo",
                          path="<command line>")
    github: GitHub | None = None
    if token and repo:
        from rewriter.github import GitHub  # lazy: start-up

        github = GitHub(api_url, repo, token)
    try:
        base = request.base or default_branch(git, remote, github)
        plan = Plan(top, remote, repo, base, f"dockfix/{profile}", profile)
        base_sha = fetch(git, remote, base)
        branch_sha = remote_sha(git, remote, plan.branch)
        if branch_sha is not None:
            fetch(git, remote, plan.branch)  # its objects, to compare trees and read its commit
        return _run(request, git, plan, base_sha, branch_sha, github)
    finally:
        if github is not None:
            github.close()


def _run(request: PrRequest, git: Git, plan: Plan, base_sha: str, branch_sha: str | None,
         github: GitHub | None) -> int:
    dry = request.dry_run
    with worktree(git, base_sha) as tree:
        run = compute_fixes(tree, request.paths, request.settings.replace(profile=plan.profile))
        for failure in run.failed:
            say(request, f"dockfix pr: {failure}", always=True)
        new_sha: str | None = None
        diff = ""
        if run.changed:
            git("add", "--", *run.changed, cwd=tree)
            diff = git("diff", "--cached", "--no-color", "--no-ext-diff", cwd=tree)
            name, email = _author(git, request.author)
            git("-c", f"user.name={name}", "-c", f"user.email={email}", "commit", "--quiet", "--no-verify",
                "-m", commit_message(plan.profile, run.fixed), cwd=tree)
            new_sha = git("rev-parse", "HEAD", cwd=tree).strip()

    open_pr: PullRequest | None = None
    if github is not None:
        for pr in github.pulls(plan.branch, "open"):
            if read_meta(pr.body) is not None:
                open_pr = pr
                break
            say(request, f"dockfix pr: pull request #{pr.number} uses branch {plan.branch} but was not opened by "
                      "dockfix; leaving it alone", always=True)
            return EXIT_FINDINGS

    if branch_sha is not None and TRAILER + ":" not in git("log", "-1", "--format=%B", branch_sha):
        say(request, f"dockfix pr: branch {plan.branch} has commits dockfix did not make; leaving it alone "
                  "(delete the branch to let dockfix rebuild it)", always=True)
        return EXIT_FINDINGS

    if new_sha is None:
        return _nothing_to_fix(request, git, plan, branch_sha, open_pr, github, dry)

    title, body = pr_title(plan.profile), pr_body(plan.profile, run.fixed, run.remaining, run.open)
    if dry:
        print(f"branch: {plan.branch} (one commit on {plan.base} {base_sha[:12]})\n")
        sys.stdout.write(diff)
        print(f"\ntitle: {title}\n\n{body}")
        if github is None:
            say(request, "dry run: no token, so GitHub was not asked about open pull requests", always=True)
        elif open_pr is not None:
            say(request, f"dry run: would update pull request #{open_pr.number}", always=True)
        else:
            say(request, "dry run: would open a pull request", always=True)
        return EXIT_OK
    assert github is not None

    if open_pr is None:
        fp = fingerprint(run.fixed)
        for pr in github.pulls(plan.branch, "closed"):
            meta = read_meta(pr.body)
            if meta is not None and not pr.merged and meta.get("fingerprint") == fp:
                say(request, f"dockfix pr: the same fixes were proposed in #{pr.number}, closed without merging; "
                          "not proposing them again", always=True)
                return EXIT_OK

    if _up_to_date(git, branch_sha, base_sha, new_sha):
        say(request, f"dockfix pr: branch {plan.branch} is up to date")
    else:
        git("push", "--quiet", "--no-verify", f"--force-with-lease=refs/heads/{plan.branch}:{branch_sha or ''}",
            plan.remote, f"{new_sha}:refs/heads/{plan.branch}")
        say(request, f"dockfix pr: pushed {new_sha[:12]} to {plan.branch}")

    if open_pr is not None:
        _update(request, github, open_pr, title, body, plan.base)
        return EXIT_OK
    from rewriter.github import AlreadyExists  # lazy: start-up

    try:
        pr = github.create_pull(title=title, head=plan.branch, base=plan.base, body=body)
    except AlreadyExists:
        existing = [p for p in github.pulls(plan.branch, "open") if read_meta(p.body) is not None]
        if not existing:
            raise
        _update(request, github, existing[0], title, body, plan.base)
        return EXIT_OK
    labels = list(request.labels) or ["dockfix"]
    if labels:
        github.add_labels(pr.number, labels)
    say(request, f"dockfix pr: opened #{pr.number} {pr.html_url}".rstrip(), always=True)
    return EXIT_OK


def _up_to_date(git: Git, branch_sha: str | None, base_sha: str, new_sha: str) -> bool:
    if branch_sha is None:
        return False
    parent = git("rev-parse", f"{branch_sha}^", check=False).strip()
    old_tree = git("rev-parse", f"{branch_sha}^{{tree}}").strip()
    new_tree = git("rev-parse", f"{new_sha}^{{tree}}").strip()
    return parent == base_sha and old_tree == new_tree


def _update(request: PrRequest, github: GitHub, pr: PullRequest, title: str, body: str, base: str) -> None:
    fields = {k: v for k, v in (("title", title), ("body", body), ("base", base))
              if v != {"title": pr.title, "body": pr.body, "base": pr.base_ref}[k]}
    if fields:
        github.update_pull(pr.number, **fields)
        say(request, f"dockfix pr: updated #{pr.number} {pr.html_url}".rstrip(), always=True)
    else:
        say(request, f"dockfix pr: #{pr.number} is up to date {pr.html_url}".rstrip(), always=True)


def _nothing_to_fix(request: PrRequest, git: Git, plan: Plan, branch_sha: str | None,
                    open_pr: PullRequest | None, github: GitHub | None, dry: bool) -> int:
    if dry:
        say(request, f"dry run: nothing to fix for profile {plan.profile}"
                  + (f"; would close pull request #{open_pr.number}" if open_pr else "")
                  + (f" and delete branch {plan.branch}" if branch_sha else ""), always=True)
        return EXIT_OK
    if open_pr is not None and github is not None:
        github.update_pull(open_pr.number, state="closed")
        say(request, f"dockfix pr: nothing left to fix; closed #{open_pr.number}", always=True)
    if branch_sha is not None:
        git("push", "--quiet", "--no-verify", f"--force-with-lease=refs/heads/{plan.branch}:{branch_sha}",
            plan.remote, f":refs/heads/{plan.branch}")
        say(request, f"dockfix pr: deleted branch {plan.branch}")
    if open_pr is None and branch_sha is None:
        say(request, f"dockfix pr: nothing to fix for profile {plan.profile}", always=True)
    return EXIT_OK
