"""The Kubernetes surface: manifests found by content, multi-document files, the pod template of
each kind, containers and init containers each on their own, Kubernetes units, byte-exact edits.
(The fixture cases in fixtures/kubernetes run through tests/test_fixtures.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixture_runner import kubernetes_error  # noqa: E402

from rewriter.discovery import discover, kind_of, looks_like_manifest  # noqa: E402
from rewriter.edits import apply_edits  # noqa: E402
from rewriter.engine import Options, process  # noqa: E402
from transforms import resolve_profile  # noqa: E402
from rewriter.source import SourceFile  # noqa: E402
from rewriter.surfaces import kubernetes  # noqa: E402
from rewriter.settings import CPU, MEMORY, NOFILE, PIDS, SWAP, TmpfsSpec, kubernetes_size, tmpfs  # noqa: E402
from rewriter.sizes import ByteSize  # noqa: E402
from rewriter.surfaces.kubernetes import format_cpu, millicores  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCKFIX = [sys.executable, "-m", "rewriter"]

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: one
spec:
  containers:
    - name: app
      image: example/app:1
"""


def template(kind: str, path: tuple[str, ...]) -> str:
    """A manifest of ``kind`` with an init container and a container at the pod spec ``path``."""
    lines = ["apiVersion: apps/v1", f"kind: {kind}", "metadata:", f"  name: {kind.lower()}"]
    indent = ""
    for key in path:
        lines.append(f"{indent}{key}:")
        indent += "  "
    lines += [f"{indent}initContainers:", f"{indent}  - name: init", f"{indent}    image: example/init:1",
              f"{indent}containers:", f"{indent}  - name: main", f"{indent}    image: example/main:1"]
    return "\n".join(lines) + "\n"


def load(text: str, path: str = "deploy.yaml") -> kubernetes.ManifestFile:
    return kubernetes.load(SourceFile.from_text(path, text))


def fix(text: str, profile: str = "prod", unsafe: bool = False, path: str = "deploy.yaml") -> str:
    src = SourceFile.from_text(path, text)
    outcome = process("kubernetes", src, Options(resolve_profile(profile, {}), unsafe_fixes=unsafe), fix=True)
    return outcome.new_text if outcome.new_text is not None else text


# -- discovery ---------------------------------------------------------------------------------------


def test_manifest_by_content() -> None:
    assert looks_like_manifest(POD)
    assert looks_like_manifest("# licence\n---\n" + POD)
    assert not looks_like_manifest("replicaCount: 1\nimage:\n  repository: nginx\n")  # values.yaml
    assert not looks_like_manifest("services:\n  kind: x\n  apiVersion: y\n")  # not top-level keys
    assert not looks_like_manifest("services:\n  web:\n    image: nginx\n")


def test_directory_walk_finds_manifests_by_content(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "api.yaml").write_text(POD)
    (tmp_path / "k8s" / "values.yaml").write_text("replicaCount: 1\n")
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    found = {os.path.relpath(t.path, tmp_path): t.kind for t in discover([str(tmp_path)])}
    assert found == {"compose.yaml": "compose", os.path.join("k8s", "api.yaml"): "kubernetes"}
    assert kind_of(str(tmp_path / "k8s" / "api.yaml"), explicit=True) == "kubernetes"
    assert kind_of(str(tmp_path / "k8s" / "values.yaml"), explicit=True) == "compose"  # named: as before


