"""Kubernetes manifests: each container of a workload's pod template is a container.

A manifest file is a stream of YAML documents (``---``); a document whose ``kind`` runs pods
(Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob) has a
pod spec at a path that depends on the kind (:data:`POD_SPEC`), and every entry of its
``containers`` and ``initContainers`` is a container of its own. Every other document (a
Service, a ConfigMap, a comment-only document) is left alone, byte for byte.

Values are Kubernetes quantities (the codec table, :data:`CODECS`): memory in ``Mi``/``Gi``
(``512m`` would be 0.512 bytes), CPU in cores or millicores (``500m``). What the pod spec cannot express is said
here too: a container has no ulimits and no pids limit of its own (they are the node's: the
container runtime's default ulimits and the kubelet's ``podPidsLimit``), and no swap setting
(swap is the node's too, and off unless the kubelet enables it).

A ``/tmp`` tmpfs is an ``emptyDir`` with ``medium: Memory`` and a ``sizeLimit``, mounted with a
``volumeMount``: the volume is the pod's, the mount the container's, and one fix writes both.
Memory-backed emptyDir pages count against the container's memory limit, like a tmpfs's.

A Helm template (:func:`is_helm_template`) is not YAML until Helm renders it: it is not read, and
one note says how to check it (``helm template ... | dockfix apply - --file-type kubernetes``).
"""

from __future__ import annotations

import re

from rewriter.edits import Edit, Fix, Intent
from rewriter.errors import ParseError
from rewriter.model import BuildSpec, Mount, Setting, Span, TmpfsMount, Ulimit
from rewriter.record import Record
from rewriter.runfacts import WorkloadRun
from rewriter.settings import MEMORY as MEMORY_KEY
from rewriter.settings import (
    Codec,
    Codecs,
    Found,
    Key,
    TmpfsSpec,
    as_text,
    kubernetes_size,
    mount_triple,
    parse_options,
    same,
    tmpfs_spec,
)
from rewriter.sizes import ByteSize
from rewriter.source import SourceFile
from rewriter.surfaces.docker_settings import DockerSettings
from rewriter.yamlpatch import Patcher, Plan, Refusal
from rewriter.yamlview import (
    Entry,
    Node,
    YamlDocument,
    is_flow,
    is_mapping,
    is_scalar,
    is_sequence,
    item_is_alias,
    parse_yaml_all,
    resolved_entries,
    scalar_value,
    walk,
)

# Where each kind keeps its pod spec (apps/v1, batch/v1, v1).
_TEMPLATE = ("spec", "template", "spec")
POD_SPEC: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": _TEMPLATE,
    "StatefulSet": _TEMPLATE,
    "DaemonSet": _TEMPLATE,
    "ReplicaSet": _TEMPLATE,
    "ReplicationController": _TEMPLATE,
    "Job": _TEMPLATE,
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = ("initContainers", "containers")

HELM_CODE = "DF801"
PATCH_NOTE = "DF805"
NODE_NOTE = "DF802"
HELM_NOTE = ("a Helm template ('{{' ... '}}' is not YAML until Helm renders it): not checked; check the "
             "rendered manifests instead: helm template RELEASE CHART | dockfix apply - --file-type kubernetes")


# What only a Helm chart's templates say: its built-in objects and functions. A rendered manifest
# may still hold ``{{ ... }}`` in a string (a Prometheus alert's ``{{ $labels.instance }}``, an
# Alertmanager template's ``{{ .CommonLabels.alertname }}``), which is not a Helm template.
# An object is looked for between a ``{{`` and the next ``}}``'s ``}`` by a scan (:func:`_helm_object`):
# as one expression, ``\{\{[^}]*\.Values``, every ``{{`` of a line of unclosed ones scanned to the
# end of the file (400 KB took minutes).
_HELM_OBJECT = re.compile(r"\.(?:Values|Release|Chart|Capabilities|Files|Template)\b")
_HELM = re.compile(r"\{\{-?\s*(?:include|template|toYaml|tpl|define)\b|\|\s*nindent\b")


