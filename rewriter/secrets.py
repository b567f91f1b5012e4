"""Keeping a token out of everything dockfix prints.

A token reaches error text in more forms than its own: httpx reports an illegal header value as
the ``bytes`` repr (``b'Bearer ghs_...\\n'``, a token read with its trailing newline), git may
print it percent-encoded from a remote URL, JSON escapes it. Every form is masked, and only where
it stands as a whole token: masking every occurrence of a one-character "token" would mask every
such character of a git message (tokens that short are refused anyway, see
:data:`MIN_TOKEN_LENGTH`).
"""

from __future__ import annotations

import json
import re
import urllib.parse

# GitHub's tokens are 40 characters or more (``ghs_``, ``ghp_``, ``github_pat_`` ...); anything
# under 8 is a mistake, and masking it would mangle messages.
MIN_TOKEN_LENGTH = 8
MASK = "***"


def token_forms(token: str) -> list[str]:
    """The ways ``token`` can be written in a message, longest first."""
    forms: set[str] = set()
    for variant in {token, token.strip()}:
        if not variant:
            continue
        forms.add(variant)
        forms.add(repr(variant)[1:-1])
        forms.add(repr(variant.encode("utf-8", "backslashreplace"))[2:-1])
        forms.add(json.dumps(variant)[1:-1])
        forms.add(urllib.parse.quote(variant, safe=""))
    return sorted((f for f in forms if f.strip()), key=len, reverse=True)


class Scrubber:
    """Replaces every whole-token occurrence of any form of the tokens by ``***``."""

    def __init__(self, tokens: list[str] | tuple[str, ...]) -> None:
        forms = sorted({f for t in tokens if t for f in token_forms(t)}, key=len, reverse=True)
        self._pattern = re.compile(
            r"(?<![A-Za-z0-9_])(?:" + "|".join(re.escape(f) for f in forms) + r")(?![A-Za-z0-9_])"
        ) if forms else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern is not None else text
