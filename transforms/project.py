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
    ``keygen``, ``seed``, ``bootstrap``). A Kubernetes Job's or CronJob's containers are one-off jobs
    too. On real stacks ``restart: "no"`` is also spelled out on
    web servers and ``profiles: [metrics]`` holds Prometheus and Grafana: those serve. A job's peak
    memory is unknown and a limit that kills it half-way leaves the project half set up, so its
    profile asks for no memory or pids limit (no DF301, DF401 or DF402); a limit already written
    is still checked (DF302, DF303). It keeps its bounded /tmp and ``nofile`` (cheap, and it runs
    as part of the deployed stack), and this note says why it got no limits.

    A ``docker run`` that is neither detached (``-d``) nor restarted (``--restart``), in a build,
    lint, test or release script (by its name or a ``test/``-like directory), a Makefile or a CI
    workflow, runs a tool (a linter over the checkout, ``app --version``, a binfmt installer): it
    deploys nothing, so it gets no runtime setting at all, and no note. A deploy or start script
    (``deploy.sh``, ``start-api.sh``) and any other script keep every rule of their file's role: a
    detached container in a test or CI script (``test/``, ``.github/``, ``test.sh``) gets the
    ``dev`` profile, as a test's Compose file does (:mod:`rewriter.roles`).
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.model import Container, Report, Severity
from rewriter.runfacts import CommandRun, ServiceRun, WorkloadRun
from transforms.base import Context, Rule
from transforms.options import OPTIONS

ORPHAN = Rule("DF901", "overlay-without-base", "overlay service whose base file was not found",
              Severity.INFO, __name__)
ONE_OFF = Rule("DF902", "one-off-job", "one-off job: no memory or pids limit added", Severity.INFO, __name__)
RULES = (ORPHAN, ONE_OFF)

JOB_NAME_WORDS = ("setup", "migrate", "migration", "migrations", "init", "keygen", "bootstrap", "seed",
                  "provision", "createbuckets", "create-buckets", "certs", "certgen")
TRUE_COMMANDS = ("true", "/bin/true", "/usr/bin/true", "exit 0", "echo done")
JOB_KINDS = ("Job", "CronJob")  # Kubernetes workloads whose pods run to completion
JOB_PROFILES = ("tools", "tool", "setup", "init", "migrate", "migration", "migrations", "jobs", "job", "cli",
                "seed", "bootstrap", "admin", "maintenance", "backup", "manual", "once", "oneshot")


def one_off(container: Container, path: str) -> tuple[str, bool]:
    """(why the container is a one-off job, whether it is a tool run that gets nothing); ('', False)
    for a long-running container. ``path`` is the file the container is in. The surfaces give the
    facts (:mod:`rewriter.runfacts`); the decision is made here."""
    facts = container.run_facts()
    if isinstance(facts, ServiceRun):
        return job_reason(facts), False
    if isinstance(facts, WorkloadRun):
        return (f"it runs in a {facts.kind}, whose pods run to completion" if facts.kind in JOB_KINDS else ""), False
    if isinstance(facts, CommandRun):
        why = tool_run(facts, path)
        return why, bool(why)
    return "", False


def job_reason(facts: ServiceRun) -> str:
    """Why a Compose service runs to completion instead of serving, or ''.

    Signals, from the strongest: another service waits for it with ``condition:
    service_completed_successfully``; its command is ``true``/``exit 0``. ``restart:
    always``/``unless-stopped`` or published ``ports``/``expose`` say it serves, whatever else it
    says. Then ``restart: "no"``, a ``profiles:`` group named for jobs (``tools``, ``setup``,
    ``migrate``, ...) and a job's name (``migrate``, ``*-init``, ``setup``, ``keygen``). Measured on
    real stacks: ``restart: "no"`` is also written on web servers (Compose's default, spelled out),
    and ``profiles: [metrics]`` holds Prometheus and Grafana, so neither counts for a service that
    publishes ports, and only job-named profile groups count."""
    if facts.awaited:
        return "another service waits for it with 'condition: service_completed_successfully'"
    if facts.command is not None and facts.command.strip() in TRUE_COMMANDS:
        return f"its command is '{facts.command.strip()}'"
    policy = facts.restart.strip().lower() if facts.restart is not None else ""
    if policy in ("always", "unless-stopped") or facts.publishes:
        return ""
    if facts.restart is not None and policy == "no":
        return "restart: \"no\", and it publishes no ports"
    if any(g.lower() in JOB_PROFILES for g in facts.profiles):
        return f"it runs only with 'profiles: [{', '.join(facts.profiles)}]'"
    name = facts.name
    lowered = name.lower()
    words = lowered.replace("_", "-").split("-")
    for word in JOB_NAME_WORDS:
        if word in words or lowered == word:
            return f"its name '{name}' says so"
    return ""


def tool_run(facts: CommandRun, path: str) -> str:
    """Why a ``docker run`` runs a tool to completion rather than a service ('' when it may
    serve): neither detached (``-d``) nor restarted (``--restart``), in a build, lint, test, CI or
    release script (:func:`rewriter.roles.script_role`) or a CI workflow; and in any script when
    the script reads its output (``v=$(docker run --rm img app --version)``: it must end for the
    script to go on) or it is an interactive session (``-it``: it ends when the user leaves). A
    detached container keeps every rule (issue 12: ``-d`` and ``--restart`` are what long-running
    means). A ``docker create`` is started later, maybe for good; a command whose flags cannot be
    read is not classified."""
    if not facts.known or facts.verb != "run":
        return ""
    if facts.detach is not None and facts.detach.lower() not in ("false", "0"):
        return ""
    if facts.restart is not None and facts.restart not in ("", "no"):
        return ""
    if facts.captured:
        return "not detached, and the script reads its output"
    if facts.interactive:
        return "an interactive session (-it), not detached"
    from rewriter.roles import script_role  # lazy: start-up

    role, why = script_role(path)
    if role == "" and facts.flavour == "workflow":
        role, why = "tool", "a CI workflow"
    if role != "tool":
        return ""
    return f"not detached and without --restart, in {why}"


def context_for(container: Container, ctx: Context) -> Context:
    """The context the rules see for ``container``: a one-off job's profile asks for no memory or
    pids limit, a tool run's for nothing at all."""
    why, tool = one_off(container, ctx.path)
    if not why:
        return ctx
    # each concern declares which kinds of container it asks nothing of (Option.not_for)
    profile = ctx.profile.for_kind("tool" if tool else "job", OPTIONS)
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
    return container.reports_here(code)


def check(container: Container, ctx: Context) -> Iterator[Report]:
    orphan = container.orphan
    if orphan:
        yield Report(ORPHAN.code, f"{container.label}: {orphan}; nothing is added here, because a value "
                                  f"in an overlay overrides the base's",
                     container.span, ORPHAN.severity, None, container.scope)
        return
    why, tool = one_off(container, ctx.path)
    if not why:
        return
    if tool:
        return  # a tool run in a build or test script: nothing to say, as for a file with nothing to fix
    what = ("no memory or pids limit is added: a job's peak is unknown, and a limit that kills it "
            "half-way leaves the project half set up; set one yourself if you know it")
    yield Report(ONE_OFF.code, f"{container.label}: a one-off job ({why}); {what}",
                 container.span, ONE_OFF.severity, None, container.scope)