@pytest.mark.parametrize("args", [["--stdin-filename", "deploy.yaml"], ["--file-type", "kubernetes"]])
def test_stdin(args: list[str], tmp_path: Path) -> None:
    result = subprocess.run(DOCKFIX + ["apply", "-", "--profile", "prod", *args], input=POD.encode(),
                            capture_output=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = result.stdout.decode()
    assert "emptyDir:" in out and "sizeLimit: 64Mi" in out, result.stderr.decode()
    assert out.startswith(POD[:POD.index("      image")])


def test_stdin_other_yaml_passes_through(tmp_path: Path) -> None:
    values = "replicaCount: 1\nresources: {}\n"
    result = subprocess.run(DOCKFIX + ["apply", "-", "--stdin-filename", "values.yaml"], input=values.encode(),
                            capture_output=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.decode() == values


# -- documents and pod templates ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(kubernetes.POD_SPEC))
def test_pod_template_of_each_kind(kind: str) -> None:
    loaded = load(template(kind, kubernetes.POD_SPEC[kind]))
    assert [c.label for c in loaded.containers] == [
        f"init container 'init' of {kind} '{kind.lower()}'", f"container 'main' of {kind} '{kind.lower()}'"]
    assert len({c.scope for c in loaded.containers}) == 2


def test_pod_template_at_another_path_is_not_read() -> None:
    # a Deployment's containers belong under spec.template.spec, not spec
    assert load(template("Deployment", ("spec",))).containers == []


def test_other_documents_are_left_alone() -> None:
    text = ("# leading comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: '1'\n"
            "---\n# between\n" + POD + "---\n# only a comment\n---\napiVersion: v1\nkind: Service\n"
            "metadata:\n  name: s\nspec:\n  ports: [{port: 80}]\n")
    loaded = load(text)
    assert [c.name for c in loaded.containers] == ["app"]
    out = fix(text)
    assert out != text
    head, tail = text.split("      image: example/app:1\n")
    assert out.startswith(head + "      image: example/app:1\n") and out.endswith(tail)
    before, after = load(text).model(), load(out).model()
    assert isinstance(before, list) and isinstance(after, list)
    assert [before[i] for i in (0, 2, 3)] == [after[i] for i in (0, 2, 3)]
    assert kubernetes_error(out) == ""


def test_helm_template_is_a_note(tmp_path: Path) -> None:
    text = (ROOT / "fixtures/kubernetes/helm-template/input.yaml").read_text()
    src = SourceFile.from_text("deploy.yaml", text)
    outcome = process("kubernetes", src, Options(resolve_profile("prod", {})), fix=True)
    assert outcome.new_text is None
    assert [(f.code, f.severity.value) for f in outcome.findings] == [("DF801", "info")]
    assert "helm template" in outcome.findings[0].message


def test_not_a_mapping_is_an_error() -> None:
    from rewriter.errors import ParseError

    with pytest.raises(ParseError) as err:
        load("apiVersion: v1\nkind: Pod\n---\n- a\n- b\n")
    assert (err.value.line, err.value.column) == (4, 1)


# -- the codec ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "size"), [
    ("512Mi", 512 * 2**20), ("1Gi", 2**30), ("1G", 10**9), ("129e6", 129 * 10**6), ("0.5Gi", 2**29),
    (536870912, 2**29), ("512m", 1), ("128974848", 128974848), ("1.5Mi", 3 * 2**19), ("512Mb", None), ("", None),
])
def test_memory_quantities(written: object, size: int | None) -> None:
    parsed = kubernetes_size(written)
    assert (parsed.bytes if parsed is not None else None) == size


@pytest.mark.parametrize(("written", "milli"), [("500m", 500), ("1500m", 1500), ("2", 2000), (1, 1000),
                                                (0.25, 250), ("0", None), ("x", None)])
def test_cpu_quantities(written: object, milli: int | None) -> None:
    assert millicores(written) == milli


def test_typed_settings_through_the_codec_table() -> None:
    text = POD + ("      resources:\n        limits:\n          memory: 768Mi\n          cpu: 1500m\n"
                  "      volumeMounts:\n        - name: t\n          mountPath: /tmp\n"
                  "  volumes:\n    - name: t\n      emptyDir: {medium: Memory, sizeLimit: 64Mi}\n")
    container = load(text).containers[0]
    memory = container.get(MEMORY)
    assert memory is not None and memory.value == ByteSize.mib(768) and memory.described() == \
        "resources.limits.memory '768Mi'"
    cpu = container.get(CPU)
    assert cpu is not None and cpu.value == 1.5
    spec = container.get(tmpfs("/tmp"))
    assert spec is not None and spec.value is not None and spec.value.size == ByteSize.mib(64)
    assert [container.supports(key) for key in (MEMORY, CPU, SWAP, PIDS, NOFILE)] == [True, True, False, False, False]
    assert container.formatted(MEMORY, ByteSize.mib(512)) == "512Mi"  # never 512m
    assert [format_cpu(c) for c in (2.0, 1.5, 0.25)] == ["2", "1500m", "250m"]
    fixed = apply_edits(text, list(container.set(MEMORY, ByteSize.mib(1024), memory).edits))
    assert "memory: 1Gi\n" in fixed


# -- edits --------------------------------------------------------------------------------------------


def test_env_value_is_always_a_string() -> None:
    container = load(POD).containers[0]
    fixed = apply_edits(POD, list(container.set_env("GOMAXPROCS", "2").edits))
    assert '- name: GOMAXPROCS\n          value: "2"\n' in fixed
    assert kubernetes_error(fixed) == ""


