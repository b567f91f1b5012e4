"""The command-line options of ``dockfix pr``, apart from the bot itself so that building the
parser for every other command costs no imports (the bot needs subprocess, tempfile, hashlib)."""

from __future__ import annotations

import argparse

from rewriter.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rewriter.api import Settings

DEFAULT_AUTHOR = "dockfix <dockfix@users.noreply.github.com>"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories in the repository (default: all)")
    parser.add_argument("--profile", help="profile whose fixes to propose (default: config 'profile', else prod)")
    parser.add_argument("--base", help="branch to build on and merge into (default: the remote's default branch)")
    parser.add_argument("--remote", default="origin", help="git remote to push to (default: origin)")
    parser.add_argument("--repo", help="owner/name on GitHub (default: $GITHUB_REPOSITORY, else from the remote URL)")
    parser.add_argument("--api-url", help="GitHub API URL (default: $GITHUB_API_URL, else https://api.github.com)")
    parser.add_argument("--token-env", default="GITHUB_TOKEN", metavar="NAME",
                        help="environment variable holding the token (default: GITHUB_TOKEN); "
                             "never pass a token on the command line")
    parser.add_argument("--label", action="append", help="label for a new pull request (default: dockfix)")
    parser.add_argument("--author", help=f"commit author 'Name <email>' (default: git config, else {DEFAULT_AUTHOR})")
    parser.add_argument("--unsafe-fixes", action="store_true", default=None, help="also apply unsafe fixes")
    parser.add_argument("--dry-run", action="store_true", help="print what would be pushed and opened; change nothing")
    parser.add_argument("--config", help="use this config file instead of discovering one")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the outcome")


class PrRequest(Record):
    """``dockfix pr``'s flags, typed: what the bot is asked to do. The fixes are asked for with
    the same :class:`rewriter.api.Settings` as the command line's and the language server's
    (profile, config, unsafe fixes); the rest says where the pull request goes. The command line
    builds it from its parsed flags (:func:`request_of`); nothing else ever sees an
    ``argparse.Namespace``."""

    __slots__ = ("settings", "paths", "base", "remote", "repo", "api_url", "token_env", "labels", "author",
                 "dry_run", "quiet")

    def __init__(self, settings: Settings, paths: tuple[str, ...] = (), base: str | None = None,
                 remote: str = "origin", repo: str | None = None, api_url: str | None = None,
                 token_env: str = "GITHUB_TOKEN", labels: tuple[str, ...] = (), author: str | None = None,
                 dry_run: bool = False, quiet: bool = False) -> None:
        self.settings = settings
        self.paths = paths  # files or directories in the repository; () for all of it
        self.base = base  # None: the remote's default branch
        self.remote = remote
        self.repo = repo  # None: $GITHUB_REPOSITORY, else from the remote URL
        self.api_url = api_url  # None: $GITHUB_API_URL, else https://api.github.com
        self.token_env = token_env
        self.labels = labels  # () : "dockfix"
        self.author = author
        self.dry_run = dry_run
        self.quiet = quiet


def request_of(args: argparse.Namespace) -> PrRequest:
    """The parsed flags of ``dockfix pr`` as the bot's typed request."""
    from rewriter.api import Settings  # lazy: start-up

    settings = Settings(profile=args.profile, unsafe_fixes=args.unsafe_fixes, config=args.config)
    return PrRequest(settings, tuple(args.paths or ()), base=args.base, remote=args.remote, repo=args.repo,
                     api_url=args.api_url, token_env=args.token_env, labels=tuple(args.label or ()),
                     author=args.author, dry_run=args.dry_run, quiet=args.quiet)
