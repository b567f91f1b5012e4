"""The command-line options of ``dockfix pr``, apart from the bot itself so that building the
parser for every other command costs no imports (the bot needs subprocess, tempfile, hashlib)."""

from __future__ import annotations

import argparse

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
