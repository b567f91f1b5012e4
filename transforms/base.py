"""What every transform shares: rule metadata and the context a transform runs in."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from rewriter.edits import Applicability, Fix
from rewriter.model import BuildSpec, Container, Report, Severity, Span
from rewriter.profiles import Profile, ServiceConfig
from rewriter.record import Record
from rewriter.settings import env as every_env
from rewriter.yamlpatch import Refusal

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

    from rewriter.detectors import WorkloadFacts
    from rewriter.golang import GoFacts
    from rewriter.project import ImageBuild


class Rule(Record):
    __slots__ = ("code", "name", "summary", "severity", "module")

    def __init__(self, code: str, name: str, summary: str, severity: Severity, module: str) -> None:
        self.code = code
        self.name = name
        self.summary = summary
        self.severity = severity
        self.module = module  # the transform module whose docstring is the rule's documentation


def _everything(code: str) -> bool:
    return True


class Context:
    """What a transform knows beyond the container: the profile, the file, the project."""

    __slots__ = ("profile", "path", "kind", "services", "wants", "unsafe_fixes", "containers", "_builds",
                 "_workloads", "_linked", "_builders", "_memo", "_around")

    def __init__(self, profile: Profile, path: str = "", kind: str = "", services: tuple[ServiceConfig, ...] = (),
                 wants: Callable[[str], bool] = _everything, unsafe_fixes: bool = False,
                 containers: tuple[Container, ...] = ()) -> None:
        self.profile = profile
        self.path = path  # the file being checked
        self.kind = kind  # its kind ("compose", "dockerfile", ...)
        self.services = services  # [tool.dockfix.services.NAME]
        self.wants = wants  # whether a rule code is selected
        self.unsafe_fixes = unsafe_fixes  # whether unsafe fixes will be applied (they change what comes next)
        self.containers = containers  # every container of the file (an image another one builds)
        self._builds: dict[str, ImageBuild | None] = {}
        self._workloads: dict[str, WorkloadFacts] = {}
        self._linked: dict[str, tuple[ImageBuild, str] | None] = {}
        self._builders: tuple[tuple[Container, str, BuildSpec], ...] | None = None
        self._memo: dict[tuple[str, str], object] = {}
        self._around: tuple[tuple[str, str | None, BuildSpec | None], ...] | None = None

    def memo(self, what: str, container: Container, compute: Callable[[], T]) -> T:
        """``compute()``, once per container and ``what`` (the planned memory limit, the planned
        state): the concerns that read it share one answer. A one-off job's own context
        (transforms/project.py) shares this table, which is keyed by the container."""
        key = (what, container.scope)
        if key in self._memo:
            return self._memo[key]  # type: ignore[return-value]  # stored by this method
        found = compute()
        self._memo[key] = found
        return found

    def around(self) -> tuple[tuple[str, str | None, BuildSpec | None], ...]:
        """The image builds of the Compose and skaffold files around a Kubernetes manifest, once
        per file (rewriter/kubernetes_project.py)."""
        if self._around is None:
            from rewriter.kubernetes_project import builders  # lazy: start-up

            self._around = builders(self.path)
        return self._around

    @property
    def directory(self) -> str:
        """The directory of the file being checked: relative paths in it resolve here."""
        import os  # lazy: start-up

        return os.path.dirname(os.path.abspath(self.path)) if self.path else ""

    def service_config(self, container: Container) -> ServiceConfig | None:
        for config in self.services:
            if config.name == container.name:
                return config
        return None

    def image_build(self, container: Container) -> ImageBuild | None:
        """The Dockerfile, stages and Go facts of a container built from a Dockerfile."""
        if container.scope in self._builds:
            return self._builds[container.scope]
        built: ImageBuild | None = None
        spec = container.build()
        if spec is not None:
            from rewriter.project import resolve_build  # lazy: start-up

            built = resolve_build(self.path, spec)
        self._builds[container.scope] = built
        return built

    def linked_build(self, container: Container) -> tuple[ImageBuild, str] | None:
        """The image's build and how the repository says so: the service's own ``build:``, else an
        image the repository builds (another service, a Dockerfile named after it, a script's
        ``docker build -t``; see rewriter/detectors/image.py)."""
        if container.scope in self._linked:
            return self._linked[container.scope]
        found: tuple[ImageBuild, str] | None = None
        if container.build() is not None:
            built = self.image_build(container)
            found = (built, "its build") if built is not None else None
        else:
            image = container.image()
            if image and self.kind in ("compose", "compose-override", "kubernetes"):
                from rewriter.detectors import may_link  # lazy: start-up

                if self._builders is None:  # once per file: a file of 36,000 services stays linear
                    self._builders = tuple((c, c.image() or "", spec) for c in self.containers
                                           if (spec := c.build()) is not None and c.image())
                siblings: tuple[tuple[str, str | None, BuildSpec | None], ...] = tuple(
                    (c.label, other, spec) for c, other, spec in self._builders if c is not container)
                if self.kind == "kubernetes":  # the builds of the Compose and skaffold files around it
                    from rewriter.kubernetes_project import unqualified  # lazy: start-up

                    siblings += self.around()
                    image = unqualified(image, siblings)
                if may_link(image, siblings):
                    from rewriter.detectors.image import link_image  # lazy: start-up

                    found = link_image(self.path, image, siblings)
        self._linked[container.scope] = found
        return found

    def workload(self, container: Container) -> WorkloadFacts:
        """What runs in the container (JVM, Node, a database...), from rewriter/detectors."""
        known = self._workloads.get(container.scope)
        if known is not None:
            return known
        from rewriter.detectors import Inputs, detect  # lazy: start-up

        bases: tuple[tuple[str, str], ...] = ()
        image_env: list[tuple[str, str, str]] = []
        linked = self.linked_build(container)
        if linked is not None:
            built = linked[0]
            chain = [built.stages[n] for n in reversed(built.chain)]
            bases = tuple((s.resolved, f"{built.display}:{s.line}") for s in chain if s.parent is None)
            for stage in chain:
                for ins in stage.instructions:
                    if ins.cmd == "ENV":
                        words = list(ins.value)
                        for key, value in zip(words[::2], words[1::2]):
                            image_env.append((key, _unquote(value), f"{built.display}:{ins.start_line}"))
        env = {found.key.name: found.value for found in container.find(every_env())}
        facts = detect(Inputs(container.image(), env, container.command(), bases, tuple(image_env),
                              _env_file_vars(container, self.path)))
        self._workloads[container.scope] = facts
        return facts

    def go_info(self, container: Container) -> GoFacts:
        """Whether the container runs Go and which version (rewriter/detectors/go.py: its build,
        else its image, then the config), once per container. A Kubernetes container's image may
        be built elsewhere in the repository (a Compose service, skaffold) or by ko."""
        return self.memo("go", container, lambda: self._go(container))

    def _go(self, container: Container) -> GoFacts:
        from rewriter.detectors import detect_go  # lazy: start-up

        built = self.image_build(container)
        if built is None and self.kind == "kubernetes":  # the build of its image, elsewhere in the repository
            linked = self.linked_build(container)
            built = linked[0] if linked is not None else None
        config = self.service_config(container)
        facts = detect_go(container.image(), built, config)
        if not facts.is_go and self.kind == "kubernetes" and (config is None or config.go is not False):
            ko = self._ko(container)
            if ko is not None and config is not None and config.go_version is not None:
                ko = ko.replace(version=config.go_version, version_source="go-version in the config")
            facts = ko or facts
        return facts

    def _ko(self, container: Container) -> GoFacts | None:
        """A Kubernetes container whose image ko builds (``ko://``, a skaffold ko artifact): Go."""
        from rewriter.detectors.go import go_mod_version  # lazy: start-up
        from rewriter.golang import GoFacts  # lazy: start-up
        from rewriter.kubernetes_project import ko_built, ko_go_mod  # lazy: start-up

        image = container.image() or ""
        why = ko_built(self.path, image, self.around()) if image else ""
        if not why:
            return None
        mod = ko_go_mod(self.path, image)
        version = go_mod_version(mod[1]) if mod is not None else None
        if mod is None or version is None:
            return GoFacts(True, why)
        return GoFacts(True, why, version[0], f"'go {version[0][0]}.{version[0][1]}' in {mod[0]} line {version[1]}")


if TYPE_CHECKING:
    Check = Callable[[Container, Context], Iterator[Report]]
    ImageCheck = Callable[[Any, Context], Iterator[Report]]  # takes a surface's image (DockerfileImage)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


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


def _env_file_vars(container: Container, checked: str = "") -> tuple[tuple[str, str, str], ...]:
    """The variables of a Compose service's ``env_file`` files, as (name, value, "env_file
    PATH"): a heap flag in ``app.env`` is evidence as much as one in ``environment``. Read like
    ``.env`` (the project's size cap, no links) inside the repository of the ``checked`` file:
    the root of the env file itself would be wherever ``../../home/u/x.env`` points, so that file
    would be read and its values printed as evidence. A missing file gives nothing (Compose would
    refuse it, unless ``required: false``). PATH is the file Compose reads, relative to the
    ``checked`` file's directory: an extended file's ``app.env`` is ``base/app.env`` there."""
    files = container.env_files()
    if not files:
        return ()
    import os  # lazy: start-up

    from rewriter import safefs  # lazy: start-up
    from rewriter.interpolation import parse_dotenv, read_text  # lazy: start-up

    here = os.path.dirname(os.path.abspath(checked)) if checked not in ("", "-") else ""
    root = safefs.root_for(here or os.getcwd())
    out: list[tuple[str, str, str]] = []
    for shown, path in files:
        if here:
            shown = os.path.relpath(path, here).replace(os.sep, "/")
        text = read_text(path, root)
        if text is not None:
            out.extend((name, value, f"env_file {shown}") for name, value in parse_dotenv(text).items())
    return tuple(out)