def test_remove_env_removes_the_whole_item() -> None:
    text = POD + "      env:\n        - name: A\n          value: a\n        - name: GOMAXPROCS\n          value: \"4\"\n"
    container = load(text).containers[0]
    fixed = apply_edits(text, list(container.remove_env("GOMAXPROCS").edits))
    assert fixed == POD + "      env:\n        - name: A\n          value: a\n"


def test_tmpfs_is_a_volume_and_its_mount() -> None:
    container = load(POD).containers[0]
    spec = TmpfsSpec("/tmp", ByteSize.mib(64), 0o1777)  # an emptyDir has no mode: it is left out
    fixed = apply_edits(POD, list(container.set(tmpfs("/tmp"), spec).edits))
    assert fixed == POD + ("      volumeMounts:\n        - name: tmp\n          mountPath: /tmp\n"
                           "  volumes:\n    - name: tmp\n      emptyDir:\n        medium: Memory\n"
                           "        sizeLimit: 64Mi\n")
    assert [m.option("size") for m in load(fixed).containers[0].tmpfs()] == ["64Mi"]


# -- what Kubernetes cannot say, and its units ---------------------------------------------------------


def findings(text: str, profile: str = "prod", path: str = "deploy.yaml") -> list[tuple[str, str]]:
    src = SourceFile.from_text(path, text)
    outcome = process("kubernetes", src, Options(resolve_profile(profile, {})), fix=False)
    return [(f.code, f.message) for f in outcome.findings]


def test_one_note_per_file_for_nofile_and_pids() -> None:
    text = template("Deployment", kubernetes.POD_SPEC["Deployment"]) + "---\n" + POD
    found = findings(text)
    notes = [m for c, m in found if c == "DF802"]
    assert len(notes) == 1 and "podPidsLimit" in notes[0] and "container runtime" in notes[0]
    assert not [c for c, _ in found if c.startswith(("DF201", "DF202", "DF401", "DF402", "DF302"))]


def test_memory_in_docker_units_is_fixed() -> None:
    text = POD + "      resources:\n        limits:\n          memory: 512m\n        requests:\n          memory: 1g\n"
    messages = [m for c, m in findings(text, profile="dev") if c == "DF804"]
    assert len(messages) == 2
    assert "'512m' is 0.512 bytes ('m' is milli)" in messages[0] and "'1g' is not a quantity" in messages[1]
    out = fix(text, profile="dev")
    assert "memory: 512Mi\n" in out and "memory: 1Gi\n" in out
    assert kubernetes_error(out) == ""


def test_gomemlimit_from_resource_field_is_reported() -> None:
    text = (ROOT / "fixtures/kubernetes/resource-field-ref/input.yaml").read_text()
    messages = [m for c, m in findings(text) if c == "DF803"]
    assert len(messages) == 1
    assert "no headroom" in messages[0] and "GOMEMLIMIT = 0.9 x (resources.limits.memory '512Mi'" in messages[0]
    assert "valueFrom" in fix(text)  # reported, never replaced


# -- SARIF and the language server ------------------------------------------------------------------


def test_sarif_for_a_manifest(tmp_path: Path) -> None:
    import json

    import jsonschema
    from test_sarif import SCHEMA_URL, url2schema

    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(POD)
    proc = subprocess.run(DOCKFIX + ["check", "--output-format", "sarif", "--no-cache", "."], cwd=tmp_path,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    doc = json.loads(proc.stdout)
    jsonschema.Draft7Validator(url2schema(SCHEMA_URL)).validate(doc)
    results = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"DF101", "DF802"}
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "k8s/pod.yaml"
    fixes = [r for r in results if r["ruleId"] == "DF101"][0]["fixes"]
    inserted = fixes[0]["artifactChanges"][0]["replacements"]
    assert any("sizeLimit: 64Mi" in r["insertedContent"]["text"] for r in inserted)


