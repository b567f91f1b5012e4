"""image_antipatterns: runtime settings a Dockerfile tries to apply and cannot.

Limits belong to the container, not to the image. Each finding points at the line of the command
in the Dockerfile; when a Compose service builds that Dockerfile, the service gets a finding too,
and the two messages name each other. With ``--unsafe-fixes`` the command is removed (the rest of
an ``&&`` chain stays, so ``CMD echo 67108864 > /sys/fs/cgroup/memory.max && exec app`` becomes
``CMD exec app``) and the service gets the setting the command meant.

DF701 ulimit-in-shell-profile
    ``ulimit`` written to ``/etc/profile``, ``/etc/profile.d/*``, a shell rc file or
    ``/etc/security/limits.conf``: start-up files are read by login shells (profile) or
    interactive shells (rc files, e.g. ``docker exec -it ... bash``) and limits.conf by PAM
    sessions; the container's main process is none of these (exec-form CMD runs no shell; shell
    form is a non-interactive, non-login ``/bin/sh -c``). Set ``ulimits: {nofile: ...}`` on the
    service, or pass ``--ulimit nofile=N:N``.

DF702 tmpfs-in-fstab
    A tmpfs line appended to ``/etc/fstab``: nothing runs ``mount -a`` in a container, the engine
    ignores the image's fstab, and mount(2) needs CAP_SYS_ADMIN, which containers do not have.
    Use ``tmpfs: ["/tmp:size=64m,mode=1777"]`` on the service, or ``--tmpfs``.

DF703 cgroupfs-write (error)
    A write to ``/sys/fs/cgroup`` in RUN, CMD or ENTRYPOINT. cgroupfs is mounted read-only in
    containers (writable only with --privileged), so the redirect fails, ``&&`` stops the chain
    and, in CMD or ENTRYPOINT, the application never starts. Use ``mem_limit`` (``--memory``).

DF704 godebug-madvdontneed
    ``GODEBUG=madvdontneed=1`` in a Dockerfile ENV or a service's environment: it has been the
    default on Linux since Go 1.16, so it does nothing. The fix removes that key and keeps the
    other comma-separated GODEBUG settings.

DF705 env-gomaxprocs
    ``ENV GOMAXPROCS`` in an image built with Go 1.25 or later turns off the runtime's
    container-aware GOMAXPROCS for every container started from it. The fix (unsafe) removes it.

DF706 runtime-limits-not-in-image
    A Dockerfile that no Compose file next to it builds: memory, tmpfs, ulimits and pids limits
    cannot live in an image, so the finding lists what to pass at ``docker run``: the values of
    the profile in use (prod: ``--memory 512m --memory-swap 512m --tmpfs
    /tmp:size=64m,mode=1777 --ulimit nofile=65536:65536 --pids-limit 512``; dev: only the tmpfs
    and nofile), and nothing when it asks for none. GOMEMLIMIT is never baked into an image:
    without a known memory limit there is nothing to compute it from; for a Go image the
    finding shows the value for the profile's limit.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator

from rewriter.edits import Applicability, Fix
from rewriter.model import Container, Report, Severity, Span
from rewriter.record import Record
from rewriter.settings import MEMORY, NOFILE as NOFILE_KEY
from rewriter.settings import Ulimits, env, mount, tmpfs_spec
from rewriter.sizes import ByteSize
from rewriter.yamlpatch import Refusal
from transforms import memory, pids, tmpfs, ulimits
from transforms.base import Context, Rule, report
from transforms.gomem import AUTO_GOMAXPROCS, MALFORMED, RATIO, gomemlimit_value, loose_size

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.project import ImageBuild
    from rewriter.surfaces.dockerfile import DockerfileImage, EnvPair, Instruction, Segment

PROFILE_ULIMIT = Rule("DF701", "ulimit-in-shell-profile", "ulimit in a shell profile has no effect",
                      Severity.WARNING, __name__)
FSTAB_TMPFS = Rule("DF702", "tmpfs-in-fstab", "tmpfs in /etc/fstab is never mounted",
                   Severity.WARNING, __name__)
CGROUP_WRITE = Rule("DF703", "cgroupfs-write", "write to read-only /sys/fs/cgroup", Severity.ERROR,
                    __name__)
MADVDONTNEED = Rule("DF704", "godebug-madvdontneed", "GODEBUG=madvdontneed=1 is the default since Go 1.16",
                    Severity.INFO, __name__)
ENV_GOMAXPROCS = Rule("DF705", "env-gomaxprocs", "ENV GOMAXPROCS turns off Go 1.25's automatic value",
                      Severity.WARNING, __name__)
NOT_IN_IMAGE = Rule("DF706", "runtime-limits-not-in-image", "runtime limits cannot live in an image",
                    Severity.INFO, __name__)
RULES = (PROFILE_ULIMIT, FSTAB_TMPFS, CGROUP_WRITE, MADVDONTNEED)
IMAGE_RULES = (PROFILE_ULIMIT, FSTAB_TMPFS, CGROUP_WRITE, MADVDONTNEED, ENV_GOMAXPROCS, NOT_IN_IMAGE,
               MALFORMED)

# Compiled on first use: a Compose file without a Dockerfile behind it needs none of them, and
# the second pattern of each pair only runs when the first has matched.
_PROFILE_FILES = functools.cache(lambda: re.compile(
    r"(/etc/profile(?:\.d/\S*)?|/etc/bash\.bashrc|/etc/bashrc|/etc/zsh/\S*|"
    r"\.bashrc|\.bash_profile|\.profile|\.zshrc|\.kshrc)\b"))
_LIMITS_CONF = functools.cache(lambda: re.compile(r"/etc/security/limits\.(?:conf|d/\S*)"))
_ULIMIT = functools.cache(lambda: re.compile(r"\bulimit\b"))
# ``ulimit -<letters with an n> N``. Written as ``-[A-Za-z]*n[A-Za-z]*`` the two stars split a
# long run of letters every possible way (a 60 KB ``-nnn...`` line took 19 s); the letters are
# matched once here and the ``n`` looked for in them (see ulimit_nofile).
_ULIMIT_N = functools.cache(lambda: re.compile(r"\bulimit\s+-([A-Za-z]+)\s+(\d+)"))
_LIMITS_NOFILE = functools.cache(lambda: re.compile(r"\bnofile\s+(\d+)"))
_FSTAB = functools.cache(lambda: re.compile(r"/etc/fstab\b"))
_FSTAB_TMP = functools.cache(lambda: re.compile(r"\btmpfs\s+(/\S*)\s+tmpfs\s+(\S+)"))
_CGROUP_MEMORY = functools.cache(lambda: re.compile(
    r"\becho\s+['\"]?(\d+[KkMmGg]?)['\"]?\s*>{1,2}\s*['\"]?/sys/fs/cgroup/(?:\S*/)?memory\.(?:max|limit_in_bytes)\b"))


class Misuse(Record):
    """One ineffective command found in an instruction."""

    __slots__ = ("rule", "ins", "segment", "what", "value")

    def __init__(self, rule: Rule, ins: Instruction, segment: Segment, what: str, value: str) -> None:
        self.rule = rule
        self.ins = ins
        self.segment = segment
        self.what = what  # "nofile", "tmpfs", "memory", "" (nothing to move)
        self.value = value  # the value the command meant ("65536", "size=100m", "64m"), "" if unknown


# -- detection (shared by both surfaces) ------------------------------------------------------------


def misuses(image: DockerfileImage, instructions: tuple[Instruction, ...] | list[Instruction]) -> Iterator[Misuse]:
    for ins in instructions:
        for seg in image.segments(ins):
            found = classify(seg.text)
            if found is not None:
                rule, what, value = found
                yield Misuse(rule, ins, seg, what, value)


def classify(text: str) -> tuple[Rule, str, str] | None:
    if "/sys/fs/cgroup" in text and cgroup_write(text):
        m = _CGROUP_MEMORY().search(text)
        value = ""
        if m:
            raw = m.group(1)
            size = ByteSize(int(raw)) if raw.isdigit() else ByteSize.parse_docker(raw)
            value = size.docker() if size is not None else ""
        return CGROUP_WRITE, "memory" if m else "", value
    if _FSTAB().search(text) and "tmpfs" in text and not text.lstrip().startswith(("cat ", "grep ")):
        m = _FSTAB_TMP().search(text)
        options = m.group(2) if m and m.group(1).rstrip("/") == "/tmp" else ""
        return FSTAB_TMPFS, "tmpfs" if m and m.group(1).rstrip("/") == "/tmp" else "", options
    if _ULIMIT().search(text) and _PROFILE_FILES().search(text):
        nofile = ulimit_nofile(text)
        return PROFILE_ULIMIT, "nofile" if nofile is not None else "", nofile or ""
    if _LIMITS_CONF().search(text) and "nofile" in text:
        m = _LIMITS_NOFILE().search(text)
        return PROFILE_ULIMIT, "nofile", m.group(1) if m else ""
    return None


def ulimit_nofile(text: str) -> str | None:
    """N of the first ``ulimit -<flags with n> N`` in ``text``, or None."""
    for m in _ULIMIT_N().finditer(text):
        if "n" in m.group(1):
            return m.group(2)
    return None


def cgroup_write(text: str) -> bool:
    r"""Whether ``text`` writes to cgroupfs: ``>``, ``>>`` or ``tee [-flags]`` before
    ``/sys/fs/cgroup`` (optionally quoted), the regular expression
    ``(?:>{1,2}|\btee\b(?:\s+-\S+)*)\s*['"]?/sys/fs/cgroup\b`` decided in O(n).

    The expression, searched forwards, follows the whole run of flags after every ``tee`` it
    meets, and flags such as ``-tee -tee ...`` each start a new ``tee``: a 300 KB Dockerfile took
    46 s. Here each ``/sys/fs/cgroup`` looks backwards instead, over the flags before it to a
    ``tee``; a run of flags is walked once, as the answer for its end is remembered.
    """
    answers: dict[int, bool] = {}  # end of a run of flags -> whether a tee stands before it
    at = text.find("/sys/fs/cgroup")
    while at != -1:
        after = at + len("/sys/fs/cgroup")
        if after == len(text) or not _is_word(text[after]):
            # the quote is optional, so also as the last character of a flag ("tee -'/sys/...")
            for end in (at - 1, at) if at and text[at - 1] in "'\"" else (at,):
                while end and text[end - 1].isspace():
                    end -= 1
                if (end and text[end - 1] == ">") or _tee_before(text, end, answers):
                    return True
        at = text.find("/sys/fs/cgroup", at + 1)
    return False


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _tee_before(text: str, end: int, answers: dict[int, bool]) -> bool:
    r"""Whether ``text[:end]`` ends with ``\btee\b(?:\s+-\S+)*``."""
    walked: list[int] = []
    result = False
    while True:
        known = answers.get(end)
        if known is not None:
            result = known
            break
        walked.append(end)
        if text.endswith("tee", 0, end) and (end == 3 or not _is_word(text[end - 4])):
            result = True
            break
        start = end
        while start and not text[start - 1].isspace():
            start -= 1
        if end - start < 2 or text[start] != "-" or not start:
            break
        end = start
        while end and text[end - 1].isspace():
            end -= 1
    for point in walked:
        answers[point] = result
    return result


def madvdontneed_rest(value: str) -> str | None:
    """The GODEBUG value without ``madvdontneed=1``; None when it has no such key."""
    parts = [p.strip() for p in value.split(",")]
    if "madvdontneed=1" not in parts:
        return None
    return ",".join(p for p in parts if p and p != "madvdontneed=1")


_WHY = {
    "DF701": "shell start-up files are read by login or interactive shells and limits.conf by PAM "
             "sessions, never by the container's main process",
    "DF702": "nothing mounts the image's /etc/fstab, and mount needs CAP_SYS_ADMIN, which containers "
             "do not have",
    "DF703": "cgroupfs is read-only in containers, so the write fails and '&&' stops what follows it",
}
_COMPOSE_FORM = {"nofile": "ulimits nofile", "tmpfs": "tmpfs '/tmp'", "memory": "mem_limit"}
_RUN_FORM = {"DF701": "--ulimit nofile=N:N", "DF703": "--memory"}


# -- the Dockerfile surface ---------------------------------------------------------------------


def check_image(image: DockerfileImage, ctx: Context) -> Iterator[Report]:
    from rewriter.project import chain_instructions, standalone_build, user_builds  # lazy: start-up

    users = user_builds(image, ctx.path)
    built = users[0][1] if users else standalone_build(image, ctx.path)
    here = os.path.dirname(os.path.abspath(ctx.path))
    for misuse in misuses(image, image.instructions):
        names = [u for u, b in users if misuse.ins.index in chain_instructions(b)]
        link = ""
        if names:
            services = ", ".join(f"'{u.service}'" for u in names)
            link = f"service{'s' if len(names) > 1 else ''} {services} in {os.path.relpath(names[0].compose_path, here)}"
            if misuse.what and all(misuse.what in u.sets for u in names):
                link = f"={link}"  # they already set it
        yield _image_report(image, misuse, link, ctx)
    from rewriter.detectors.go import of_build  # lazy: start-up

    go = of_build(built) if built is not None else None
    if go is None or not go.is_go or go.version is None or go.version >= (1, 16):
        for ins in image.instructions:
            for pair in image.env_pairs(ins):
                if pair.key == "GODEBUG":
                    yield from _godebug_env(image, ins, pair)
    chain = [] if built is None else [i for n in built.chain for i in built.stages[n].instructions]
    for ins in chain:
        for pair in image.env_pairs(ins):
            if pair.key == "GOMAXPROCS" and go is not None and go.version is not None \
                    and go.version >= AUTO_GOMAXPROCS:
                yield _image_fix_report(
                    image, ins, ENV_GOMAXPROCS, pair.span,
                    f"ENV GOMAXPROCS={pair.value} turns off the container-aware GOMAXPROCS of Go 1.25+ "
                    f"for every container of this image ({go.described()})",
                    lambda i=ins, p=pair: image.remove_env_pair(i, p),
                    "remove ENV GOMAXPROCS", Applicability.UNSAFE)
            if pair.key == "GOMEMLIMIT":
                yield from _gomemlimit_env(image, ins, pair)
    if not users and built is not None:
        yield from _not_in_image(image, built, ctx, go is not None and go.is_go)


def _run_form(misuse: Misuse, ctx: Context) -> str:
    """The ``docker run`` flag that does what the command meant: for a tmpfs, the size the fstab
    line gives, else the profile's, with the profile's mode."""
    if misuse.rule is not FSTAB_TMPFS:
        return _RUN_FORM[misuse.rule.code]
    written = dict(_options(misuse.value)).get("size") if misuse.value else None
    size = ByteSize.parse_docker(written) if written else None
    size = size if size is not None else ctx.profile.get(tmpfs.SIZE)
    return f"--tmpfs /tmp:size={size.docker() if size is not None else 'N'},mode={ctx.profile.get(tmpfs.MODE):o}"


def _image_report(image: DockerfileImage, misuse: Misuse, link: str, ctx: Context) -> Report:
    rule = misuse.rule
    code = rule.code
    command = _short(misuse.segment.text)
    if link.startswith("="):
        where = f"{link[1:]} already set{'s' if ', ' not in link else ''} {_COMPOSE_FORM[misuse.what]}; remove the command"
    elif link:
        where = f"set {_COMPOSE_FORM.get(misuse.what, 'the limit')} on {link} instead"
    else:
        where = f"pass {_run_form(misuse, ctx)} at docker run instead"
    message = f"'{command}' has no effect: {_WHY[code]}; {where}"
    if code == "DF703" and misuse.ins.cmd in ("CMD", "ENTRYPOINT"):
        message = (f"'{command}' keeps the application from starting: cgroupfs is read-only in containers, "
                   f"the write fails and '&&' skips the rest of the command; {where}")
    return _image_fix_report(image, misuse.ins, rule, misuse.segment.span, message,
                             lambda: image.remove_segment(misuse.ins, misuse.segment),
                             f"remove '{command}'", Applicability.UNSAFE)


def _image_fix_report(image: DockerfileImage, ins: Instruction, rule: Rule, span: Span, message: str,
                      make_fix: object, fix_message: str, applicability: Applicability) -> Report:
    fix: Fix | None = None
    if make_fix is not None:
        assert callable(make_fix)
        try:
            made = make_fix()
            assert isinstance(made, Fix)
            fix = made.described(fix_message, applicability)
        except Refusal as why:
            message = f"{message} [no automatic fix: {why}]"
    return Report(rule.code, message, span, rule.severity, fix, ins.scope)


def _godebug_env(image: DockerfileImage, ins: Instruction, pair: EnvPair) -> Iterator[Report]:
    from rewriter.surfaces.dockerfile import format_env_value, unquote_env_value  # lazy: start-up

    rest = madvdontneed_rest(unquote_env_value(pair.value))
    if rest is None:
        return
    if rest:
        new = format_env_value(pair.value, rest)
        make = (lambda: image.set_env_value(ins, pair, new))
        how = f"keep GODEBUG={rest}"
    else:
        make = (lambda: image.remove_env_pair(ins, pair))
        how = "remove GODEBUG"
    yield _image_fix_report(
        image, ins, MADVDONTNEED, pair.span,
        "GODEBUG madvdontneed=1 does nothing: it has been the default on Linux since Go 1.16",
        make, how, Applicability.SAFE)


def _gomemlimit_env(image: DockerfileImage, ins: Instruction, pair: EnvPair) -> Iterator[Report]:
    from rewriter.surfaces.dockerfile import format_env_value, unquote_env_value  # lazy: start-up

    raw = unquote_env_value(pair.value)
    if raw == "off" or ByteSize.parse_gomemlimit(raw) is not None:
        return
    meant = loose_size(raw)
    if meant is None or meant.bytes < 1024 * 1024:
        yield _image_fix_report(
            image, ins, MALFORMED, pair.span,
            f"ENV GOMEMLIMIT={pair.value} is not a valid GOMEMLIMIT; the Go runtime throws at start, "
            f"so no container of this image runs", None, "", Applicability.DISPLAY_ONLY)
        return
    fixed = ByteSize.mib(meant.bytes // (1024 * 1024)).gomemlimit()
    new = format_env_value(pair.value, fixed)
    yield _image_fix_report(
        image, ins, MALFORMED, pair.span,
        f"ENV GOMEMLIMIT={pair.value} is not a valid GOMEMLIMIT; the Go runtime accepts only bytes or "
        f"KiB/MiB/GiB/TiB and throws at start, so no container of this image runs (the same amount: "
        f"{fixed})", lambda: image.set_env_value(ins, pair, new), f"set GOMEMLIMIT={fixed}",
        Applicability.SAFE)


def run_flags(ctx: Context, go: bool) -> list[str]:
    """The ``docker run`` flags the active profile asks for (DF706's advice): its memory limit
    and swap, its /tmp tmpfs (capped at a quarter of the limit, as DF101 caps it), nofile, pids
    and, for Go, the GOMEMLIMIT computed from them. Empty when the profile asks for none."""
    profile = ctx.profile
    flags = []
    limit = profile.get(memory.MEM_LIMIT)
    if limit is not None:
        swap = f" --memory-swap {limit.docker()}" if profile.get(memory.SWAP_OFF) else ""
        flags.append(f"--memory {limit.docker()}{swap}")
    size = profile.get(tmpfs.SIZE)
    tmp = tmpfs.capped(size, limit) if size is not None else None
    if tmp is not None:
        flags.append(f"--tmpfs /tmp:size={tmp.docker()},mode={profile.get(tmpfs.MODE):o}")
    nofile = profile.get(ulimits.NOFILE)
    if nofile is not None:
        flags.append(f"--ulimit nofile={nofile}:{nofile}")
    pids_limit = profile.get(pids.PIDS_LIMIT)
    if pids_limit is not None:
        flags.append(f"--pids-limit {pids_limit}")
    ratio = profile.get(RATIO)
    example = gomemlimit_value(limit, tmp or ByteSize(0), ratio) if go and limit is not None else None
    if example is not None:
        formula = "(memory - tmpfs)" if tmp is not None else "memory"
        flags.append(f"-e GOMEMLIMIT={example.gomemlimit()} ({ratio:g} x {formula}, in MiB)")
    return flags


def _not_in_image(image: DockerfileImage, built: ImageBuild, ctx: Context, go: bool) -> Iterator[Report]:
    stage = built.stages[built.final]
    ins = stage.instructions[0]
    flags = run_flags(ctx, go)
    if not flags:
        return  # the profile asks for no runtime limit: nothing to pass
    message = (f"no Compose file here builds this Dockerfile, and memory, tmpfs, "
               f"ulimits and pids limits cannot live in an image; pass them at run time, e.g. "
               f"docker run {' '.join(flags)}")
    yield Report(NOT_IN_IMAGE.code, message, ins.span, NOT_IN_IMAGE.severity, None, ins.scope)


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


# -- the Compose surface ------------------------------------------------------------------------


def check(container: Container, ctx: Context) -> Iterator[Report]:
    yield from _godebug_compose(container, ctx)
    built = ctx.image_build(container)
    if built is None or not built.path:
        return
    chain = [i for n in built.chain for i in built.stages[n].instructions]
    for misuse in misuses(built.image, chain):
        yield from _compose_link(container, ctx, built, misuse)


GODEBUG = env("GODEBUG")


def _godebug_compose(container: Container, ctx: Context) -> Iterator[Report]:
    current = container.get(GODEBUG)
    if current is None or current.value is None:
        return
    go = ctx.go_info(container)
    if go.is_go and go.version is not None and go.version < (1, 16):
        return
    rest = madvdontneed_rest(str(current.value))
    if rest is None:
        return
    if rest:
        make = (lambda: container.set(GODEBUG, rest))
        how = f"keep GODEBUG={rest}"
    else:
        make = (lambda: container.set(GODEBUG, None))
        how = "remove GODEBUG"
    yield report(container, MADVDONTNEED,
                 f"{current.described()}: madvdontneed=1 does nothing, it has been the default on Linux "
                 f"since Go 1.16", current.span, make, how)


def profile_covers(what: str, container: Container, ctx: Context) -> bool:
    """Whether the profile's own rules add this setting, so the Dockerfile's intent is not lost
    (each concern answers for itself)."""
    if what == "nofile":
        return ulimits.adds(ctx)
    if what == "tmpfs":
        return tmpfs.adds(ctx)
    if what == "memory":
        return memory.adds(ctx)
    return True


def moved_tmpfs_size(container: Container, ctx: Context) -> ByteSize | None:
    """The /tmp tmpfs size an unsafe fix moves from the Dockerfile to this service, if any."""
    built = ctx.image_build(container)
    if built is None or not built.path or profile_covers("tmpfs", container, ctx):
        return None
    chain = [i for n in built.chain for i in built.stages[n].instructions]
    for misuse in misuses(built.image, chain):
        if misuse.what == "tmpfs":
            size = dict(_options(misuse.value)).get("size")
            return ByteSize.parse_docker(size) if size is not None else None
    return None


def _compose_link(container: Container, ctx: Context, built: ImageBuild, misuse: Misuse) -> Iterator[Report]:
    """The service side of a Dockerfile misuse, reported only when the profile does not add the
    setting itself (else the profile's own rule carries the intent)."""
    line = built.image.line_of(misuse.segment.span.start)
    command = _short(misuse.segment.text)
    origin = f"{built.display} line {line}"
    rule = misuse.rule
    profile = ctx.profile
    if profile_covers(misuse.what, container, ctx):
        return
    if misuse.what == "nofile":
        if container.get(NOFILE_KEY) is not None or not misuse.value.isdigit():
            return
        n = min(int(misuse.value), 1048576)
        wanted = f"ulimits nofile {n}"
        make = (lambda: container.set(NOFILE_KEY, Ulimits(n, n)))
    elif misuse.what == "tmpfs":
        if container.find(tmpfs.TMP) or bool(container.find(mount("/tmp"))):
            return
        size = dict(_options(misuse.value)).get("size")
        if size is None or ByteSize.parse_docker(size) is None:
            return
        # the size as the Dockerfile wrote it (the evidence), the profile's mode
        spec = tmpfs_spec("/tmp", (("size", size), ("mode", f"{profile.get(tmpfs.MODE):o}")), ByteSize.parse_docker)
        wanted = f"tmpfs '/tmp:{container.formatted(tmpfs.TMP, spec)}'"
        make = (lambda: container.set(tmpfs.TMP, spec))
    elif misuse.what == "memory":
        limit = ByteSize.parse_docker(misuse.value) if misuse.value else None
        if container.find(MEMORY) or limit is None:
            return
        wanted = f"{container.spelled(MEMORY)} '{container.formatted(MEMORY, limit)}'"
        make = (lambda: container.set(MEMORY, limit))
    else:
        return
    yield report(container, rule,
                 f"{origin} tries '{command}', which has no effect ({_WHY[rule.code]}); set {wanted} "
                 f"here, where the engine applies it", None, make, f"add {wanted}", Applicability.UNSAFE)


def _options(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(","):
        key, _, value = part.partition("=")
        out.append((key.strip(), value.strip()))
    return out
