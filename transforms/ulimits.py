"""ulimits: a ``nofile`` limit, soft and hard.

DF201 nofile-missing
    The container sets no ``nofile`` ulimit, so it inherits whatever containerd's systemd unit
    gives (1024 soft / 524288 hard since containerd 2.0 and Docker 25, "infinity" before). The
    fix pins soft and hard to the profile's value (prod: 65536), so the limit no longer depends
    on the host's packaging::

        ulimits:
          nofile:
            soft: 65536
            hard: 65536

    Go programs (1.19 and later) raise their own soft limit to the hard one, so for Go this is
    hardening, not a fix; children that are not Go benefit from soft = hard.

DF202 nofile-low
    A ``nofile`` soft or hard limit is below the profile's value. An explicit lower value is a
    decision (a deliberate ``nofile: 1024`` works around programs that allocate per descriptor
    or use ``select()``), so the fix, which raises the low one(s), is a suggestion
    (``--unsafe-fixes``); a higher value is never lowered, and nothing goes above 1048576
    (``fs.nr_open``).

Settings: ``nofile`` in the profile (``none`` turns the rules off).
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.edits import Applicability
from rewriter.model import Container, Report, Severity
from rewriter.profiles import Option, count_option
from rewriter.settings import NOFILE as NOFILE_KEY
from rewriter.settings import Ulimits
from transforms.base import Context, Rule, report

MISSING = Rule("DF201", "nofile-missing", "no nofile ulimit", Severity.WARNING, __name__)
LOW = Rule("DF202", "nofile-low", "nofile ulimit below the profile's", Severity.WARNING, __name__)
RULES = (MISSING, LOW)
MAX_NOFILE = 1048576  # fs.nr_open default; a higher hard limit fails at container start
NOFILE = Option("nofile", count_option(1, MAX_NOFILE), (("prod", 65536), ("dev", 65536)), not_for=("tool",),
                doc="the nofile ulimit, soft and hard (none: DF201 and DF202 off)")
OPTIONS = (NOFILE,)


def adds(ctx: Context) -> bool:
    """Whether the profile's own rules add a ``nofile`` ulimit where there is none (DF201)."""
    return ctx.profile.get(NOFILE) is not None and ctx.wants(MISSING.code)


def check(container: Container, ctx: Context) -> Iterator[Report]:
    want = ctx.profile.get(NOFILE)
    if want is None or not container.supports(NOFILE_KEY):
        return
    current = container.get(NOFILE_KEY)
    if current is None:
        yield report(
            container, MISSING,
            f"no 'nofile' ulimit; the limit then depends on the host's containerd unit (1024 soft on "
            f"current packages) ({ctx.profile.described}: {want}:{want})",
            None, lambda: container.set(NOFILE_KEY, Ulimits(want, want)),
            f"set {container.spelled(NOFILE_KEY)} to soft {want}, hard {want}")
        return
    soft, hard = (current.value.soft, current.value.hard) if current.value is not None else (None, None)
    if soft is None or hard is None:
        return  # interpolated or malformed: nothing we can compare
    if soft >= want and hard >= want:
        return
    new_hard = max(hard, want)
    new_soft = min(max(soft, want), new_hard)
    where = f" ({current.origin})" if current.origin else ""
    yield report(
        container, LOW,
        f"'nofile' ulimit {soft}:{hard}{where} is below {ctx.profile.described}'s {want}; an explicit "
        f"value is a decision, so raising it is a suggestion",
        current.span, lambda: container.set(NOFILE_KEY, Ulimits(new_soft, new_hard), current),
        f"raise {container.spelled(NOFILE_KEY)} to soft {new_soft}, hard {new_hard}", Applicability.UNSAFE)
