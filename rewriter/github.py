"""A small typed client for the GitHub REST endpoints ``dockfix pr`` needs (pulls and labels).

Every request sends ``Authorization: Bearer``, ``Accept: application/vnd.github+json`` and
``X-GitHub-Api-Version``. Rate limits are honoured: a 403 or 429 with ``retry-after`` waits that
long; with ``x-ratelimit-remaining: 0`` it waits until ``x-ratelimit-reset``; a secondary limit
without either waits a minute and then backs off exponentially. A response that says the quota
is spent delays the *next* request until the reset. Waits longer than ``max_wait`` are errors,
not sleeps. The token never appears in an error message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from rewriter import __version__
from rewriter.errors import DockfixError

API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"
MAX_ATTEMPTS = 4


def sleep(seconds: float) -> None:
    """Wait between retries (a module function, so that tests can replace it)."""
    time.sleep(seconds)


class GitHubError(DockfixError):
    """A GitHub API call failed (status and GitHub's message, never the token)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message, path="GitHub API")
        self.status = status


class AlreadyExists(GitHubError):
    """422: a pull request already exists for this head branch."""


@dataclass(frozen=True)
class PullRequest:
    number: int
    state: str  # "open" or "closed"
    title: str
    body: str
    head_ref: str
    base_ref: str
    merged: bool
    html_url: str

    @classmethod
    def from_json(cls, data: object) -> PullRequest:
        if not isinstance(data, dict):
            raise GitHubError("unexpected response (not a pull request object)")
        head, base = data.get("head"), data.get("base")
        return cls(
            number=int(data["number"]),
            state=str(data.get("state", "")),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            head_ref=str(head.get("ref", "")) if isinstance(head, dict) else "",
            base_ref=str(base.get("ref", "")) if isinstance(base, dict) else "",
            merged=bool(data.get("merged_at")),
            html_url=str(data.get("html_url") or ""),
        )


class GitHub:
    def __init__(self, api_url: str, repo: str, token: str, *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] | None = None, clock: Callable[[], float] = time.time,
                 max_wait: float = 900.0, timeout: float = 30.0) -> None:
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise GitHubError(f"repository must be 'owner/name', not '{repo}'")
        self.repo = repo
        self.owner = repo.split("/")[0]
        from rewriter.secrets import Scrubber  # lazy: start-up

        self._scrubber = Scrubber([token])
        token = token.strip()  # a token read from a file or secret often ends with a newline
        self._sleep = sleep
        self._clock = clock
        self._max_wait = max_wait
        self._not_before = 0.0
        self.requests_made: list[tuple[str, str]] = []
        self._client = httpx.Client(
            base_url=api_url.rstrip("/"), transport=transport, timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": API_VERSION, "User-Agent": f"dockfix/{__version__}"})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport with rate-limit handling -------------------------------------------------------

    def _wait(self, seconds: float, why: str) -> None:
        if seconds > self._max_wait:
            raise GitHubError(f"{why}; retry in {int(seconds)} s (longer than the {int(self._max_wait)} s "
                              "dockfix waits)", status=429)
        (self._sleep or sleep)(max(0.0, seconds))

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the response is not a rate limit."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after is not None and retry_after.strip().isdigit():
            return float(retry_after)
        if headers.get("x-ratelimit-remaining") == "0" and (headers.get("x-ratelimit-reset") or "").isdigit():
            return max(0.0, float(headers["x-ratelimit-reset"]) - self._clock())
        text = response.text.lower()
        if response.status_code == 429 or "rate limit" in text:
            return 60.0 * float(2**attempt)
        return None  # a plain 403: permissions, not a limit

    def request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                json: object = None) -> httpx.Response:
        for attempt in range(MAX_ATTEMPTS):
            pause = self._not_before - self._clock()
            if pause > 0:
                self._wait(pause, "the GitHub API rate limit is used up")
            self.requests_made.append((method, path))
            try:
                response = self._client.request(method, path, params=params, json=json)
            except httpx.HTTPError as err:
                raise GitHubError(f"{method} {path}: {type(err).__name__}: {self._scrub(str(err))}") from None
            if response.headers.get("x-ratelimit-remaining") == "0":
                reset = response.headers.get("x-ratelimit-reset") or ""
                if reset.isdigit():
                    self._not_before = float(reset)
            delay = self._retry_delay(response, attempt)
            if delay is None:
                return response
            if attempt + 1 == MAX_ATTEMPTS:
                break
            self._wait(delay, "GitHub API rate limit")
        raise GitHubError(f"{method} {path}: still rate limited after {MAX_ATTEMPTS} attempts", status=429)

    def _scrub(self, text: str) -> str:
        return self._scrubber(text)

    def _checked(self, response: httpx.Response, *ok: int) -> object:
        if response.status_code in ok:
            return response.json() if response.content else None
        message = ""
        try:
            data = response.json()
            if isinstance(data, dict):
                message = str(data.get("message", ""))
                errors = data.get("errors")
                if isinstance(errors, list):
                    message += "".join(f"; {e.get('message', e) if isinstance(e, dict) else e}" for e in errors)
        except ValueError:
            message = response.text[:200]
        request = response.request
        error = f"{request.method} {request.url.path}: {response.status_code} {self._scrub(message)}".rstrip()
        if response.status_code == 422 and "already exists" in message:
            raise AlreadyExists(error, status=422)
        raise GitHubError(error, status=response.status_code)

    # -- endpoints ------------------------------------------------------------------------------------

    def default_branch(self) -> str:
        """The repository's default branch (``GET /repos/{owner}/{repo}``)."""
        data = self._checked(self.request("GET", f"/repos/{self.repo}"), 200)
        branch = data.get("default_branch") if isinstance(data, dict) else None
        if not isinstance(branch, str) or not branch:
            raise GitHubError("unexpected response (no default_branch)")
        return branch

    def pulls(self, branch: str, state: str = "open") -> list[PullRequest]:
        """Pull requests whose head is ``branch`` in this repository (``head=owner:branch``)."""
        response = self.request("GET", f"/repos/{self.repo}/pulls",
                                params={"head": f"{self.owner}:{branch}", "state": state, "per_page": "100"})
        data = self._checked(response, 200)
        if not isinstance(data, list):
            raise GitHubError("unexpected response (not a list of pull requests)")
        return [PullRequest.from_json(item) for item in data]

    def create_pull(self, *, title: str, head: str, base: str, body: str) -> PullRequest:
        response = self.request("POST", f"/repos/{self.repo}/pulls",
                                json={"title": title, "head": head, "base": base, "body": body,
                                      "maintainer_can_modify": True})
        return PullRequest.from_json(self._checked(response, 201))

    def update_pull(self, number: int, **fields: str) -> PullRequest:
        response = self.request("PATCH", f"/repos/{self.repo}/pulls/{number}", json=fields)
        return PullRequest.from_json(self._checked(response, 200))

    def add_labels(self, number: int, labels: list[str]) -> None:
        response = self.request("POST", f"/repos/{self.repo}/issues/{number}/labels", json={"labels": labels})
        self._checked(response, 200)
