"""Real Kubernetes YAML from PyPI sdists (fixtures/kubernetes/real/SOURCES.md): kopf's operator
Deployment, kr8s's test Pod and Pod + Service, dask-kubernetes's config file (YAML that is not a
manifest) and its operator chart's Helm template. Each is found or not found as a manifest, the
Helm template is a DF801 note and no edit, and every fixed workload validates against the
Kubernetes schemas, keeps every original byte outside the edits and is unchanged by a second run."""

from __future__ import annotations

import difflib
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixture_runner import kubernetes_error  # noqa: E402

from rewriter.discovery import discover, looks_like_manifest  # noqa: E402
from rewriter.engine import FileOutcome, Options, process  # noqa: E402
from rewriter.source import SourceFile  # noqa: E402
from transforms import resolve_profile  # noqa: E402

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "kubernetes" / "real"
WORKLOADS = ("kopf-deployment.yaml", "kr8s-nginx-pod.yaml", "kr8s-nginx-pod-service.yaml")
HELM = "dask-operator-helm-deployment.yaml"
NOT_A_MANIFEST = "dask-kubernetes.yaml"  # dask's config: a top-level ``kubernetes:`` key, no kind


def run(name: str, text: str, profile: str, unsafe: bool) -> FileOutcome:
    src = SourceFile.from_text(name, text)
    return process("kubernetes", src, Options(resolve_profile(profile, {}), unsafe_fixes=unsafe), fix=True)


def test_every_file_is_listed_in_sources() -> None:
    sources = (REAL / "SOURCES.md").read_text()
    for path in REAL.iterdir():
        if path.name != "SOURCES.md":
            assert f"`{path.name}`" in sources, path.name


def test_found_by_content(tmp_path: Path) -> None:
    for path in REAL.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    found = {os.path.relpath(t.path, tmp_path): t.kind for t in discover([str(tmp_path)])}
    assert found == {name: "kubernetes" for name in (*WORKLOADS, HELM)}
    assert not looks_like_manifest((REAL / NOT_A_MANIFEST).read_text())


def test_helm_template_is_a_note_and_no_edit() -> None:
    text = (REAL / HELM).read_text()
    for profile in ("prod", "dev"):
        outcome = run(HELM, text, profile, unsafe=True)
        assert outcome.new_text is None
        assert [(f.code, f.severity.value) for f in outcome.findings] == [("DF801", "info")]


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("profile", ["prod", "dev"])
@pytest.mark.parametrize("name", WORKLOADS)
def test_fixed_workload(name: str, profile: str, unsafe: bool) -> None:
    text = (REAL / name).read_text()
    outcome = run(name, text, profile, unsafe)
    assert outcome.new_text is not None  # a memory-backed /tmp in either profile
    fixed = outcome.new_text
    if profile == "prod":  # a sized memory-backed /tmp is safe; the memory limit a suggestion
        assert "medium: Memory\n" in fixed and "sizeLimit: 64Mi\n" in fixed and "mountPath: /tmp\n" in fixed
        assert ("memory: 512Mi\n" in fixed) is unsafe, fixed
    assert kubernetes_error(fixed) == "", fixed
    # bytes outside the edits: every original line is still there, in order (these files set no
    # value dockfix changes, so its edits only insert lines)
    matcher = difflib.SequenceMatcher(a=text.splitlines(True), b=fixed.splitlines(True), autojunk=False)
    assert [op for op in matcher.get_opcodes() if op[0] in ("delete", "replace")] == []
    again = run(name, fixed, profile, unsafe)
    assert again.new_text is None, again.new_text
