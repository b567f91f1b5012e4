"""What every transform shares: rule metadata and the context a transform runs in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rewriter.edits import Applicability, Fix
from rewriter.model import Container, Report, Severity, Span
from rewriter.profiles import Profile
from rewriter.yamlpatch import Refusal


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    severity: Severity
    module: str  # the transform module whose docstring is the rule's documentation


@dataclass(frozen=True)
class Context:
    profile: Profile
    directory: str = ""  # the directory of the file being fixed (relative paths resolve here)


Check = Callable[[Container, Context], Iterator[Report]]


def report(container: Container, rule: Rule, message: str, span: Span | None,
           make_fix: Callable[[], Fix] | None, fix_message: str,
           applicability: Applicability = Applicability.SAFE) -> Report:
    """Build a report; when the surface refuses the fix, say why in the message."""
    fix: Fix | None = None
    if make_fix is not None:
        try:
            fix = make_fix().described(fix_message, applicability)
        except Refusal as why:
            message = f"{message} [no automatic fix: {why}]"
    return Report(rule.code, f"{container.label}: {message}", span or container.span, rule.severity,
                  fix, container.scope)
