"""``dockfix pr`` against a real git remote (a bare repository in tmp_path) and a GitHub-shaped
HTTP server on 127.0.0.1 (pytest-httpserver) that keeps pull request state. Each test asserts the
exact requests made, the headers sent, what reached the remote, and that the user's checkout
(its branch, its uncommitted and untracked files) is exactly as it was."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from rewriter import github as github_module
from rewriter.bot import read_meta
from rewriter.cli import main

TOKEN = "ghs_test-token-4b1d"
REPO = "acme/shop"
COMPOSE = "services:\n  api:\n    image: acme/api\n"
COMPOSE_FIXED = (
    "services:\n  api:\n    image: acme/api\n"
    "    tmpfs:\n      - /tmp:size=64m,mode=1777\n"
    "    ulimits:\n      nofile:\n        soft: 65536\n        hard: 65536\n"
    "    pids_limit: 512\n"  # the built-in 512m memory limit is only a suggestion: not in the PR
)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@dataclass
class FakeGitHub:
    """Pull requests of one repository, as GitHub's REST API shows them."""

    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    canned: list[Response] = field(default_factory=list)  # served first, one per request
    hide_open_once: bool = False  # the next "open" listing misses a PR (a creation race)

    def pr(self, number: int) -> dict[str, Any]:
        return self.pulls[number]

    def __call__(self, request: Request) -> Response:
        assert request.headers.get("Authorization") == f"Bearer {TOKEN}"
        assert request.headers.get("Accept") == "application/vnd.github+json"
        assert request.headers.get("X-GitHub-Api-Version") == "2022-11-28"
        if self.canned:
            return self.canned.pop(0)
        path = request.path
        if path == f"/repos/{REPO}" and request.method == "GET":
            return Response(json.dumps({"full_name": REPO, "default_branch": "main"}), 200,
                            content_type="application/json")
        if path == f"/repos/{REPO}/pulls" and request.method == "GET":
            owner, _, branch = request.args["head"].partition(":")
            assert owner == "acme"
            state = request.args.get("state", "open")
            found = [p for p in self.pulls.values()
                     if p["head"]["ref"] == branch and (state == "all" or p["state"] == state)]
            if state == "open" and self.hide_open_once:
                self.hide_open_once = False
                found = []
            return self.json(found)
        if path == f"/repos/{REPO}/pulls" and request.method == "POST":
            data = request.get_json()
            if any(p["head"]["ref"] == data["head"] and p["state"] == "open" for p in self.pulls.values()):
                return self.json({"message": "Validation Failed", "errors": [
                    {"resource": "PullRequest", "code": "custom",
                     "message": f"A pull request already exists for acme:{data['head']}."}]}, 422)
            number = len(self.pulls) + 1
            self.pulls[number] = {"number": number, "state": "open", "title": data["title"], "body": data["body"],
                                  "head": {"ref": data["head"]}, "base": {"ref": data["base"]},
                                  "merged_at": None, "html_url": f"https://github.test/{REPO}/pull/{number}",
                                  "labels": []}
            return self.json(self.pulls[number], 201)
        m = re.fullmatch(rf"/repos/{REPO}/pulls/(\d+)", path)
        if m and request.method == "PATCH":
            pr = self.pulls[int(m.group(1))]
            for key, value in request.get_json().items():
                if key == "base":
                    pr["base"] = {"ref": value}
                else:
                    pr[key] = value
            return self.json(pr)
        m = re.fullmatch(rf"/repos/{REPO}/issues/(\d+)/labels", path)
        if m and request.method == "POST":
            pr = self.pulls[int(m.group(1))]
            pr["labels"] += request.get_json()["labels"]
            return self.json([{"name": n} for n in pr["labels"]])
        return self.json({"message": "Not Found"}, 404)

    @staticmethod
    def json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json")


