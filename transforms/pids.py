"""pids: a limit on processes and threads.

DF401 pids-limit-missing
    Neither ``pids_limit`` nor ``deploy.resources.limits.pids`` is set: a fork bomb or a thread
    leak can exhaust the host's PIDs. The fix adds ``pids_limit`` with the profile's value
    (prod: 512). The cgroup counts *threads*, and a Go program that cannot create a thread dies
    (``failed to create new OS thread``), so the value is generous.

DF402 pids-limit-low
    The pids limit is below the profile's value, or is ``0``/``-1`` (unlimited). The fix raises
    it to the profile's value; a higher value is kept. Raising an explicit "unlimited" changes
    what someone chose on purpose, so that fix is unsafe (``--unsafe-fixes``).

Settings: ``pids-limit`` in the profile (``none`` turns the rules off).
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.edits import Applicability
from rewriter.model import Container, Report, Severity
from transforms.base import Context, Rule, report

MISSING = Rule("DF401", "pids-limit-missing", "no pids limit", Severity.WARNING, __name__)
LOW = Rule("DF402", "pids-limit-low", "pids limit below the profile's", Severity.WARNING, __name__)
RULES = (MISSING, LOW)


def check(container: Container, ctx: Context) -> Iterator[Report]:
    want = ctx.profile.pids_limit
    if want is None:
        return
    limits = container.pids_limits()
    if not limits:
        yield report(
            container, MISSING,
            f"no pids limit; threads and processes are unbounded ({ctx.profile.described}: {want})",
            None, lambda: container.set_pids_limit(want, None),
            f"add {container.setting_name('pids')} {want}")
        return
    for setting in limits:
        value = setting.value
        if isinstance(value, bool) or not isinstance(value, int) or value >= want:
            continue
        unlimited = value <= 0
        what = "means unlimited" if unlimited else f"is below {ctx.profile.described}'s {want}"
        yield report(
            container, LOW,
            f"{setting.described()} {what}; the cgroup counts threads and a Go program dies when it "
            f"cannot start one",
            setting.span, lambda s=setting: container.set_pids_limit(want, s),  # type: ignore[misc]
            f"set {setting.key} to {want}",
            Applicability.UNSAFE if unlimited else Applicability.SAFE)