def test_language_server_checks_and_formats_a_manifest(tmp_path: Path) -> None:
    """A YAML buffer that is a manifest by its content (not by its name): diagnostics, and
    formatting that gives exactly what ``dockfix apply -`` prints."""
    import asyncio

    from lsprotocol import types
    from pytest_lsp import ClientServerConfig, client_capabilities

    from rewriter.lsp import apply_text_edits

    path = tmp_path / "web.yaml"
    uri = path.as_uri()

    async def session() -> tuple[list[str], str]:
        client = await ClientServerConfig(server_command=DOCKFIX + ["server"]).start()
        try:
            await client.initialize_session(types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code")))
            client.text_document_did_open(types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=POD)))
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            codes = sorted(str(d.code) for d in client.diagnostics[uri])
            edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
            await client.shutdown_session()
        finally:
            await client.stop()
        return codes, apply_text_edits(POD, edits or [])

    codes, formatted = asyncio.run(session())
    assert "DF101" in codes and "DF802" in codes
    cli = subprocess.run(DOCKFIX + ["apply", "-", "--stdin-filename", str(path), "--exit-zero"], input=POD.encode(),
                         capture_output=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert formatted == cli.stdout.decode() != POD


# -- kustomize overlays ------------------------------------------------------------------------------


def test_kustomize_patch_is_read_with_its_base(tmp_path: Path) -> None:
    """A patch gets no fix (a value there overrides the base); the base leaves the families an
    overlay's patch sets (here the memory limit, so DF3xx and DF5xx) to that overlay."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "base").mkdir()
    (tmp_path / "overlays" / "prod").mkdir(parents=True)
    deployment = POD.replace("kind: Pod", "kind: Deployment").replace("spec:\n  containers:", (
        "spec:\n  selector:\n    matchLabels: {app: one}\n  template:\n    metadata:\n      labels: {app: one}\n"
        "    spec:\n      containers:")).replace("    - name: app\n      image: example/app:1\n", (
            "        - name: app\n          image: ko://example.com/app\n          resources:\n"
            "            limits:\n              memory: 768Mi\n"))
    (tmp_path / "base" / "deployment.yaml").write_text(deployment)
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n  - deployment.yaml\n")
    (tmp_path / "overlays" / "prod" / "kustomization.yaml").write_text(
        "resources:\n  - ../../base\npatches:\n  - path: memory.yaml\n")
    patch = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: one\nspec:\n  template:\n    spec:\n"
             "      containers:\n        - name: app\n          resources:\n            limits:\n"
             "              memory: 1Gi\n")
    (tmp_path / "overlays" / "prod" / "memory.yaml").write_text(patch)
    proc = subprocess.run(DOCKFIX + ["check", "--no-cache", "--output-format", "json", "."], cwd=tmp_path,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    import json

    found = {(Path(f["filename"]).name, f["code"]) for f in json.loads(proc.stdout)}
    assert ("memory.yaml", "DF805") in found
    assert not [code for name, code in found if name == "memory.yaml" and code != "DF805"]
    assert ("deployment.yaml", "DF101") in found  # the base still gets its /tmp
    assert not [code for name, code in found if name == "deployment.yaml" and code[:3] in ("DF3", "DF5")]
    subprocess.run(DOCKFIX + ["apply", "--no-cache", "."], cwd=tmp_path, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (tmp_path / "overlays" / "prod" / "memory.yaml").read_text() == patch
    assert "mountPath: /tmp" in (tmp_path / "base" / "deployment.yaml").read_text()


def test_project_facts_cost_once_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The builds around a manifest are looked up once per file, not once per container, and no
    overlay is searched for a manifest that is not in a kustomize base (a 2,000-document file took
    32 s instead of 1.6)."""
    from rewriter import kubernetes_project, kustomize

    calls: list[str] = []
    real = kubernetes_project.builders
    monkeypatch.setattr(kubernetes_project, "builders", lambda path: calls.append(path) or real(path))
    kustomize._directories.cache_clear()
    text = "---\n".join(template(kind, kubernetes.POD_SPEC[kind]).replace("example/main:1", "example/main:2")
                        for kind in ("Deployment", "StatefulSet", "DaemonSet"))
    (tmp_path / "k8s").mkdir()
    path = tmp_path / "k8s" / "all.yaml"
    path.write_text(text)
    process("kubernetes", SourceFile.from_text(str(path), text), Options(resolve_profile("prod", {})), fix=False)
    assert len(calls) == 1
    assert kustomize._directories.cache_info().misses == 0


def test_an_emptydir_is_not_noexec() -> None:
    """A memory-backed emptyDir is mounted exec (unlike Docker's tmpfs): a JVM that extracts
    native code to /tmp gets no DF103, and fixing converges (it looped on 'add exec', which an
    emptyDir cannot say)."""
    jvm = POD.replace("example/app:1", "eclipse-temurin:21") + (
        "      resources:\n        limits:\n          memory: 1Gi\n")
    out = fix(jvm)
    assert "medium: Memory" in out and "sizeLimit: 64Mi" in out
    assert [c for c, _ in findings(out)] == ["DF802"]
    spec = load(out).containers[0].get(tmpfs("/tmp"))
    assert spec is not None and spec.value is not None and "exec" in spec.value.flags and spec.value.mode == 0o777


def test_go_template_in_a_rendered_manifest_is_not_helm() -> None:
    """A rendered manifest may carry ``{{ ... }}`` in a string (alert rules, Alertmanager
    templates): it is checked; Helm's own objects and functions, or ``{{`` that is not YAML, make
    a template."""
    rules = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rules\ndata:\n  alerts.yaml: |\n"
             "    summary: \"{{ $labels.instance }} is down\"\n    text: '{{ .CommonLabels.alertname }}'\n---\n")
    assert "sizeLimit: 64Mi" in fix(rules + POD)
    assert [c for c, _ in findings("{{- include \"x\" . }}\n" + POD)] == ["DF801"]
    assert [c for c, _ in findings(POD.replace("example/app:1", "{{ .Values.image }}"))] == ["DF801"]
    assert [c for c, _ in findings(POD.replace("name: one", "name: {{ $name }}"))] == ["DF801"]  # not YAML


