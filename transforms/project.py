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
    A Compose service that runs to completion rather than serving, by the strongest signal it
    gives: another service waits for it with ``condition: service_completed_successfully``; its
    command is ``true``/``/bin/true``/``exit 0``. ``restart: always``/``unless-stopped`` or
    published ``ports``/``expose`` say it serves, whatever else it says. Then ``restart: "no"``
    (quoted or not), a ``profiles:`` group named for jobs (``tools``, ``setup``, ``migrate``,
    ``jobs``, ``cli``, ...) and a job's name (``setup``, ``migrate``, ``init``, ``*-init``,
    ``keygen``, ``seed``, ``bootstrap``). On real stacks ``restart: "no"`` is also spelled out on
    web servers and ``profiles: [metrics]`` holds Prometheus and Grafana: those serve. A job's peak
    memory is unknown and a limit that kills it half-way leaves the project half set up, so its
    profile asks for no memory or pids limit (no DF301, DF401 or DF402); a limit already written
    is still checked (DF302, DF303). It keeps its bounded /tmp and ``nofile`` (cheap, and it runs
    as part of the deployed stack), and this note says why it got no limits.

    A ``docker run`` that is neither detached (``-d``) nor restarted (``--restart``), in a build,
    lint, test or release script (by its name or a ``test/``-like directory), a Makefile or a CI
    workflow, runs a tool (a linter over the checkout, ``app --version``, a binfmt installer): it
    deploys nothing, so it gets no runtime setting at all, and no note. A deploy or start script
    (``deploy.sh``, ``start-api.sh``) and any other script keep every rule.
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
    own = object.__new__(Context)
    for slot in Context.__slots__:  # everything else as the file's context has it
        setattr(own, slot, getattr(ctx, slot))
    own.profile = profile
    return own


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
        return  # a tool run in a build or test script: nothing to say, as for a file with nothing to fix
    what = ("no memory or pids limit is added: a job's peak is unknown, and a limit that kills it "
            "half-way leaves the project half set up; set one yourself if you know it")
    yield Report(ONE_OFF.code, f"{container.label}: a one-off job ({why}); {what}",
                 container.span, ONE_OFF.severity, None, container.scope)
