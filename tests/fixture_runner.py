"""Byte-exact fixture cases for the Go-aware rules (Compose with builds, Dockerfiles).

A case is a directory holding ``input.yaml`` (Compose) or ``input.Dockerfile`` plus whatever the
project model reads beside it (a Dockerfile, go.mod, ...). ``expected.<profile>.<ext>`` is the
output of the safe fixes, ``expected.<profile>.unsafe.<ext>`` the output with ``--unsafe-fixes``;
a mode without an expected file must leave the input unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rewriter.engine import FileOutcome, Options, process
from rewriter.profiles import Profile, ServiceConfig, resolve_profile
from rewriter.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
EXTENSIONS = {".yaml": "compose", ".Dockerfile": "dockerfile"}
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


def cases(*surfaces: str) -> list[Case]:
    out = []
    for surface in surfaces:
        base = ROOT / surface
        if not base.is_dir():
            continue
        for directory in sorted(p for p in base.iterdir() if p.is_dir()):
            for ext, kind in EXTENSIONS.items():
                candidate = directory / f"input{ext}"
                if candidate.is_file():
                    out.append(Case(directory, candidate, kind, ext))
    return out


def services_config(directory: Path) -> tuple[ServiceConfig, ...]:
    config = directory / "dockfix.toml"
    if not config.is_file():
        return ()
    from rewriter.profiles import parse_config

    parsed = parse_config(str(config), config.read_text(encoding="utf-8"))
    return parsed.services if parsed is not None else ()


def run(path: Path, kind: str, profile: str | Profile, unsafe: bool, data: bytes | None = None,
        fix: bool = True) -> FileOutcome:
    raw = path.read_bytes() if data is None else data
    src = SourceFile.from_bytes(str(path), raw)
    chosen = resolve_profile(profile, {}) if isinstance(profile, str) else profile
    options = Options(profile=chosen, unsafe_fixes=unsafe,
                      services=services_config(path.parent))
    return process(kind, src, options, fix=fix)


def fixed_bytes(path: Path, kind: str, profile: str | Profile, unsafe: bool, data: bytes | None = None) -> bytes:
    outcome = run(path, kind, profile, unsafe, data)
    src = outcome.src
    text = outcome.new_text if outcome.new_text is not None else src.text
    return src.with_text(text).to_bytes()


def regenerate(case: Case) -> None:  # pragma: no cover - a maintenance helper, run by hand
    original = case.input.read_bytes()
    for profile in PROFILES:
        for unsafe in (False, True):
            target = case.expected(profile, unsafe)
            out = fixed_bytes(case.input, case.kind, profile, unsafe)
            safe_out = fixed_bytes(case.input, case.kind, profile, False)
            if out == original or (unsafe and out == safe_out):
                if target.exists():
                    os.remove(target)
                continue
            target.write_bytes(out)
