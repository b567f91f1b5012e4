"""kustomize overlays, read as kustomize applies them (issue 13): every form of patch (strategic
merge in a file or inline, with or without a target; JSON 6902 op lists in YAML or JSON, in
``patches`` or ``patchesJson6902``; the patches of ``components``), the kustomizations that build
a manifest found anywhere in the repository, and the rule that a fix goes into the base, never
against a patch that overrides it.

``fixtures/kubernetes/kustomize/`` is a small shop repository (a Go API and worker built with ko,
a PostgreSQL StatefulSet) with a base, a component and three overlays (prod, staging, canary on
top of prod), one per form; ``rendered/`` holds what ``kubectl kustomize`` (kustomize 5.5.0) makes
of each overlay, the oracle the effects computed here are checked against. Where a real kustomize
is on the machine (kubectl's 5.x, or npm's 4.5.4 that .ci/run installs, which builds the same
bytes) the recordings are rebuilt and compared, and the fixed repository is built too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixture_runner import kubernetes_error, tree  # noqa: E402

from rewriter import kustomize  # noqa: E402
from rewriter.cli import main  # noqa: E402
from rewriter.source import SourceFile  # noqa: E402
from rewriter.yamlview import parse_yaml_all  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "fixtures" / "kubernetes" / "kustomize"
OVERLAYS = ("prod", "staging", "canary")


TOOLS = ROOT / ".ci" / "tools" / "node_modules" / ".bin"  # where .ci/run installs npm's kustomize


def _version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _kustomize() -> list[str] | None:
    """The command that builds an overlay: kubectl's own when its bundled kustomize is version 5
    (the recordings' 5.5.0), else a standalone ``kustomize`` 4.5 or later (npm's ``kustomize``
    package, which .ci/run installs; 4.5.4 builds the recordings byte for byte). Debian's
    kubernetes-client 1.20 bundles kustomize 2, which has no components or inline patches."""
    kubectl = shutil.which("kubectl")
    if kubectl and "Kustomize Version: v5." in _version([kubectl, "version", "--client"]):
        return [kubectl, "kustomize"]
    for path in (shutil.which("kustomize"), str(TOOLS / "kustomize")):
        if path and os.access(path, os.X_OK):
            found = re.search(r"kustomize/v(\d+)\.(\d+)", _version([path, "version"]))
            if found and (int(found[1]), int(found[2])) >= (4, 5):
                return [path, "build"]
    return None


KUSTOMIZE = _kustomize()
# CI installs the oracle (.ci/run): there a missing one fails instead of skipping
MISSING = "kustomize 4.5+ (or kubectl with kustomize 5) is not installed"
if KUSTOMIZE is None and os.environ.get("CI") == "true":
    raise RuntimeError(MISSING + " (CI=true: .ci/run installs it with npm)")


def _models(path: Path) -> list[object]:
    return [doc.model() for doc in parse_yaml_all(SourceFile.from_text(str(path), path.read_text()))]


def _copy(tmp_path: Path, source: Path = CASE / "input") -> Path:
    target = tmp_path / "shop"
    shutil.copytree(source, target)
    (target / ".git").mkdir()  # the repository root
    return target


def _workloads(path: Path) -> list[tuple[str, str, dict[str, object]]]:
    from rewriter.surfaces.kubernetes import POD_SPEC

    out = []
    for model in _models(path):
        if isinstance(model, dict) and model.get("kind") in POD_SPEC:
            metadata = model["metadata"]
            assert isinstance(metadata, dict)
            out.append((str(model["kind"]), str(metadata["name"]), model))
    return out


def _effects(repo: Path, manifest: Path, overlay: str) -> dict[tuple[str, str, str], kustomize.Effect]:
    """What the chain from ``manifest`` up to ``overlays/<overlay>`` does to its containers."""
    everything = kustomize.index(str(repo))
    top = str(repo / "overlays" / overlay)
    chains = [c for c in kustomize.chains(str(manifest), everything) if c[-1].directory == top]
    assert len(chains) == 1, [[k.path for k in c] for c in chains]
    return kustomize.effects(kustomize.applied(chains[0], everything), _workloads(manifest))


def _container(model: object, kind: str, name: str) -> dict[str, object]:
    from rewriter.surfaces.kubernetes import POD_SPEC

    node = model
    for key in POD_SPEC[kind]:
        assert isinstance(node, dict)
        node = node[key]
    assert isinstance(node, dict)
    for list_key in ("initContainers", "containers"):
        for item in node.get(list_key) or []:
            if item.get("name") == name:
                return dict(item)
    raise AssertionError(f"no container {name}")


def _fields(container: dict[str, object]) -> dict[str, object]:
    """What dockfix writes, as a container has it: limits, Go variables, a /tmp mount."""
    resources = container.get("resources") or {}
    limits = resources.get("limits") or {} if isinstance(resources, dict) else {}
    env = {e["name"]: e.get("value") for e in container.get("env") or [] if e.get("name") in kustomize.GO_VARIABLES}
    mounts = [m for m in container.get("volumeMounts") or [] if str(m.get("mountPath")).rstrip("/") == "/tmp"]
    return {"memory": limits.get("memory"), "cpu": limits.get("cpu"), "env": env, "tmp": bool(mounts)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_effects_agree_with_kustomize(overlay: str, tmp_path: Path) -> None:
    """For every container of every base manifest, in each overlay: a field no patch decides is
    the base's in kustomize's output; a decided memory or CPU limit is the value kustomize
    wrote (a JSON 6902 replace is the effective limit there, a remove takes it away)."""
    repo = _copy(tmp_path)
    rendered = [m for m in _models(CASE / "rendered" / f"{overlay}.yaml") if isinstance(m, dict)]
    checked = 0
    for manifest in sorted((repo / "base").glob("*.yaml")):
        if manifest.name == "kustomization.yaml":
            continue
        found = _effects(repo, manifest, overlay)
        for kind, name, model in _workloads(manifest):
            out = [m for m in rendered if m["kind"] == kind and str(m["metadata"]["name"]).startswith(name)]
            assert len(out) == 1
            for (k, n, container_name), effect in found.items():
                if (k, n) != (kind, name) or effect.uncertain:
                    continue
                base = _fields(_container(model, kind, container_name))
                after = _fields(_container(out[0], kind, container_name))
                for what in kustomize.FIELDS:
                    if what not in effect.values:
                        assert after[what] == base[what], (overlay, container_name, what)
                    elif what in ("memory", "cpu") and effect.values[what] != kustomize.REPLACED:
                        assert after[what] == effect.values[what], (overlay, container_name, what)
                    checked += 1
    assert checked >= 8


def test_what_each_form_decides(tmp_path: Path) -> None:
    """The fixture's forms, one by one: prod's strategic-merge file sets the API's limit, its
    inline JSON 6902 op the worker's, the scratch component the database's /tmp; prod's inline
    strategic merge (a config mount) decides nothing; staging's inline strategic merge sets
    GOMEMLIMIT and its JSON file the CPU limit; canary's replacement makes the worker uncertain,
    its move within the worker's env decides nothing."""
    repo = _copy(tmp_path)
    base = repo / "base"
    prod_api = _effects(repo, base / "api.yaml", "prod")[("Deployment", "api", "api")]
    assert prod_api.values == {"memory": "1Gi"} and prod_api.labels["memory"] == "overlays/prod/api-memory.yaml"
    prod_worker = _effects(repo, base / "worker.yaml", "prod")[("Deployment", "worker", "worker")]
    assert prod_worker.values == {"memory": "1Gi"} and "patches[2] of overlays/prod/kustomization.yaml" in prod_worker.labels["memory"]
    db = _effects(repo, base / "db.yaml", "prod")[("StatefulSet", "db", "postgres")]
    assert set(db.values) == {"tmp"} and "components/scratch" in db.labels["tmp"] and not db.uncertain
    staging = _effects(repo, base / "api.yaml", "staging")[("Deployment", "api", "api")]
    assert staging.values == {"env": kustomize.REPLACED, "cpu": "500m"}
    assert staging.labels["cpu"] == "overlays/staging/api-cpu.json"
    canary = _effects(repo, base / "worker.yaml", "canary")[("Deployment", "worker", "worker")]
    assert "replacements[1] of overlays/canary/kustomization.yaml" in canary.uncertain
    assert canary.values == {"memory": "1Gi"}  # prod's, below it in the chain


