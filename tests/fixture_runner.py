"""The one fixture harness for every surface.

A case is ``fixtures/<surface>/<case>/input.<ext>`` plus whatever the project model reads beside it
(a Dockerfile, go.mod, a dockfix.toml with ``[services.NAME]``). ``expected.<profile>.<ext>`` is
the output of the safe fixes and ``expected.<profile>.unsafe.<ext>`` the output with
``--unsafe-fixes`` where that differs; a mode without an expected file must leave the input
unchanged. Profiles ``prod`` and ``dev`` run for every case, any other profile where a case has
an expected file for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rewriter.engine import FileOutcome, Options, process
from rewriter.profiles import Profile, ServiceConfig
from transforms import resolve_profile
from rewriter.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
SURFACES = {"compose": "compose", "go": None, "dockerfile": "dockerfile", "shell": "shell", "python": "python",
            "kubernetes": "kubernetes"}
BY_EXTENSION = {".yaml": "compose", ".Dockerfile": "dockerfile"}
PROFILES = ("prod", "dev")


@dataclass(frozen=True)
class Case:
    directory: Path
    input: Path
    kind: str
    ext: str

    @property
    def id(self) -> str:
        return f"{self.directory.parent.name}/{self.directory.name}"

    def expected(self, profile: str, unsafe: bool) -> Path:
        mode = ".unsafe" if unsafe else ""
        return self.directory / f"expected.{profile}{mode}{self.ext}"

    def expected_for(self, profile: str, unsafe: bool) -> Path:
        """The file the output must equal: unsafe, then safe expected output, else the input."""
        candidates = [self.expected(profile, True)] if unsafe else []
        candidates.append(self.expected(profile, False))
        for candidate in candidates:
            if candidate.exists():
                return candidate
        return self.input

    def profiles(self) -> tuple[str, ...]:
        extra = sorted({p.name.split(".")[1] for p in self.directory.glob("expected.*")} - set(PROFILES))
        return PROFILES + tuple(extra)


def tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (relative path -> bytes), leaving out ``.git`` and a cache
    directory: what a project test compares before and after a run."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.parts and ".dockfix_cache" not in p.parts}


def cases(*surfaces: str) -> list[Case]:
    out = []
    for surface in surfaces or tuple(SURFACES):
        base = ROOT / surface
        if not base.is_dir():
            continue
        for directory in sorted(p for p in base.iterdir() if p.is_dir() and p.name not in ("real", "kustomize")):  # their own tests
            found = sorted(directory.glob("input.*"))
            assert len(found) == 1, f"{directory}: exactly one input.* expected"
            ext = "".join(found[0].suffixes) if not found[0].name.endswith(".Dockerfile") else ".Dockerfile"
            kind = SURFACES[surface] or BY_EXTENSION[ext]
            out.append(Case(directory, found[0], kind, ext))
    return out


def modes(case: Case) -> list[tuple[str, bool]]:
    return [(p, u) for p in case.profiles() for u in (False, True)]


def services_config(directory: Path) -> tuple[ServiceConfig, ...]:
    config = directory / "dockfix.toml"
    if not config.is_file():
        return ()
    from transforms import parse_config

    parsed = parse_config(str(config), config.read_text(encoding="utf-8"))
    return parsed.services if parsed is not None else ()


def run(path: Path, kind: str, profile: str | Profile, unsafe: bool, data: bytes | None = None,
        fix: bool = True) -> FileOutcome:
    raw = path.read_bytes() if data is None else data
    src = SourceFile.from_bytes(str(path), raw)
    chosen = resolve_profile(profile, {}) if isinstance(profile, str) else profile
    options = Options(profile=chosen, unsafe_fixes=unsafe, services=services_config(path.parent))
    return process(kind, src, options, fix=fix)


def fixed_bytes(path: Path, kind: str, profile: str | Profile, unsafe: bool, data: bytes | None = None) -> bytes:
    outcome = run(path, kind, profile, unsafe, data)
    src = outcome.src
    text = outcome.new_text if outcome.new_text is not None else src.text
    return src.with_text(text).to_bytes()


def syntax_error(kind: str, path: Path, data: bytes) -> str:
    """'' when ``data`` is still valid for its kind: YAML parses, BuildKit parses the
    Dockerfile, every script region passes ``bash -n``, Python compiles."""
    text = data.decode("utf-8")
    if kind == "python":
        try:
            compile(text, str(path), "exec")
        except SyntaxError as err:
            return str(err)
        return ""
    if kind == "compose":
        from rewriter.errors import ParseError
        from rewriter.yamlview import parse_yaml

        try:
            parse_yaml(SourceFile.from_text(str(path), text))
        except ParseError as err:
            return err.message
        return ""
    if kind == "kubernetes":
        return kubernetes_error(text)
    if kind == "dockerfile":
        import dockerfile

        try:
            dockerfile.parse_string(text.lstrip("\ufeff"))
        except dockerfile.GoParseError as err:
            return str(err)
        return ""
    if kind == "shell" and shutil.which("bash") is not None:
        from rewriter.surfaces.shell_regions import regions_of

        for region in regions_of(SourceFile.from_text(str(path), text)):
            result = subprocess.run(["bash", "-n"], input=region.text.encode(), capture_output=True)
            if result.returncode != 0:
                return result.stderr.decode()
    return ""


KUBERNETES_VERSION = "1.34"  # a schema version kubernetes-validate ships (offline)


def kubernetes_error(text: str) -> str:
    """'' when every document of a manifest validates against the Kubernetes schemas (strict:
    unknown fields are errors) and every memory quantity reads back as bytes, never as ``m``
    (milli: ``512m`` is 0.512 bytes). A Helm template is not YAML and is only required to be
    unchanged (the fixture comparison)."""
    if "{{" in text:
        return ""
    import kubernetes_validate
    from rewriter.errors import ParseError
    from rewriter.settings import kubernetes_size
    from rewriter.yamlview import parse_yaml_all

    try:
        docs = parse_yaml_all(SourceFile.from_text("manifest.yaml", text))
    except ParseError as err:
        return err.message
    for doc in docs:
        model = doc.model()
        if not isinstance(model, dict):
            continue
        try:
            kubernetes_validate.validate(model, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            return f"{model.get('kind')}: {err.message} at {list(err.path)}"
        for quantity in _memory_quantities(model):
            if isinstance(quantity, str) and quantity.endswith("m") or kubernetes_size(quantity) is None:
                return f"{model.get('kind')}: memory quantity {quantity!r}"
    return ""


def _memory_quantities(node: object) -> list[object]:
    """Every ``memory`` under ``limits``/``requests`` and every emptyDir ``sizeLimit``."""
    out: list[object] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("limits", "requests") and isinstance(value, dict) and "memory" in value:
                out.append(value["memory"])
            elif key == "sizeLimit":
                out.append(value)
            out.extend(_memory_quantities(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_memory_quantities(item))
    return out


def regenerate(case: Case) -> None:  # pragma: no cover - a maintenance helper, run by hand
    original = case.input.read_bytes()
    for profile in case.profiles():
        for unsafe in (False, True):
            target = case.expected(profile, unsafe)
            out = fixed_bytes(case.input, case.kind, profile, unsafe)
            safe_out = fixed_bytes(case.input, case.kind, profile, False)
            if out == original or (unsafe and out == safe_out):
                if target.exists():
                    os.remove(target)
                continue
            target.write_bytes(out)