def test_go_from_skaffold_and_ko(tmp_path: Path) -> None:
    """Go is known through a skaffold artifact that builds the image (its Dockerfile and go.mod),
    a ko artifact, or a ko:// image (its go.mod by module path); a registry host in the manifest's
    image still matches the artifact's name."""
    from transforms.base import Context

    (tmp_path / ".git").mkdir()
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text("FROM golang:1.23 AS b\nRUN go build -o /x .\nFROM scratch\n"
                                                "COPY --from=b /x /x\n")
    (tmp_path / "svc" / "go.mod").write_text("module example.com/svc\n\ngo 1.23\n")
    (tmp_path / "go.mod").write_text("module example.com/mono\n\ngo 1.25\n")
    (tmp_path / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n    - image: example/svc\n"
        "      context: svc\n    - image: example/gw\n      ko: {}\n")
    text = "---\n".join(POD.replace("name: one", f"name: {n}").replace("example/app:1", image)
                        for n, image in (("svc", "registry.example.com/example/svc:1"), ("gw", "example/gw:2"),
                                         ("ko", "ko://example.com/mono/cmd/ko"), ("other", "example/other:1")))
    (tmp_path / "k8s").mkdir()
    path = tmp_path / "k8s" / "all.yaml"
    path.write_text(text)
    containers = load(text, str(path)).containers
    ctx = Context(resolve_profile("prod", {}), path=str(path), kind="kubernetes", containers=tuple(containers))
    facts = [ctx.go_info(c) for c in containers]
    assert [(f.is_go, f.version) for f in facts] == [(True, (1, 23)), (True, (1, 25)), (True, (1, 25)),
                                                      (False, None)]
    assert "skaffold.yaml" in (ctx.linked_build(containers[0]) or ("", ""))[1]
    assert "ko" in facts[1].evidence and "ko://" in facts[2].evidence


def test_sizes_in_messages_are_in_kubernetes_units() -> None:
    """The sizes a finding names come from the surface's codec: ``64Mi``, never Docker's ``64m``
    (0.064 bytes in a manifest)."""
    def messages(case: str) -> str:
        path = ROOT / "fixtures/kubernetes" / case / "input.yaml"
        return "\n".join(m for _, m in findings(path.read_text(), path=str(path)))

    assert "(profile prod: 64Mi)" in messages("emptydir-no-size")  # DF102
    assert "tmpfs /tmp 64Mi (profile prod)" in messages("go-api")  # DF501's planned /tmp
    assert "is 8Mi, below the 16Mi a useful /tmp needs" in messages("init-sidecar")  # DF101
    above = POD + ("      resources:\n        limits:\n          memory: 128Mi\n"
                   "      volumeMounts:\n        - name: tmp\n          mountPath: /tmp\n"
                   "  volumes:\n    - name: tmp\n      emptyDir:\n        medium: Memory\n        sizeLimit: 1Gi\n")
    found = [m for c, m in findings(above) if c == "DF106"]
    assert len(found) == 1 and "(a quarter of the limit: 32Mi)" in found[0], found
    docker_like = re.findall(r"\b\d+[mg]\b", messages("go-api") + messages("init-sidecar") + found[0])
    assert set(docker_like) == {"1500m"}  # limits.cpu '1500m' as written: millicores, not a size