def test_apply_prod_gives_the_expected_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Only what no overlay decides is fixed, in the base: the API's /tmp; the worker (uncertain
    in canary) gets a note and nothing else; no patch file changes; every manifest stays valid;
    a second run changes nothing."""
    repo = _copy(tmp_path)
    monkeypatch.chdir(repo)
    main(["apply", "--profile", "prod", "--jobs", "1", "--no-cache", "."])
    out = capsys.readouterr().out
    assert tree(repo) == tree(CASE / "expected.prod")
    assert "base/worker.yaml" in out and "DF805" in out and "cannot read for certain" in out
    main(["apply", "--profile", "prod", "--jobs", "1", "--no-cache", "."])
    capsys.readouterr()
    assert tree(repo) == tree(CASE / "expected.prod")
    for path in (repo / "base").glob("*.yaml"):
        if path.name != "kustomization.yaml":
            assert kubernetes_error(path.read_text()) == "", path


@pytest.mark.skipif(KUSTOMIZE is None, reason=MISSING)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_recordings_are_kustomizes_and_the_fixed_repository_builds(overlay: str, tmp_path: Path) -> None:
    """The oracle's recordings are what kustomize makes of the input today; the fixed repository
    still builds in every overlay, each output valid against the Kubernetes schemas."""
    assert KUSTOMIZE is not None
    built = subprocess.run([*KUSTOMIZE, str(CASE / "input" / "overlays" / overlay)], capture_output=True,
                           text=True, check=True).stdout
    assert built == (CASE / "rendered" / f"{overlay}.yaml").read_text()
    fixed = subprocess.run([*KUSTOMIZE, str(CASE / "expected.prod" / "overlays" / overlay)],
                           capture_output=True, text=True, check=True).stdout
    assert kubernetes_error(fixed) == ""
    assert fixed != built or overlay == "canary"  # the API's /tmp reaches prod and staging


# -- the forms, one at a time ------------------------------------------------------------------------

DEPLOYMENT = (CASE / "input" / "base" / "api.yaml").read_text().split("---")[0]  # the API, without its Service


def _repo(tmp_path: Path, overlay: str, files: dict[str, str] | None = None) -> Path:
    """A repository with the API's base and one overlay (``overlay``: its kustomization)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "go.mod").write_text("module example.com/shop\n\ngo 1.24\n")
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "api.yaml").write_text(DEPLOYMENT)
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n  - api.yaml\n")
    (tmp_path / "overlays" / "prod").mkdir(parents=True)
    (tmp_path / "overlays" / "prod" / "kustomization.yaml").write_text(overlay)
    for name, text in (files or {}).items():
        (tmp_path / "overlays" / "prod" / name).write_text(text)
    return tmp_path