@dataclass
class Repo:
    work: Path
    remote: Path

    def remote_sha(self, branch: str) -> str | None:
        out = git(self.remote, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}").strip()
        return out or None

    def remote_file(self, ref: str, path: str) -> str:
        return git(self.remote, "show", f"{ref}:{path}")

    def push_to_main(self, path: str, text: str, message: str, push: bool = True) -> None:
        """Another developer's commit on main, made in a separate clone."""
        other = self.remote.parent / "other"
        if not other.exists():
            git(self.remote.parent, "clone", "-q", str(self.remote), str(other))
        git(other, "pull", "-q", "origin", "main")
        (other / path).parent.mkdir(parents=True, exist_ok=True)
        (other / path).write_text(text, encoding="utf-8")
        git(other, "add", path)
        git(other, "commit", "-q", "-m", message)
        if push:
            git(other, "push", "-q", "origin", "main")

    def push_tree_to_main(self, source: Path, message: str) -> None:
        """Every file below ``source`` committed to main at once, as another developer would."""
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            self.push_to_main(str(path.relative_to(source)), path.read_text(encoding="utf-8"), message,
                              push=False)
        git(self.remote.parent / "other", "push", "-q", "origin", "main")

    def user_state(self) -> tuple[str, str, str]:
        return (git(self.work, "rev-parse", "--abbrev-ref", "HEAD"), git(self.work, "status", "--porcelain"),
                (self.work / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Dev\n\temail = dev@example.test\n[init]\n\tdefaultBranch = main\n",
                         encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL", "DOCKFIX_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    (work / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    (work / "README.md").write_text("shop\n", encoding="utf-8")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "initial")
    git(work, "push", "-q", "origin", "main")
    # the user is mid-work: another branch, an uncommitted edit, an untracked file
    git(work, "switch", "-q", "-c", "feature")
    (work / "compose.yaml").write_text(COMPOSE + "  # work in progress\n", encoding="utf-8")
    (work / "notes.txt").write_text("todo\n", encoding="utf-8")
    monkeypatch.chdir(work)
    return Repo(work, remote)


@pytest.fixture
def fake(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    gh = FakeGitHub()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(gh)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    yield gh


def requests(httpserver: HTTPServer) -> list[str]:
    """The requests made so far, as 'METHOD path?query', and forget them."""
    out = []
    for request, _ in httpserver.log:
        query = request.query_string.decode()
        out.append(f"{request.method} {request.path}" + (f"?{query}" if query else ""))
    httpserver.clear_log()
    return out


def run_pr(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["pr", *args])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert TOKEN not in text
    return rc, text


OPEN = f"GET /repos/{REPO}/pulls?head=acme%3Adockfix%2Fprod&state=open&per_page=100"
CLOSED = f"GET /repos/{REPO}/pulls?head=acme%3Adockfix%2Fprod&state=closed&per_page=100"


def test_opens_then_keeps_one_pull_request_up_to_date(repo: Repo, fake: FakeGitHub, httpserver: HTTPServer,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    before = repo.user_state()
    rc, out = run_pr(capsys, "--profile", "prod")
    assert rc == 0, out
    assert requests(httpserver) == [OPEN, CLOSED, f"POST /repos/{REPO}/pulls", f"POST /repos/{REPO}/issues/1/labels"]
    assert repo.user_state() == before
    assert git(repo.work, "worktree", "list").count("\n") == 1
    # the branch is one commit on main with exactly the fixed file
    sha = repo.remote_sha("dockfix/prod")
    assert sha is not None
    assert git(repo.remote, "rev-parse", f"{sha}^").strip() == repo.remote_sha("main")
    assert repo.remote_file("dockfix/prod", "compose.yaml") == COMPOSE_FIXED
    assert "Dockfix-Profile: prod" in git(repo.remote, "log", "-1", "--format=%B", "dockfix/prod")
    pr = fake.pr(1)
    assert (pr["head"]["ref"], pr["base"]["ref"], pr["labels"]) == ("dockfix/prod", "main", ["dockfix"])
    assert read_meta(pr["body"]) is not None
    assert "| `compose.yaml` | 2 | DF101 |" in pr["body"] and "dockfix: ignore[CODE]" in pr["body"]

    # a second run with nothing new: no push, no write request
    rc, out = run_pr(capsys, "--profile", "prod")
    assert rc == 0, out
    assert requests(httpserver) == [OPEN]
    assert repo.remote_sha("dockfix/prod") == sha

    # main moves on: the branch is rebuilt on it, force-pushed, and the same PR updated
    repo.push_to_main("deploy/compose.yaml", "services:\n  worker:\n    image: acme/worker\n", "add worker")
    rc, out = run_pr(capsys, "--profile", "prod")
    assert rc == 0, out
    assert requests(httpserver) == [OPEN, f"PATCH /repos/{REPO}/pulls/1"]
    new_sha = repo.remote_sha("dockfix/prod")
    assert new_sha not in (None, sha)
    assert git(repo.remote, "rev-parse", f"{new_sha}^").strip() == repo.remote_sha("main")
    assert len(fake.pulls) == 1 and "`deploy/compose.yaml`" in fake.pr(1)["body"]
    assert repo.user_state() == before


def test_closes_the_pull_request_when_nothing_is_left(repo: Repo, fake: FakeGitHub, httpserver: HTTPServer,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert run_pr(capsys)[0] == 0
    requests(httpserver)
    repo.push_to_main("compose.yaml", COMPOSE_FIXED, "merge the fixes")
    rc, out = run_pr(capsys)
    assert rc == 0, out
    assert requests(httpserver) == [OPEN, f"PATCH /repos/{REPO}/pulls/1"]
    assert fake.pr(1)["state"] == "closed"
    assert repo.remote_sha("dockfix/prod") is None
    # and the next run has nothing to do at all
    assert run_pr(capsys)[0] == 0
    assert requests(httpserver) == [OPEN]


def test_a_creation_race_updates_instead_of_duplicating(repo: Repo, fake: FakeGitHub, httpserver: HTTPServer,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_pr(capsys)[0] == 0
    requests(httpserver)
    repo.push_to_main("deploy/compose.yaml", "services:\n  worker:\n    image: acme/worker\n", "add worker")
    fake.hide_open_once = True  # another run opened the PR between our listing and our POST
    rc, out = run_pr(capsys)
    assert rc == 0, out
    assert requests(httpserver) == [OPEN, CLOSED, f"POST /repos/{REPO}/pulls", OPEN, f"PATCH /repos/{REPO}/pulls/1"]
    assert len(fake.pulls) == 1 and "`deploy/compose.yaml`" in fake.pr(1)["body"]


def test_closed_without_merging_is_not_proposed_again(repo: Repo, fake: FakeGitHub, httpserver: HTTPServer,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert run_pr(capsys)[0] == 0
    fake.pr(1)["state"] = "closed"
    requests(httpserver)
    rc, out = run_pr(capsys)
    assert rc == 0 and "closed without merging" in out
    assert requests(httpserver) == [OPEN, CLOSED]
    assert len(fake.pulls) == 1


def test_rate_limits_are_waited_out(repo: Repo, fake: FakeGitHub, httpserver: HTTPServer,
                                    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(github_module, "sleep", waits.append)
    fake.canned = [
        FakeGitHub.json({"message": "You have exceeded a secondary rate limit."}, 429, {"retry-after": "7"}),
        FakeGitHub.json({"message": "API rate limit exceeded"}, 403,
                        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}),
    ]
    rc, out = run_pr(capsys)
    assert rc == 0, out
    assert requests(httpserver)[:3] == [OPEN, OPEN, OPEN]
    assert waits == [7.0, 0.0]
    assert len(fake.pulls) == 1


def test_rate_limit_beyond_the_longest_wait_is_an_error(repo: Repo, fake: FakeGitHub, httpserver: HTTPServer,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(github_module, "sleep", waits.append)
    fake.canned = [FakeGitHub.json({"message": "rate limit"}, 429, {"retry-after": "3600"})]
    rc, out = run_pr(capsys)
    assert rc == 2 and "retry in 3600 s" in out
    assert waits == [] and requests(httpserver) == [OPEN]
    assert repo.remote_sha("dockfix/prod") is None


def test_dry_run_writes_nothing(repo: Repo, fake: FakeGitHub, httpserver: HTTPServer,
                                capsys: pytest.CaptureFixture[str]) -> None:
    before = repo.user_state()
    rc, out = run_pr(capsys, "--dry-run")
    assert rc == 0, out
    assert all(r.startswith("GET ") for r in requests(httpserver))
    assert repo.remote_sha("dockfix/prod") is None and fake.pulls == {}
    assert "branch: dockfix/prod" in out
    assert "+      - /tmp:size=64m,mode=1777" in out  # the diff
    assert "<!-- dockfix:meta " in out and "would open a pull request" in out
    assert repo.user_state() == before


def test_dry_run_needs_no_token(repo: Repo, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run_pr(capsys, "--dry-run")
    assert rc == 0 and "no token" in out and "+    pids_limit: 512" in out
    assert requests(httpserver) == []


def test_without_a_token_only_dry_run_works(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run_pr(capsys)
    assert rc == 2 and "GITHUB_TOKEN" in out
    assert repo.remote_sha("dockfix/prod") is None


def test_a_branch_someone_else_pushed_to_is_left_alone(repo: Repo, fake: FakeGitHub, httpserver: HTTPServer,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert run_pr(capsys)[0] == 0
    other = repo.remote.parent / "human"
    git(repo.remote.parent, "clone", "-q", "-b", "dockfix/prod", str(repo.remote), str(other))
    (other / "compose.yaml").write_text(COMPOSE_FIXED.replace("pids_limit: 512", "pids_limit: 1024"), encoding="utf-8")
    git(other, "commit", "-q", "-am", "use 1024")
    git(other, "push", "-q", "origin", "dockfix/prod")
    human = repo.remote_sha("dockfix/prod")
    requests(httpserver)
    rc, out = run_pr(capsys)
    assert rc == 1 and "leaving it alone" in out
    assert repo.remote_sha("dockfix/prod") == human
    assert requests(httpserver) == [OPEN]


def test_default_branch_from_the_api_when_the_remote_does_not_say(repo: Repo, fake: FakeGitHub,
                                                                    httpserver: HTTPServer,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # a mirror whose HEAD names a branch it does not have, as a bare clone made elsewhere can be
    git(repo.remote, "symbolic-ref", "HEAD", "refs/heads/trunk")
    rc, out = run_pr(capsys, "--profile", "prod", "--dry-run")
    assert rc == 0, out
    assert requests(httpserver)[0] == f"GET /repos/{REPO}"
    assert "dockfix/prod" in out and "main" in out


def test_the_body_lists_what_a_human_must_decide(repo: Repo, fake: FakeGitHub, httpserver: HTTPServer,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 12: an interpolated value and a one-off job are not written as guesses; they are listed
    in the pull request for a human (lines as on the branch), and the overlay is not touched."""
    repo.push_to_main("compose.override.yaml", "services:\n  api:\n    environment:\n      DEBUG: '1'\n", "dev")
    repo.push_to_main("ops/compose.yaml",
                      "services:\n  worker:\n    image: acme/worker\n    mem_limit: 1g\n"
                      "    memswap_limit: ${WORKER_SWAP:-2g}\n"
                      "  migrate:\n    image: acme/api\n    restart: \"no\"\n", "ops")
    rc, out = run_pr(capsys, "--profile", "prod")
    assert rc == 0, out
    body = fake.pr(1)["body"]
    assert "### Findings for a human" in body
    # repository text (paths, messages) is shown in code spans (issue 15: no Markdown from the repository)
    assert "| `ops/compose.yaml` | 5 | DF302 | no safe value | `service 'worker': memswap_limit '2g' " \
           "(interpolated from '${WORKER_SWAP:-2g}'" in body
    assert "| `ops/compose.yaml` | 13 | DF902 | note | `service 'migrate': a one-off job " \
           "(restart: \"no\", and it publishes no ports)" in body
    # every fixed row says where its value came from; the overlay was not given the base's settings
    rows = [line for line in body.splitlines() if line.startswith("| `") and "| DF" in line]
    fixed = rows[:rows.index(next(r for r in rows if "no safe value" in r or "| note |" in r))]
    assert fixed and all("profile prod" in r for r in fixed)
    assert "compose.override.yaml" not in body
    assert repo.remote_file("dockfix/prod", "compose.override.yaml") == \
        "services:\n  api:\n    environment:\n      DEBUG: '1'\n"


# -- Kubernetes manifests with a kustomize overlay (issue 13) -------------------------------------------

KUSTOMIZE = Path(__file__).resolve().parent.parent / "fixtures" / "kubernetes" / "kustomize"


def _manifests_on_main(repo: Repo) -> str:
    """The kustomize shop (base, component, overlays) on main beside the Compose file; main's sha."""
    repo.push_tree_to_main(KUSTOMIZE / "input", "kubernetes manifests")
    sha = repo.remote_sha("main")
    assert sha is not None
    return sha


def _kubernetes_rows(body: str) -> None:
    """The fix in the base and, for a human, what the overlays decide or hide."""
    assert "| `base/api.yaml` | 19 | DF101 | `add tmpfs '/tmp:size=64Mi'` | `container 'api' of Deployment 'api': " \
           "no tmpfs on '/tmp'" in body
    assert "| `base/worker.yaml` | 18 | DF805 | note | `container 'worker' of Deployment 'worker': a kustomize " \
           "overlay patches it in a way dockfix cannot read for certain (replacements[1] of " \
           "overlays/canary/kustomization.yaml" in body
    assert "| `overlays/prod/api-memory.yaml` | 9 | DF805 | note | `container 'api' of Deployment 'api': this " \
           "file is a kustomize patch" in body
    assert "| `base/db.yaml` | 19 | DF301 | suggestion (`--unsafe-fixes`) |" in body
    assert "512m" not in body.replace("mem_limit '512m'", "")  # Kubernetes' units in manifests' rows


def test_kubernetes_manifests_dry_run(repo: Repo, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """``dockfix pr --profile prod --dry-run --base main`` on a repository with a Compose file and
    kustomize manifests: the branch is one commit on main whose diff fixes the Compose file and
    the base manifest (a sized memory-backed /tmp) and touches no patch, component or overlay;
    the body lists the fix and what a human must decide; nothing is pushed or asked."""
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    main_sha = _manifests_on_main(repo)
    before = repo.user_state()
    rc, out = run_pr(capsys, "--profile", "prod", "--dry-run", "--base", "main")
    assert rc == 0, out
    assert f"branch: dockfix/prod (one commit on main {main_sha[:12]})" in out
    changed = re.findall(r"^diff --git a/(\S+) ", out, re.MULTILINE)
    assert changed == ["base/api.yaml", "compose.yaml"]
    expected = (KUSTOMIZE / "expected.prod" / "base" / "api.yaml").read_text(encoding="utf-8")
    added = [line[1:] for line in out.split("diff --git a/compose.yaml")[0].splitlines()
             if line.startswith("+") and not line.startswith("+++")]
    assert added and all(line in expected.splitlines() for line in added)
    assert "+            sizeLimit: 64Mi" in out and "+    pids_limit: 512" in out
    _kubernetes_rows(out)
    assert "dry run: no token" in out
    assert requests(httpserver) == [] and repo.remote_sha("dockfix/prod") is None
    assert repo.user_state() == before


def test_kubernetes_manifests_pull_request(repo: Repo, fake: FakeGitHub, httpserver: HTTPServer,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The same run for real: the branch on the remote is one commit on main whose tree is the
    expected repository (the base fixed, every patch and overlay byte for byte), and the pull
    request's body lists the fix and the notes."""
    main_sha = _manifests_on_main(repo)
    rc, out = run_pr(capsys, "--profile", "prod", "--base", "main")
    assert rc == 0, out
    sha = repo.remote_sha("dockfix/prod")
    assert sha is not None and git(repo.remote, "rev-parse", f"{sha}^").strip() == main_sha
    assert git(repo.remote, "diff", "--name-only", main_sha, sha).split() == ["base/api.yaml", "compose.yaml"]
    for path in sorted(p for p in (KUSTOMIZE / "expected.prod").rglob("*") if p.is_file()):
        name = str(path.relative_to(KUSTOMIZE / "expected.prod"))
        assert repo.remote_file("dockfix/prod", name) == path.read_text(encoding="utf-8"), name
    assert repo.remote_file("dockfix/prod", "compose.yaml") == COMPOSE_FIXED
    assert "Dockfix-Profile: prod" in git(repo.remote, "log", "-1", "--format=%B", "dockfix/prod")
    _kubernetes_rows(fake.pr(1)["body"])