# ``{{`` unquoted where a value starts (``name: {{ $name }}``, ``- {{ .x }}``) or at the start of a
# line (``{{- if ... }}``): YAML reads it as a mapping, so only an unrendered template has it there.
_BARE = re.compile(r"^\{\{|(?:^|[ \t])(?:[-:?]|[A-Za-z0-9_.\-]+:)[ \t]+\{\{", re.MULTILINE)


def is_helm_template(text: str) -> bool:
    """A Helm (or other Go) template: it uses Helm's objects or functions (``.Values``,
    ``include``, ``toYaml``...) or has ``{{`` where a plain value starts; a file with ``{{`` that
    does not parse as YAML is one too (see :func:`load`)."""
    return "{{" in text and (_helm_object(text) or bool(_HELM.search(text) or _BARE.search(text)))


def _helm_object(text: str) -> bool:
    """Whether one of Helm's objects (``.Values``...) is named between a ``{{`` and the next
    ``}``, looked at once per character: the next ``{{`` is looked for after that ``}``."""
    start = text.find("{{")
    while start != -1:
        end = text.find("}", start + 2)
        if _HELM_OBJECT.search(text, start + 2, len(text) if end == -1 else end):
            return True
        if end == -1:
            return False
        start = text.find("{{", end + 1)
    return False


# -- the codec table: Kubernetes quantities ------------------------------------------------------

# A CPU quantity: cores (``2``, ``1.5``) or millicores (``1500m``); the exponent forms are rare.
_CPU = re.compile(r"^\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(m?)$")