@pytest.mark.parametrize("profile, user, named, unnamed", [
    ("prod", {}, ("nofile 65536", "pids 512", "container runtime", "podPidsLimit"), ()),
    ("dev", {}, ("nofile 65536", "container runtime"), ("pids", "podPidsLimit")),
    ("prod", {"nofile": "none"}, ("pids 512", "podPidsLimit"), ("nofile", "container runtime")),
])
def test_node_limits_note_names_only_what_the_profile_asks(profile: str, user: dict[str, object],
                                                           named: tuple[str, ...], unnamed: tuple[str, ...]) -> None:
    """DF802 names the settings the active profile asks for, and only them: the dev profile sets
    no pids limit, so its note says nothing of pids or the kubelet (it did)."""
    options = Options(resolve_profile(profile, {profile: user} if user else {}))
    outcome = process("kubernetes", SourceFile.from_text("deploy.yaml", POD), options, fix=False)
    notes = [f.message for f in outcome.findings if f.code == "DF802"]
    assert len(notes) == 1
    assert all(word in notes[0] for word in named), notes[0]
    assert not [word for word in unnamed if word in notes[0]], notes[0]


def test_no_node_limits_note_when_the_profile_asks_for_neither() -> None:
    options = Options(resolve_profile("dev", {"dev": {"nofile": "none"}}))
    outcome = process("kubernetes", SourceFile.from_text("deploy.yaml", POD), options, fix=False)
    assert "DF802" not in [f.code for f in outcome.findings]


# -- config mounts: a pod mounts volumes, not files of the repository ---------------------------------

CONFIG = {"prod": {"config-mounts": [{"source": "./config/{profile}/{service}.yaml", "target": "/etc/app/config.yaml",
                                      "services": ["app"]}]}}


def test_config_mount_is_unsupported_with_what_to_add_instead() -> None:
    """A profile's config mount cannot be written into a manifest (the ConfigMap that would carry
    the file is not dockfix's to invent): the seam says so (``supports`` false, ``unsupported``
    says what to add), and DF601 names the ConfigMap volume and the read-only mount, with no fix;
    the file is left as it was (no finding at all before: the concern skipped Kubernetes)."""
    from rewriter.settings import config_mount
    from rewriter.surfaces import compose, shell

    container = load(POD).containers[0]
    assert not container.supports(config_mount()) and container.supports(MEMORY)
    assert "ConfigMap" in container.unsupported(config_mount())
    assert compose.CODECS.supports(config_mount()) and compose.CODECS.unsupported(config_mount()) == ""
    assert shell.CODECS.unsupported(config_mount()) == ""  # a volume name: left to the user, silently
    options = Options(resolve_profile("prod", CONFIG))  # type: ignore[arg-type]
    outcome = process("kubernetes", SourceFile.from_text("deploy.yaml", POD), options, fix=True)
    missing = [f for f in outcome.findings if f.code == "DF601"]
    assert len(missing) == 1 and missing[0].fix is None
    for words in ("./config/prod/app.yaml", "/etc/app/config.yaml", "ConfigMap", "configMapGenerator", "subPath",
                  "readOnly: true"):
        assert words in missing[0].message
    assert outcome.new_text is not None and "/etc/app" not in outcome.new_text
    assert kubernetes_error(outcome.new_text) == ""


def test_config_mount_already_there_is_taken_as_the_config() -> None:
    mounted = POD + ("      volumeMounts:\n        - name: config\n          mountPath: /etc/app/config.yaml\n"
                     "          subPath: config.yaml\n  volumes:\n    - name: config\n      configMap:\n"
                     "        name: app-config\n")
    options = Options(resolve_profile("prod", CONFIG))  # type: ignore[arg-type]
    outcome = process("kubernetes", SourceFile.from_text("deploy.yaml", mounted), options, fix=False)
    assert not [f for f in outcome.findings if f.code.startswith("DF60")]
    other = Options(resolve_profile("prod", {"prod": {"config-mounts": [{"source": "x.yaml", "target": "/tmp"}]}}))
    fixed = fix(POD)
    outcome = process("kubernetes", SourceFile.from_text("deploy.yaml", fixed), other, fix=False)
    assert [f.code for f in outcome.findings if f.code.startswith("DF60")] == ["DF602"]  # the /tmp emptyDir