def _effect(repo: Path, name: str = "api") -> kustomize.Effect:
    return _effects(repo, repo / "base" / "api.yaml", "prod")[("Deployment", "api", name)]


def _check(repo: Path) -> list[tuple[str, str]]:
    proc = subprocess.run([sys.executable, "-m", "rewriter", "check", "--no-cache", "--output-format", "json",
                           "--profile", "prod", "."], cwd=repo, capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return [(Path(f["filename"]).name, f["code"]) for f in json.loads(proc.stdout)]


def _built(repo: Path, overlay: str = "prod") -> dict[str, object]:
    """The API's container as kubectl kustomize builds the overlay (the test is skipped without it)."""
    if KUSTOMIZE is None:
        pytest.skip(MISSING)
    out = subprocess.run([*KUSTOMIZE, str(repo / "overlays" / overlay)], capture_output=True, text=True,
                         check=True).stdout
    models = [m for m in (doc.model() for doc in parse_yaml_all(SourceFile.from_text("x.yaml", out)))
              if isinstance(m, dict) and m.get("kind") == "Deployment"]
    return _container(models[0], "Deployment", "api")


JSON6902_REPLACE = """\
resources:
  - ../../base
patches:
  - target:
      kind: Deployment
      name: api
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/resources/limits/memory
        value: 1Gi
"""


def test_json6902_replace_is_the_limit_in_that_overlay(tmp_path: Path) -> None:
    """The op's value is the effective limit (kustomize agrees); the base leaves the memory and
    GOMEMLIMIT rules to the overlay, and still gets its /tmp. Before, an inline JSON 6902 patch
    was not read: the base got GOMEMLIMIT computed from 768Mi, wrong in the overlay."""
    repo = _repo(tmp_path, JSON6902_REPLACE)
    assert _effect(repo).values == {"memory": "1Gi"}
    found = _check(repo)
    assert ("api.yaml", "DF101") in found
    assert not [c for n, c in found if n == "api.yaml" and c[:3] in ("DF3", "DF5")], found
    if KUSTOMIZE is not None:
        assert _fields(_built(repo))["memory"] == "1Gi"


def test_json6902_remove_and_json_file(tmp_path: Path) -> None:
    """A JSON op list in a file (legacy ``patchesJson6902``) that removes the limit: the overlay
    has none, which the overlay decides."""
    ops = json.dumps([{"op": "remove", "path": "/spec/template/spec/containers/0/resources/limits/memory"}])
    repo = _repo(tmp_path, "resources:\n  - ../../base\npatchesJson6902:\n  - target:\n      group: apps\n"
                           "      version: v1\n      kind: Deployment\n      name: api\n    path: ops.json\n",
                 {"ops.json": ops})
    assert _effect(repo).values == {"memory": None}
    if KUSTOMIZE is not None:
        assert _fields(_built(repo))["memory"] is None


def test_index_after_an_inserted_sidecar(tmp_path: Path) -> None:
    """A sidecar inserted at index 0, then ``containers/1``: that is the base's container 0 (the
    API), as kustomize applies the ops in order."""
    repo = _repo(tmp_path, "resources:\n  - ../../base\npatches:\n  - target:\n      kind: Deployment\n"
                           "    patch: |-\n      - op: add\n        path: /spec/template/spec/containers/0\n"
                           "        value: {name: proxy, image: example/proxy:2}\n      - op: add\n"
                           "        path: /spec/template/spec/containers/1/env/-\n"
                           "        value: {name: GOMAXPROCS, value: \"2\"}\n")
    effect = _effect(repo)
    assert effect.values == {"env": kustomize.REPLACED} and not effect.uncertain
    if KUSTOMIZE is not None:
        assert _fields(_built(repo))["env"] == {"GOMAXPROCS": "2"}


def test_strategic_merge_inline_with_a_target_and_a_component(tmp_path: Path) -> None:
    """An inline strategic-merge patch with a target applies whatever its own name (``any``);
    a component's patches apply to what the including kustomization builds."""
    (tmp_path / "components" / "tmp").mkdir(parents=True)
    (tmp_path / "components" / "tmp" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - target:\n"
        "      labelSelector: app=api\n    patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n"
        "      metadata:\n        name: any\n      spec:\n        template:\n          spec:\n"
        "            containers:\n              - name: api\n                volumeMounts:\n"
        "                  - {name: scratch, mountPath: /tmp}\n            volumes:\n"
        "              - name: scratch\n                emptyDir: {medium: Memory, sizeLimit: 32Mi}\n")
    repo = _repo(tmp_path, "resources:\n  - ../../base\ncomponents:\n  - ../../components/tmp\n")
    effect = _effect(repo)
    assert set(effect.values) == {"tmp"} and "components/tmp" in effect.labels["tmp"]
    found = _check(repo)
    assert not [c for n, c in found if n == "api.yaml" and c.startswith("DF1")], found
    if KUSTOMIZE is not None:
        assert _fields(_built(repo))["tmp"] is True


@pytest.mark.parametrize("ops, why", [
    ('- op: copy\n        from: /spec/template/spec/containers/0/env/0\n'
     '        path: /spec/template/spec/containers/0/env/-', "an item not read here"),
    ('- op: replace\n        path: /spec/template/spec/containers/3/resources', "no such item"),
    ('- op: merge\n        path: /spec', "op 'merge'"),
])
def test_an_op_that_cannot_be_read_is_a_note_and_no_fix(tmp_path: Path, ops: str, why: str) -> None:
    """What cannot be told for certain makes the container uncertain: DF805 says why, and the base
    container gets no fix (not even its /tmp)."""
    repo = _repo(tmp_path, "resources:\n  - ../../base\npatches:\n  - target:\n      kind: Deployment\n"
                           f"    patch: |-\n      {ops}\n")
    assert why in _effect(repo).uncertain
    found = _check(repo)
    assert [c for n, c in found if n == "api.yaml"] == ["DF802", "DF805"]
    subprocess.run([sys.executable, "-m", "rewriter", "apply", "--no-cache", "--profile", "prod", "."], cwd=repo,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (repo / "base" / "api.yaml").read_text() == DEPLOYMENT


def test_move_within_a_list_only_reorders(tmp_path: Path) -> None:
    """A move of a container within its list keeps it the same container: a later op by index
    names it where it now is."""
    repo = _repo(tmp_path, "resources:\n  - ../../base\npatches:\n  - target:\n      kind: Deployment\n"
                           "    patch: |-\n      - op: add\n        path: /spec/template/spec/containers/-\n"
                           "        value: {name: proxy, image: example/proxy:2}\n      - op: move\n"
                           "        from: /spec/template/spec/containers/1\n"
                           "        path: /spec/template/spec/containers/0\n      - op: replace\n"
                           "        path: /spec/template/spec/containers/1/resources/limits/memory\n"
                           "        value: 2Gi\n")
    assert _effect(repo).values == {"memory": "2Gi"}
    if KUSTOMIZE is not None:
        assert _fields(_built(repo))["memory"] == "2Gi"


# -- finding the kustomizations ------------------------------------------------------------------------


def test_overlays_anywhere_in_the_repository(tmp_path: Path) -> None:
    """An overlay deep in another tree (deploy/clusters/eu-west/prod, five levels from the base's
    parent) that builds the base through another overlay is found; before, overlays were looked
    for at most three directories below the base's parent and one level of ``resources``."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "app" / "k8s" / "base").mkdir(parents=True)
    (tmp_path / "app" / "k8s" / "base" / "api.yaml").write_text(DEPLOYMENT)
    (tmp_path / "app" / "k8s" / "base" / "kustomization.yaml").write_text("resources:\n  - api.yaml\n")
    middle = tmp_path / "deploy" / "common"
    middle.mkdir(parents=True)
    (middle / "kustomization.yaml").write_text("resources:\n  - ../../app/k8s/base\n")
    deep = tmp_path / "deploy" / "clusters" / "eu-west" / "prod" / "apps"
    deep.mkdir(parents=True)
    (deep / "kustomization.yaml").write_text(JSON6902_REPLACE.replace("../../base", "../../../../common"))
    found = _check(tmp_path)
    assert ("api.yaml", "DF101") in found
    assert not [c for n, c in found if n == "api.yaml" and c[:3] in ("DF3", "DF5")], found


def test_links_and_paths_outside_the_root_are_not_followed(tmp_path: Path) -> None:
    """A linked directory is not walked, and a ``resources`` entry outside the repository is not
    followed (rewriter/safefs.py): their patches decide nothing."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text(JSON6902_REPLACE.replace("../../base", "../repo/base"))
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "base").mkdir()
    (repo / "base" / "api.yaml").write_text(DEPLOYMENT)
    (repo / "base" / "kustomization.yaml").write_text("resources:\n  - api.yaml\n")
    (repo / "linked").symlink_to(outside, target_is_directory=True)
    assert [os.path.relpath(k.path, repo) for k in kustomize.index(str(repo))] == ["base/kustomization.yaml"]
    found = _check(repo)
    assert any(n == "api.yaml" and c.startswith("DF5") for n, c in found), found  # GOMEMLIMIT: the base's


@pytest.mark.parametrize("namespace, applies", [("default", True), ("shop", False)])
def test_a_target_namespace_is_the_one_the_patch_sees(tmp_path: Path, namespace: str, applies: bool) -> None:
    """kustomize applies an overlay's patches before its own ``namespace:``: a target in that
    namespace selects nothing, one in ``default`` selects the base's resource (checked with
    kubectl kustomize 5.5)."""
    overlay = JSON6902_REPLACE.replace("resources:", "namespace: shop\nresources:").replace(
        "      name: api\n", f"      name: api\n      namespace: {namespace}\n")
    repo = _repo(tmp_path, overlay)
    assert _effect(repo).values == ({"memory": "1Gi"} if applies else {})
    if KUSTOMIZE is not None:
        assert _fields(_built(repo))["memory"] == ("1Gi" if applies else "768Mi")


def test_the_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At most MAX_DIRECTORIES directories and MAX_DEPTH levels are looked into: a monorepo's
    walk stops there (hidden and vendored directories are never entered)."""
    for name in ("a/b/c/d", "e/f", ".hidden/x", "node_modules/y"):
        (tmp_path / name).mkdir(parents=True)
    kustomize._directories.cache_clear()
    walked = {os.path.relpath(d, tmp_path) for d in kustomize._directories(str(tmp_path))}
    assert walked == {".", "a", "a/b", "a/b/c", "a/b/c/d", "e", "e/f"}
    monkeypatch.setattr(kustomize, "MAX_DEPTH", 2)
    kustomize._directories.cache_clear()
    assert {os.path.relpath(d, tmp_path) for d in kustomize._directories(str(tmp_path))} == \
        {".", "a", "a/b", "e", "e/f"}
    monkeypatch.setattr(kustomize, "MAX_DIRECTORIES", 3)
    kustomize._directories.cache_clear()
    assert len(kustomize._directories(str(tmp_path))) == 3
    kustomize._directories.cache_clear()


@pytest.mark.parametrize("name", ["api", "x-api"])
def test_a_target_sees_what_inner_kustomizations_did(tmp_path: Path, name: str) -> None:
    """A target sees the resource as the kustomizations below it left it: a name prefix (the
    original name matches too) and the labels they add (kubectl kustomize 5.5 agrees)."""
    repo = _repo(tmp_path, "namePrefix: x-\ncommonLabels:\n  team: a\nresources:\n  - ../../base\n")
    top = repo / "overlays" / "top"
    top.mkdir()
    (top / "kustomization.yaml").write_text(
        JSON6902_REPLACE.replace("../../base", "../prod").replace(
            "      name: api\n", f"      name: {name}\n      labelSelector: team=a\n"))
    everything = kustomize.index(str(repo))
    manifest = repo / "base" / "api.yaml"
    chain = [c for c in kustomize.chains(str(manifest), everything) if c[-1].directory == str(top)]
    found = kustomize.effects(kustomize.applied(chain[0], everything), _workloads(manifest))
    assert found[("Deployment", "api", "api")].values == {"memory": "1Gi"}
    if KUSTOMIZE is not None:
        assert _fields(_built(repo, "top"))["memory"] == "1Gi"