def millicores(value: object) -> int | None:
    """A CPU quantity in millicores (``500m`` -> 500, ``1.5`` -> 1500); None if not one or 0."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        milli = round(value * 1000)
    else:
        m = _CPU.match(str(value).strip())
        if not m:
            return None
        milli = round(float(m.group(1)) * (1 if m.group(2) else 1000))
    return milli if milli > 0 else None


def cpu_cores(value: object) -> float | None:
    """A CPU quantity as policy reads it: cores (``1500m`` -> 1.5)."""
    milli = millicores(value)
    return None if milli is None else milli / 1000


def format_cpu(cores: float) -> str:
    """``2`` for whole cores, else millicores (``1500m``): how ``kubectl`` shows them."""
    milli = round(cores * 1000)
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def emptydir_spec(value: object) -> TmpfsSpec:
    """A memory-backed emptyDir as a tmpfs: its ``sizeLimit`` is the size; it is mounted 0777 and
    exec (the kubelet mounts it without noexec, unlike Docker's ``--tmpfs``)."""
    assert isinstance(value, tuple)
    target, written = value
    return tmpfs_spec(target, tuple(written) + (("mode", "777"), ("exec", "")), ByteSize.parse_kubernetes)


def emptydir_text(spec: TmpfsSpec) -> str:
    """What an emptyDir can say of a tmpfs: its size (``size=64Mi``); a mode or flags cannot be set."""
    return f"size={spec.size.kubernetes()}" if spec.size is not None else ""


# How a manifest spells, parses and formats each key (rewriter/settings.py). Memory in binary
# units (``512Mi``; ``512m`` is 0.512 bytes); no swap, pids or ulimit key: a pod spec has none
# (they are the node's: DF802 says so once per file); no config mount (a pod mounts volumes, not
# files of the repository: ``instead`` says what to add).
CODECS = Codecs({
    "memory": Codec("resources.limits.memory", kubernetes_size, ByteSize.kubernetes),
    "cpu": Codec("resources.limits.cpu", cpu_cores, format_cpu),
    "tmpfs": Codec("emptyDir medium: Memory", emptydir_spec, emptydir_text),
    "mount": Codec("volumeMounts", mount_triple, same),
    "env": Codec("env", as_text, same),
}, instead={
    # a profile's config mount binds a file of the repository; a pod mounts volumes, and the
    # ConfigMap that would carry the file is an object dockfix cannot invent (its name, its
    # namespace, how it is deployed): DF601 names what to add, with no fix
    "config-mount": "a pod cannot mount a file of the repository: make a ConfigMap of it (a kustomize "
                    "configMapGenerator, or kubectl create configmap NAME --from-file=FILE) and mount it "
                    "read-only: a 'configMap' volume in the pod spec and a volumeMount at the target with "
                    "'subPath' and 'readOnly: true'",
})


# -- the file ----------------------------------------------------------------------------------------


class Workload(Record):
    """One document that runs pods: its kind, name and pod spec."""

    __slots__ = ("index", "kind", "name", "doc", "pod", "pod_path", "patcher")

    def __init__(self, index: int, kind: str, name: str, doc: YamlDocument, pod: Node,
                 pod_path: tuple[str, ...], patcher: Patcher) -> None:
        self.index = index  # the document's position in the stream
        self.kind = kind
        self.name = name
        self.doc = doc
        self.pod = pod  # the pod spec mapping node
        self.pod_path = pod_path
        self.patcher = patcher


class ManifestFile:
    __slots__ = ("src", "docs", "workloads", "containers", "helm")

    def __init__(self, src: SourceFile, docs: list[YamlDocument], workloads: list[Workload],
                 containers: list[KubernetesContainer], helm: bool = False) -> None:
        self.src = src
        self.docs = docs
        self.workloads = workloads
        self.containers = containers
        self.helm = helm

    def model(self) -> object:
        """The oracle's view: one resolved model per document, in order."""
        return [doc.model() for doc in self.docs]


def load(src: SourceFile) -> ManifestFile:
    if is_helm_template(src.text):
        return ManifestFile(src, [], [], [], helm=True)
    try:
        docs = parse_yaml_all(src)
    except ParseError:
        if "{{" in src.text:
            return ManifestFile(src, [], [], [], helm=True)  # a template that is not YAML
        raise
    workloads: list[Workload] = []
    containers: list[KubernetesContainer] = []
    scopes: set[str] = set()
    for index, doc in enumerate(docs):
        root = doc.root
        if root is None or (is_scalar(root) and scalar_value(root) is None):
            continue
        if not is_mapping(root):
            raise ParseError(f"a Kubernetes manifest document must be a mapping, not a {root.id}", path=src.path,
                             line=root.start_mark.line + 1, column=root.start_mark.column + 1)
        entries = resolved_entries(root)
        kind = _text(entries.get("kind"))
        if kind not in POD_SPEC:
            continue
        metadata = entries.get("metadata")
        name = _text(resolved_entries(metadata.value).get("name")) if metadata is not None and \
            is_mapping(metadata.value) else ""
        pod = _walk(root, POD_SPEC[kind])
        if pod is None or not is_mapping(pod):
            continue
        workload = Workload(index, kind, name or "", doc, pod, POD_SPEC[kind], Patcher(doc))
        workloads.append(workload)
        pod_entries = resolved_entries(pod)
        for list_key in CONTAINER_LISTS:
            found = pod_entries.get(list_key)
            if found is None or not is_sequence(found.value):
                continue
            for position, item in enumerate(found.value.value):
                if not is_mapping(item) or item_is_alias(found.value, position):
                    continue
                container = KubernetesContainer(workload, list_key, position, item)
                scope = container.scope
                n = 2
                while container.scope in scopes:
                    container.scope = f"{scope}#{n}"
                    n += 1
                scopes.add(container.scope)
                containers.append(container)
    return ManifestFile(src, docs, workloads, containers)


def _text(entry: Entry | None) -> str:
    if entry is None or not is_scalar(entry.value):
        return ""
    value = scalar_value(entry.value)
    return value if isinstance(value, str) else ""


def _walk(node: Node, keys: tuple[str | int, ...]) -> Node | None:
    found = walk(node, keys)
    return None if found is None else found[0]


# -- one container --------------------------------------------------------------------------------

TMP = "/tmp"
MEMORY = ("resources", "limits", "memory")
MEMORY_REQUEST = ("resources", "requests", "memory")
CPU = ("resources", "limits", "cpu")
POD = "@pod"  # a setting's keys start here when they are under the pod spec, not the container


class KubernetesContainer(DockerSettings):
    """One entry of a pod template's ``containers`` or ``initContainers``; implements
    :class:`rewriter.model.Container`. The typed settings (``find``/``get``/``set``/``supports``)
    map onto the readers and writers below through :data:`CODECS`, as for the Docker family:
    the same shapes (a limit, a tmpfs with a size, a variable), other spellings."""

    CODECS = CODECS

    def __init__(self, workload: Workload, list_key: str, position: int, node: Node) -> None:
        self.workload = workload
        self.list_key = list_key
        self.position = position
        self.node = node
        entries = resolved_entries(node)
        name_entry = entries.get("name")
        self._name = _text(name_entry)
        self.base: tuple[str | int, ...] = workload.pod_path + (list_key, position)
        kind_name = f"{workload.kind} '{workload.name}'" if workload.name else workload.kind
        what = "init container" if list_key == "initContainers" else "container"
        self.label = f"{what} '{self._name or position}' of {kind_name}"
        self.scope = f"{workload.kind}/{workload.name}/{list_key}/{self._name or position}"
        anchor = name_entry.value if name_entry is not None else node
        self.span = Span(anchor.start_mark.index, anchor.end_mark.index)

    # what kustomize does with this container (set by rewriter/kubernetes_project.py): the
    # kustomization naming this file as a patch, the rule families an overlay's patch decides,
    # and why what an overlay makes of it cannot be told
    patch_of = ""
    overlays: dict[str, str] = {}
    uncertain = ""

    def reports_here(self, code: str) -> bool:
        """A patch gets nothing but the note that says so (DF805); a container an overlay patches
        in a way dockfix cannot read gets that note and the file's DF802, no fix; a base leaves
        each family an overlay's patch sets to that overlay."""
        if self.patch_of:
            return code == PATCH_NOTE
        if self.uncertain:
            return code in (PATCH_NOTE, NODE_NOTE)
        return code[:3] not in self.overlays

    @property
    def name(self) -> str:
        return self._name

    @property
    def doc(self) -> YamlDocument:
        return self.workload.doc

    @property
    def patcher(self) -> Patcher:
        return self.workload.patcher

    def limit_twins(self) -> list[tuple[Setting, str, Setting | None]]:
        return []  # Compose's deploy.resources twins: none here

    # -- reading -------------------------------------------------------------------------------
    def setting(self, keys: tuple[str | int, ...]) -> Setting | None:
        node = _walk(self.node, keys)
        if node is None or not is_scalar(node):
            return None
        value = scalar_value(node)
        if value is None:
            return None
        span = Span(node.start_mark.index, self.patcher.content_end(node))
        return Setting(".".join(str(k) for k in keys), value, span, keys)

    def memory_limits(self) -> list[Setting]:
        found = self.setting(MEMORY)
        return [found] if found is not None else []

    def memory_request(self) -> Found[ByteSize] | None:
        """``resources.requests.memory`` read by the memory codec (transforms/memory.py takes a
        request as evidence for the limit)."""
        found = self.setting(MEMORY_REQUEST)
        return found.found(MEMORY_KEY, kubernetes_size(found.value)) if found is not None else None

    def memory_quantities(self) -> list[Setting]:
        """Every memory quantity that concerns this container as written: its limit and request,
        and the ``sizeLimit`` of each emptyDir it mounts (keys under the pod spec start with
        :data:`POD`)."""
        out = [s for s in (self.setting(MEMORY), self.setting(MEMORY_REQUEST)) if s is not None]
        volumes = resolved_entries(self.workload.pod).get("volumes")
        mounted = {_text(mount.get("name")) for _, mount in self._mount_items()}
        if volumes is not None and is_sequence(volumes.value):
            for position, item in enumerate(volumes.value.value):
                if not is_mapping(item) or _text(resolved_entries(item).get("name")) not in mounted:
                    continue
                node = _walk(item, ("emptyDir", "sizeLimit"))
                if node is not None and is_scalar(node) and scalar_value(node) is not None:
                    keys = (POD, "volumes", position, "emptyDir", "sizeLimit")
                    out.append(Setting("emptyDir sizeLimit", scalar_value(node),
                                       Span(node.start_mark.index, self.patcher.content_end(node)), keys))
        return out

    def set_quantity(self, setting: Setting, text: str) -> Fix:
        """Rewrite one of :meth:`memory_quantities` as ``text``."""
        if setting.keys[:1] == (POD,):
            plan = self.patcher.set(self.workload.pod_path, self.workload.pod, setting.keys[1:], text)
            return self._fix([(plan, f"{self.workload.kind}/{self.workload.name}/volumes")])
        return self._set(setting.keys, text)

    def memswap_limit(self) -> Setting | None:
        return None

    def cpu_limit(self) -> Setting | None:
        return self.setting(CPU)

    def pids_limits(self) -> list[Setting]:
        return []

    def ulimit(self, name: str) -> Ulimit | None:
        return None

    def image(self) -> str | None:
        found = self.setting(("image",))
        return str(found.value) if found is not None else None

    def build(self) -> BuildSpec | None:
        return None

    def command(self) -> tuple[str, ...]:
        words: list[str] = []
        for key in ("command", "args"):
            node = _walk(self.node, (key,))
            if node is not None and is_sequence(node):
                words.extend(str(item.value) for item in node.value if is_scalar(item))
        return tuple(words)

    def run_facts(self) -> WorkloadRun:
        """The kind of its workload (transforms/project.py: a Job's pods run to completion)."""
        return WorkloadRun(self.workload.kind)

    def _env_items(self) -> list[tuple[int, Node, dict[str, Entry]]]:
        node = _walk(self.node, ("env",))
        if node is None or not is_sequence(node):
            return []
        return [(i, item, resolved_entries(item)) for i, item in enumerate(node.value) if is_mapping(item)]

    def env(self) -> dict[str, Setting]:
        """``env`` entries: ``value`` as written; a ``valueFrom`` one has the value None (what the
        kubelet puts there is known only at run time), its origin says where it comes from."""
        out: dict[str, Setting] = {}
        for index, item, entries in self._env_items():
            name = _text(entries.get("name"))
            if not name or name in out:
                continue
            value_entry = entries.get("value")
            source = entries.get("valueFrom")
            if value_entry is not None and is_scalar(value_entry.value):
                raw = scalar_value(value_entry.value)
                node = value_entry.value
                text = None if raw is None else (("true" if raw else "false") if isinstance(raw, bool) else str(raw))
                span = Span(node.start_mark.index, self.patcher.content_end(node))
                out[name] = Setting(f"env {name}", text, span, ("env", index, "value"))
            else:
                origin = ""
                if source is not None and is_mapping(source.value):
                    origin = "valueFrom " + ", ".join(resolved_entries(source.value))
                    ref = _walk(source.value, ("resourceFieldRef", "resource"))
                    if ref is not None and is_scalar(ref):
                        origin = f"valueFrom resourceFieldRef {ref.value}"
                        divisor = _walk(source.value, ("resourceFieldRef", "divisor"))
                        if divisor is not None and is_scalar(divisor):
                            origin += f" with divisor {divisor.value}"
                span = Span(item.start_mark.index, self.patcher.content_end(item))
                out[name] = Setting(f"env {name}", None, span, ("env", index), origin)
        return out

    def tmpfs(self) -> list[TmpfsMount]:
        """Memory-backed emptyDir volumes mounted in this container, with their ``sizeLimit``
        (as written) as the ``size`` option."""
        out: list[TmpfsMount] = []
        for _, path, volume, memory, setting in self._mount_views():
            if volume is None or not memory:
                continue
            options: tuple[tuple[str, str], ...] = ()
            size = _walk(volume, ("emptyDir", "sizeLimit"))
            if size is not None and is_scalar(size) and scalar_value(size) is not None:
                options = (("size", str(size.value)),)
            out.append(TmpfsMount(path, options, setting, "emptyDir"))
        return out

    def mounts(self) -> list[Mount]:
        """Mounts of volumes that are not memory-backed emptyDirs."""
        out: list[Mount] = []
        for mount, path, _, memory, setting in self._mount_views():
            if memory:
                continue
            read_only = mount.get("readOnly")
            out.append(Mount(_text(mount.get("name")), path,
                             read_only is not None and scalar_value(read_only.value) is True, setting, "volumeMount"))
        return out

    def _mount_views(self) -> list[tuple[dict[str, Entry], str, Node | None, bool, Setting]]:
        """Each ``volumeMounts`` item with a path: its entries, the path, the volume it names (None
        when the pod has none of that name), whether that volume is a memory-backed emptyDir, and
        the item as a Setting (the span a removal or a change covers)."""
        out: list[tuple[dict[str, Entry], str, Node | None, bool, Setting]] = []
        volumes = self._volumes()
        for index, mount in self._mount_items():
            path = _text(mount.get("mountPath"))
            if not path:
                continue
            volume = volumes.get(_text(mount.get("name")))
            medium = _walk(volume, ("emptyDir", "medium")) if volume is not None else None
            memory = medium is not None and is_scalar(medium) and medium.value == "Memory"
            node = _walk(self.node, ("volumeMounts", index))
            assert node is not None
            span = Span(node.start_mark.index, self.patcher.content_end(node))
            out.append((mount, path, volume, memory, Setting("volumeMounts", path, span, ("volumeMounts", index))))
        return out

    def volume_targets(self) -> set[str]:
        return {m.target.rstrip("/") or "/" for m in self.mounts()}

    def _mount_items(self) -> list[tuple[int, dict[str, Entry]]]:
        node = _walk(self.node, ("volumeMounts",))
        if node is None or not is_sequence(node):
            return []
        return [(i, resolved_entries(item)) for i, item in enumerate(node.value) if is_mapping(item)]

    def _volumes(self) -> dict[str, Node]:
        found = resolved_entries(self.workload.pod).get("volumes")
        if found is None or not is_sequence(found.value):
            return {}
        out: dict[str, Node] = {}
        for item in found.value.value:
            if is_mapping(item):
                name = _text(resolved_entries(item).get("name"))
                if name:
                    out.setdefault(name, item)
        return out

    # -- changing --------------------------------------------------------------------------------
    def _fix(self, plans: list[tuple[Plan, str]]) -> Fix:
        """One fix from the plans of one document: intents prefixed with the document's index
        (the oracle's model is the list of documents). A shared (anchored) node is not edited."""
        edits: list[Edit] = []
        intents: list[Intent] = []
        claims: set[str] = set()
        for plan, claim in plans:
            if plan.fallback is not None or len(plan.sites) > 1:
                raise Refusal("the setting is shared through a YAML anchor; edit it where it is defined")
            edits.extend(plan.edits)
            intents.extend(Intent(i.op, (self.workload.index,) + i.path, i.value) for i in plan.intents)
            claims.add(claim)
        return Fix(message="", edits=tuple(edits), intents=tuple(intents), claims=frozenset(claims),
                   scope=self.scope)

    def _set(self, keys: tuple[str | int, ...], value: object) -> Fix:
        return self._fix([(self.patcher.set(self.base, self.node, keys, value), f"{self.scope}/{keys[0]}")])

    def set_memory_limit(self, value: str, where: Setting | None) -> Fix:
        """``value`` is a quantity as the codec formats it (``512Mi``)."""
        if kubernetes_size(value) is None:
            raise Refusal(f"'{value}' is not a Kubernetes quantity")
        return self._set(MEMORY, value)

    def set_memswap_limit(self, value: object) -> Fix:
        raise Refusal("a container has no swap setting in Kubernetes: swap is the node's (kubelet memorySwap)")

    def set_pids_limit(self, value: int, where: Setting | None) -> Fix:
        raise Refusal("a container has no pids limit in Kubernetes: it is the kubelet's podPidsLimit")

    def set_ulimit(self, name: str, soft: int, hard: int) -> Fix:
        raise Refusal("a container has no ulimits in Kubernetes: they are the node's container runtime's")

    def set_env(self, name: str, value: str) -> Fix:
        """Replace the ``value`` of ``name``, or append ``{name, value}`` to ``env``. A ``valueFrom``
        is a decision someone wrote: not replaced."""
        current = self.env().get(name)
        if current is not None:
            if current.value is None and current.origin:
                raise Refusal(f"{name} comes from {current.origin}; replace it by hand")
            return self._set(current.keys, value)
        env = _walk(self.node, ("env",))
        if env is not None and not is_sequence(env) and not (is_scalar(env) and scalar_value(env) is None):
            raise Refusal("'env' is not a list")
        item = {"name": name, "value": value}
        return self._fix([(self.patcher.append(self.base, self.node, ("env",), item), f"{self.scope}/env")])

    def remove_env(self, name: str) -> Fix:
        current = self.env().get(name)
        env = _walk(self.node, ("env",))
        if current is None or env is None or not is_sequence(env):
            raise Refusal(f"'{name}' is not set here")
        index = current.keys[1]
        assert isinstance(index, int)
        if len(env.value) == 1:
            raise Refusal("it is the only variable; remove 'env' by hand")
        if is_flow(env):
            raise Refusal("the list is written in flow style")
        item = env.value[index]
        text = self.doc.text
        line_start = text.rfind("\n", 0, item.start_mark.index) + 1
        if text[line_start:item.start_mark.index].strip() != "-":
            raise Refusal("the variable shares its line with another")
        end = self.patcher.content_end(item)
        nl = text.find("\n", end)
        stop = len(text) if nl == -1 else nl + 1
        if text[end:stop].strip() and not text[end:stop].strip().startswith("#"):
            raise Refusal("the variable shares its line with another")
        intent = Intent("delete", (self.workload.index,) + self.base + ("env", index))
        return Fix(message="", edits=(Edit(line_start, stop, ""),), intents=(intent,),
                   claims=frozenset({f"{self.scope}/env"}), scope=self.scope)

    def add_tmpfs(self, target: str, options: str) -> Fix:
        """A memory-backed emptyDir with the ``size`` as its ``sizeLimit`` (other tmpfs options,
        such as ``mode``, have no emptyDir equivalent: an emptyDir is 0777), and its mount."""
        size = _size(options)
        volume = self._new_volume_name()
        empty_dir: dict[str, object] = {"medium": "Memory"}
        if size is not None:
            empty_dir["sizeLimit"] = size.kubernetes()
        pod_base = self.workload.pod_path
        mount = self.patcher.append(self.base, self.node, ("volumeMounts",), {"name": volume, "mountPath": target})
        vol = self.patcher.append(pod_base, self.workload.pod, ("volumes",),
                                  {"name": volume, "emptyDir": empty_dir})
        pod_scope = f"{self.workload.kind}/{self.workload.name}/volumes"
        return self._fix([(mount, f"{self.scope}/volumeMounts"), (vol, pod_scope)])

    def set_tmpfs_options(self, mount: TmpfsMount, options: str) -> Fix:
        """Only the size has an emptyDir equivalent (``sizeLimit``)."""
        size = _size(options)
        if size is None:
            raise Refusal("only a size can be set on an emptyDir")
        index = mount.setting.keys[1]
        assert isinstance(index, int)
        name = _text(self._mount_items()[[i for i, _ in self._mount_items()].index(index)][1].get("name"))
        found = resolved_entries(self.workload.pod).get("volumes")
        assert found is not None and is_sequence(found.value)
        for position, item in enumerate(found.value.value):
            if is_mapping(item) and _text(resolved_entries(item).get("name")) == name:
                plan = self.patcher.set(self.workload.pod_path, self.workload.pod,
                                        ("volumes", position, "emptyDir", "sizeLimit"), size.kubernetes())
                return self._fix([(plan, f"{self.workload.kind}/{self.workload.name}/volumes")])
        raise Refusal(f"volume '{name}' is not in the pod spec")

    def add_mount(self, source: str, target: str, read_only: bool) -> Fix:
        raise Refusal(CODECS.unsupported(Key("config-mount")))

    def set_mount_read_only(self, mount: Mount) -> Fix:
        return self._set(mount.setting.keys + ("readOnly",), True)

    def _new_volume_name(self) -> str:
        """``tmp`` for a pod of one container, ``<container>-tmp`` otherwise (each container its
        own /tmp, as each had its own filesystem), made unique among the pod's volumes."""
        volumes = self._volumes()
        count = sum(len(n.value) for key in CONTAINER_LISTS
                    if (n := _walk(self.workload.pod, (key,))) is not None and is_sequence(n))
        name = "tmp" if count == 1 or not self._name else f"{self._name}-tmp"
        candidate, n = name, 2
        while candidate in volumes:
            candidate = f"{name}-{n}"
            n += 1
        return candidate


def _size(options: str) -> ByteSize | None:
    """The ``size`` of tmpfs options as the codec formats them (``size=64Mi,mode=1777``)."""
    for name, value in parse_options(options):
        if name == "size":
            return ByteSize.parse_kubernetes(value)
    return None


__all__ = ["CODECS", "KubernetesContainer", "ManifestFile", "load", "millicores"]
