"""project: what the Compose project and the kind of container decide before any rule runs.

DF901 overlay-without-base
    A service in a Compose overlay (``compose.ci.yaml`` with ``app: {environment: ...}``, no
    ``image`` and no ``build``) whose base file dockfix could not find. Compose refuses such a file
    on its own; it only means something merged onto its base, where the settings take effect.
    Nothing is added to it (a value there would override the base's); name the chain in the
    config so the two are read together::

        [tool.dockfix]
        compose-files = [["compose.yaml", "compose.ci.yaml"]]

    Also reported when another file of the project cannot be parsed: what the service merges is
    then unknown.

DF902 one-off-job
    A container that runs to completion rather than serving: a Compose service with
    ``restart: "no"`` whose name says it is a job (``setup``, ``migrate``, ``init``, ``*-init``,
    ``keygen``, ...), one another service waits for with
    ``condition: service_completed_successfully``, one in a non-default ``profiles:`` group, or
    whose command is ``true``/``/bin/true``/``exit 0``; in a script, a ``docker run`` that is not
    detached (``-d``) and has no ``--restart``, with ``--rm`` or in a build, lint, test, CI or
    release script. A job's peak memory is unknown and a limit that kills it half-way leaves the
    project half set up, so no memory or pids limit is added (DF301, DF401 and DF402 are not
    reported for it); an existing limit is still checked. A Compose job keeps its bounded /tmp and
    ``nofile`` (cheap, and it runs as part of the deployed stack); a one-shot ``docker run`` in a
    build or test script gets nothing at all: it is a tool run, not a deployment.
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.model import Container, Report, Severity
from transforms.base import Context, Rule

ORPHAN = Rule("DF901", "overlay-without-base", "overlay service whose base file was not found",
              Severity.INFO, __name__)
ONE_OFF = Rule("DF902", "one-off-job", "one-off job: no memory or pids limit added", Severity.INFO, __name__)
RULES = (ORPHAN, ONE_OFF)

def one_off(container: Container) -> tuple[str, bool]:
    """(why the container is a one-off job, whether it is a tool run that gets nothing); ('', False)
    for a long-running container."""
    probe = getattr(container, "one_off", None)
    if probe is None:
        return "", False
    found = probe()
    assert isinstance(found, tuple)
    return found


def context_for(container: Container, ctx: Context) -> Context:
    """The context the rules see for ``container``: a one-off job's profile asks for no memory or
    pids limit, a tool run's for nothing at all."""
    why, tool_run = one_off(container)
    if not why:
        return ctx
    profile = ctx.profile.replace(mem_limit=None, pids_limit=None)
    if tool_run:
        profile = profile.replace(tmpfs_size=None, nofile=None, config_mounts=())
    return Context(profile=profile, path=ctx.path, kind=ctx.kind, services=ctx.services, wants=ctx.wants,
                   unsafe_fixes=ctx.unsafe_fixes)


def keeps(container: Container, code: str) -> bool:
    """Whether a finding with ``code`` about ``container`` is reported in the file being checked:
    a project's service reports each rule family in the file where it takes effect."""
    if code.startswith("DF9"):
        return True
    here = getattr(container, "reports_here", None)
    return here is None or bool(here(code))


def check(container: Container, ctx: Context) -> Iterator[Report]:
    orphan = getattr(container, "orphan", "")
    if orphan:
        yield Report(ORPHAN.code, f"{container.label}: {orphan}; nothing is added here, because a value "
                                  f"in an overlay overrides the base's",
                     container.span, ORPHAN.severity, None, container.scope)
        return
    why, tool_run = one_off(container)
    if not why:
        return
    if tool_run:
        what = "no runtime setting is added: a tool run in a build or test script is not a deployment"
    else:
        what = ("no memory or pids limit is added: a job's peak is unknown, and a limit that kills it "
                "half-way leaves the project half set up; set one yourself if you know it")
    yield Report(ONE_OFF.code, f"{container.label}: a one-off job ({why}); {what}",
                 container.span, ONE_OFF.severity, None, container.scope)
