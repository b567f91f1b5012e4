"""kustomize as it bears on a base manifest: which kustomizations build it, and what their patches
do to each of its containers.

kustomize builds a manifest into every kustomization whose ``resources`` (or the older ``bases``)
name the file, or name a directory whose kustomization builds it, and so on up; a
``components:`` entry brings a ``kind: Component`` kustomization whose patches apply to everything
the including kustomization builds. So the kustomizations that reach a manifest are found by
following those references backwards through every kustomization of the repository
(:func:`index`: every ``kustomization.yaml``, ``kustomization.yml`` or ``Kustomization`` in the
repository, at most :data:`MAX_DEPTH` directories deep and :data:`MAX_DIRECTORIES` directories in
all, no hidden, vendored or linked directory, nothing outside the root: rewriter/safefs.py).

A patch changes what the base says, and its value wins; the rule stays that a fix goes into the
base and never into a patch, and that the base leaves to an overlay what the overlay's patch
decides (as a Compose base leaves a setting to an override that sets it). What a patch decides is
read as kustomize applies it (kustomize 5.5, ``kubectl kustomize``):

* a strategic-merge patch (a file of ``patchesStrategicMerge`` or ``patches``, or the same inline
  as a string) is merged by kind and name, or applied to every resource its ``target`` selects
  (its own name then does not matter); containers merge by ``name``, ``env`` by ``name``,
  ``volumeMounts`` by ``mountPath``; ``null`` deletes, ``$patch: replace``/``delete`` replace or
  delete the list or map it is in;
* a JSON 6902 patch (an op list, YAML or JSON, in a file or inline, in ``patches`` with a
  ``target`` or in the older ``patchesJson6902``) is a list of ``add``/``remove``/``replace``/
  ``move``/``copy``/``test`` ops on JSON pointers, a container named by its index in the base.

Each op or merge is mapped onto what dockfix would add to a container: its memory limit, its CPU
limit, ``GOMEMLIMIT``/``GOMAXPROCS``, its ``/tmp`` mount (and the pod's volumes that mount
needs). JSON 6902 ops run in order on the lists as the earlier ops (and merges) left them, so an
index after an insert, a remove or a move names the right container, variable or mount; a move
within one list only reorders it. What cannot be told for certain (an index the lists do not
have, an item whose name a ``copy`` brings, a ``$patch`` directive other than replace or delete,
a set-based selector, a ``replacements`` or ``transformers`` entry that writes into a pod spec,
a patch that cannot be read) makes the container *uncertain*: a note, and no fix on it, rather
than a guess.
"""

from __future__ import annotations

import functools
import os
import re

from rewriter import deps
from rewriter.discovery import ALWAYS_SKIPPED
from rewriter.project import read_text, stat_key
from rewriter.record import Record

KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_DEPTH = 10  # directories below the repository root searched for kustomizations
MAX_DIRECTORIES = 5000  # directories looked into, in all (a monorepo's walk stops there)
MAX_CHAIN = 16  # kustomizations on one path from a manifest to the top of its build
MAX_BUILDS = 256  # builds of one manifest followed (diamonds multiply them)

# What a patch can decide of a container, and where it is written in the container.
FIELDS: dict[str, tuple[str, ...]] = {
    "memory": ("resources", "limits", "memory"),
    "cpu": ("resources", "limits", "cpu"),
    "env": ("env",),
    "tmp": ("volumeMounts",),
}
GO_VARIABLES = ("GOMEMLIMIT", "GOMAXPROCS")
TMP = "/tmp"
REPLACED = "(replaced)"  # a value a patch decides without one to read (a list replaced whole)
UNKNOWN = object()  # an op's value dockfix does not have (what a move or copy brings)

TYPE_CHECKING = False
if TYPE_CHECKING:
    Key = tuple[str, str, str]  # (kind, name, container) of a base's container


class Seen(Record):
    """What the kustomizations below a patch's did to a resource before the patch applies, as
    its target sees it (kustomize 5.5, checked with kubectl): their ``namespace:``, their name
    prefixes and suffixes (a target matches the original name or the current one), the labels and
    annotations they add. A kustomization's own are applied after its patches."""

    __slots__ = ("namespace", "prefix", "suffix", "labels", "annotations")

    def __init__(self, namespace: str = "", prefix: str = "", suffix: str = "",
                 labels: tuple[tuple[str, str], ...] = (), annotations: tuple[tuple[str, str], ...] = ()) -> None:
        self.namespace = namespace
        self.prefix = prefix
        self.suffix = suffix
        self.labels = labels
        self.annotations = annotations

    def then(self, k: Kustomization) -> Seen:
        """As the patches of the kustomization above ``k`` see the resource."""
        return Seen(k.adds.namespace or self.namespace, k.adds.prefix + self.prefix, self.suffix + k.adds.suffix,
                    self.labels + k.adds.labels, self.annotations + k.adds.annotations)


class Patch(Record):
    """One patch of a kustomization: strategic-merge documents or JSON 6902 ops, with the target
    that selects what it applies to (None: a strategic-merge patch's own kind and name)."""

    __slots__ = ("label", "target", "documents", "ops", "error", "seen")

    def __init__(self, label: str, target: dict[str, object] | None, documents: tuple[object, ...] = (),
                 ops: tuple[object, ...] | None = None, error: str = "", seen: Seen | None = None) -> None:
        self.label = label  # "overlays/prod/memory.yaml", "patches[2] of overlays/prod/kustomization.yaml"
        self.target = target
        self.documents = documents
        self.ops = ops  # None for a strategic-merge patch
        self.error = error  # why it cannot be read ("": it can)
        self.seen = seen or Seen()  # what the inner kustomizations did to a resource before this patch


class Kustomization(Record):
    """What one kustomization says, paths made absolute (remote resources left out)."""

    __slots__ = ("path", "resources", "components", "patches", "patch_files", "adds")

    def __init__(self, path: str, resources: tuple[str, ...], components: tuple[str, ...],
                 patches: tuple[Patch, ...], patch_files: tuple[str, ...], adds: Seen | None = None) -> None:
        self.path = path
        self.adds = adds or Seen()  # its namespace, name prefix and suffix, labels, annotations
        self.resources = resources
        self.components = components
        self.patches = patches  # in the order kustomize applies them
        self.patch_files = patch_files

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)


class Effect(Record):
    """What one chain of kustomizations does to one container: per field (:data:`FIELDS`), the
    value it ends with (None: deleted; :data:`REPLACED`: decided, not read) and the patch that
    decided it; or why it cannot be told (``uncertain``)."""

    __slots__ = ("values", "labels", "uncertain")

    def __init__(self, values: dict[str, object] | None = None, labels: dict[str, str] | None = None,
                 uncertain: str = "") -> None:
        self.values: dict[str, object] = values if values is not None else {}
        self.labels: dict[str, str] = labels if labels is not None else {}
        self.uncertain = uncertain

    def decide(self, what: str, value: object, label: str) -> None:
        self.values[what] = value
        self.labels.setdefault(what, label)

    def doubt(self, why: str) -> None:
        self.uncertain = self.uncertain or why


# -- the kustomizations of a repository --------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _directories(root: str) -> tuple[str, ...]:
    """Every directory of the repository a kustomization may be in, once per run (bounded)."""
    out: list[str] = []
    for directory, dirnames, _ in os.walk(root):
        depth = 0 if directory == root else directory[len(root):].strip(os.sep).count(os.sep) + 1
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ALWAYS_SKIPPED
                             and depth < MAX_DEPTH and not os.path.islink(os.path.join(directory, d)))
        out.append(directory)
        if len(out) >= MAX_DIRECTORIES:
            break
    return tuple(out)


def kustomization_in(directory: str, root: str) -> Kustomization | None:
    """The kustomization of ``directory`` (kustomize reads the first of :data:`KUSTOMIZATIONS`)."""
    for name in KUSTOMIZATIONS:
        key = stat_key(os.path.join(directory, name), root)
        if key is not None and os.path.isfile(key[0]) and not os.path.islink(key[0]):
            return _parse(*key)
    return None


def index(root: str) -> tuple[Kustomization, ...]:
    """Every kustomization of the repository (each directory walked is a dependency of the
    result: a kustomization added there changes it)."""
    out = []
    for directory in _directories(root):
        deps.touch(directory)
        found = kustomization_in(directory, root)
        if found is not None:
            out.append(found)
    return tuple(out)


def _models(path: str, root: str, text: str | None = None) -> list[object] | None:
    """The documents of a YAML (or JSON) text, or None when it cannot be read or parsed."""
    from rewriter.errors import DockfixError  # lazy: start-up
    from rewriter.source import SourceFile  # lazy: start-up
    from rewriter.yamlview import parse_yaml_all  # lazy: start-up

    if text is None:
        text = read_text(path, root)
    if text is None:
        return None
    try:
        return [doc.model() for doc in parse_yaml_all(SourceFile.from_text(path, text))]
    except DockfixError:
        return None


def _is_remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(("github.com/", "git@", "gitlab.com/", "bitbucket.org/")) \
        or "?ref=" in entry


def _local(entries: object, directory: str, root: str) -> tuple[str, ...]:
    """The local paths of a list of references, absolute; remote ones and those outside the root
    (which dockfix does not look at) left out."""
    from rewriter.safefs import inside  # lazy: start-up

    out = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str) and entry and not _is_remote(entry):
            path = os.path.normpath(os.path.join(directory, entry))
            if inside(path, root):
                out.append(path)
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _parse(path: str, root: str, mtime: int, size: int) -> Kustomization:
    directory = os.path.dirname(path)
    models = _models(path, root)
    model = models[0] if models else None
    if not isinstance(model, dict):
        return Kustomization(path, (), (), (), ())
    shown = os.path.relpath(path, root)
    resources = _local(model.get("resources"), directory, root) + _local(model.get("bases"), directory, root)
    components = _local(model.get("components"), directory, root)
    patches: list[Patch] = []
    files: list[str] = []

    def from_file(entry: str, target: object, json_only: bool) -> None:
        if _is_remote(entry):
            return
        file = os.path.normpath(os.path.join(directory, entry))
        files.append(file)
        label = os.path.relpath(file, root)
        key = stat_key(file, root)
        models = _models(file, root) if key is not None else None
        patches.append(_patch(label, target, models, json_only))

    def inline(text: str, n: int, target: object, json_only: bool, field: str) -> None:
        label = f"{field}[{n}] of {shown}"  # patches[2]: the second entry, counted from 1
        patches.append(_patch(label, target, _models(path, root, text), json_only))

    # kustomize's order: patchesStrategicMerge, then patches, then patchesJson6902
    for n, entry in enumerate(model.get("patchesStrategicMerge") or [], 1):
        if isinstance(entry, str) and ("\n" in entry or ":" in entry.split("/")[0]):
            inline(entry, n, None, False, "patchesStrategicMerge")
        elif isinstance(entry, str):
            from_file(entry, None, False)
    for field, json_only in (("patches", False), ("patchesJson6902", True)):
        for n, entry in enumerate(model.get(field) or [], 1):
            if not isinstance(entry, dict):
                continue
            target = entry.get("target")
            if isinstance(entry.get("path"), str):
                from_file(str(entry["path"]), target, json_only)
            elif isinstance(entry.get("patch"), str):
                inline(str(entry["patch"]), n, target, json_only, field)
    patches.extend(_rewrites(model, shown))
    return Kustomization(path, resources, components, tuple(patches), tuple(files), _adds(model))


def _adds(model: dict[str, object]) -> Seen:
    """What a kustomization does to every resource it builds that a later target can see."""
    def text(key: str) -> str:
        value = model.get(key)
        return value if isinstance(value, str) else ""

    def pairs(value: object) -> tuple[tuple[str, str], ...]:
        return tuple((str(k), str(v)) for k, v in value.items()) if isinstance(value, dict) else ()

    labels = pairs(model.get("commonLabels"))
    listed = model.get("labels")
    for entry in listed if isinstance(listed, list) else []:
        labels += pairs(entry.get("pairs")) if isinstance(entry, dict) else ()
    return Seen(text("namespace"), text("namePrefix"), text("nameSuffix"), labels,
                pairs(model.get("commonAnnotations")))


def _rewrites(model: dict[str, object], shown: str) -> list[Patch]:
    """``replacements`` that write into a pod spec, and ``transformers``, as patches dockfix
    cannot read: what they write is known only when kustomize runs (a value copied from a
    ConfigMap, a plugin's output), so the containers they select are uncertain."""
    out: list[Patch] = []
    replacements = model.get("replacements")
    for n, entry in enumerate(replacements if isinstance(replacements, list) else [], 1):
        label = f"replacements[{n}] of {shown}"
        targets = entry.get("targets") if isinstance(entry, dict) else None
        if not isinstance(targets, list):
            out.append(Patch(label, None, error="a replacement dockfix does not read (from a file)"))
            continue
        for target in targets:
            select = target.get("select") if isinstance(target, dict) else None
            paths = target.get("fieldPaths") if isinstance(target, dict) else None
            if not isinstance(paths, list) or any(
                    not isinstance(f, str) or "containers" in f or "volumes" in f
                    or "spec.template.spec".startswith(f) for f in paths):
                out.append(Patch(label, select if isinstance(select, dict) else None,
                                 error="it writes a value into the pod spec only when kustomize runs"))
    if model.get("transformers"):
        out.append(Patch(f"the transformers of {shown}", None, error="transformers (plugins) are not read"))
    return out


def _patch(label: str, target: object, models: list[object] | None, json_only: bool) -> Patch:
    """A patch from its parsed documents: one list is JSON 6902 ops, mappings are strategic-merge."""
    if target is not None and not isinstance(target, dict):
        return Patch(label, None, error="its target is not a mapping")
    if models is None:
        return Patch(label, target, error="it cannot be read")
    documents = tuple(m for m in models if m is not None)
    if len(documents) == 1 and isinstance(documents[0], list):
        return Patch(label, target, ops=tuple(documents[0]))
    if json_only or not documents or not all(isinstance(d, dict) for d in documents):
        return Patch(label, target, error="it is neither a JSON 6902 op list nor strategic-merge documents")
    return Patch(label, target, documents=documents)


# -- which kustomizations build a manifest -------------------------------------------------------


def _ancestors(path: str, root: str) -> list[str]:
    from rewriter.safefs import inside  # lazy: start-up

    out = []
    directory = os.path.dirname(os.path.abspath(path))
    while inside(directory, root):
        out.append(directory)
        parent = os.path.dirname(directory)
        if directory == root or parent == directory:
            break
        directory = parent
    return out


def in_kustomize(manifest_path: str) -> str:
    """The repository root when a kustomization is in the manifest's directory or above it (a
    kustomization's files are in or below its own directory: kustomize's load restrictor), else
    '': no kustomization can build the file or name it as a patch, and nothing is walked."""
    from rewriter.safefs import root_of_file  # lazy: start-up

    if manifest_path in ("", "-"):
        return ""
    root = root_of_file(manifest_path)
    for directory in _ancestors(manifest_path, root):
        deps.touch(directory)
        if kustomization_in(directory, root) is not None:
            return root
    return ""


def patch_of(manifest_path: str, kustomizations: tuple[Kustomization, ...]) -> str:
    """The kustomization that names this file as a patch, or ''."""
    target = os.path.abspath(manifest_path)
    return next((k.path for k in kustomizations if target in k.patch_files), "")


def chains(manifest_path: str, kustomizations: tuple[Kustomization, ...]) -> list[list[Kustomization]]:
    """Every build of the file: each path of kustomizations from one that names the file up to
    one that includes it (every kustomization on the way can be built on its own: ``overlays/prod``
    below ``overlays/canary``), in build order, innermost first; a component is on the path of
    the kustomization that includes it."""
    target = os.path.abspath(manifest_path)
    out: list[list[Kustomization]] = []

    def up(chain: list[Kustomization]) -> None:
        out.append(chain)
        here = chain[-1].directory
        if len(chain) >= MAX_CHAIN or len(out) >= MAX_BUILDS:
            return
        for k in kustomizations:
            if (here in k.resources or here in k.components) and k not in chain:
                up(chain + [k])

    for k in kustomizations:
        if target in k.resources:
            up([k])
    return out


def applied(chain: list[Kustomization], kustomizations: tuple[Kustomization, ...]) -> list[Patch]:
    """The patches a chain applies, in order: at each kustomization, those of its components
    (and theirs), then its own."""
    by_directory = {k.directory: k for k in kustomizations}
    out: list[Patch] = []

    def component(directory: str, seen: tuple[str, ...]) -> None:
        found = by_directory.get(directory)
        if found is None or directory in seen:
            return
        for inner in found.components:
            component(inner, seen + (directory,))
        out.extend(p.replace(seen=seen) for p in found.patches)

    seen = Seen()
    for k in chain:
        for directory in k.components:
            if not any(directory == other.directory for other in chain):  # the chain came through it
                component(directory, ())
        out.extend(p.replace(seen=seen) for p in k.patches)
        seen = seen.then(k)  # kustomize applies a kustomization's own after its patches
    return out


# -- what patches do to the containers of a base -----------------------------------------------------


def effects(patches: list[Patch], workloads: list[tuple[str, str, dict[str, object]]]) -> dict[Key, Effect]:
    """What ``patches``, applied in order, do to each container of ``workloads`` ((kind, name,
    the document's model) of each workload of the base)."""
    from rewriter.surfaces.kubernetes import POD_SPEC  # lazy: start-up

    out: dict[Key, Effect] = {}
    for kind, name, model in workloads:
        pod = _at(model, POD_SPEC[kind])
        lists = {key: _names(pod, key) for key in ("initContainers", "containers")}
        mine = {(list_key, n): out.setdefault((kind, name, n), Effect()) for list_key, names in lists.items()
                for n in names}
        workload = _Workload(kind, name, model, POD_SPEC[kind], lists, mine)
        for patch in patches:
            if patch.error:
                if patch.target is None or _selects(patch.target, kind, name, model, patch.seen) is not False:
                    workload.doubt_all(f"{patch.label}: {patch.error}")
                continue
            if patch.ops is not None:
                if patch.target is None:
                    workload.doubt_all(f"{patch.label}: a JSON 6902 patch without a target")
                    continue
                selected = _selects(patch.target, kind, name, model, patch.seen)
                if selected is None:
                    workload.doubt_all(f"{patch.label}: its target cannot be evaluated")
                elif selected:
                    workload.json6902(patch)
                continue
            for document in patch.documents:
                assert isinstance(document, dict)
                if patch.target is not None:
                    selected = _selects(patch.target, kind, name, model, patch.seen)
                    if selected is None:
                        workload.doubt_all(f"{patch.label}: its target cannot be evaluated")
                        continue
                else:
                    selected = document.get("kind") == kind and _at(document, ("metadata", "name")) in (
                        name, patch.seen.prefix + name + patch.seen.suffix)
                if selected:
                    workload.merge(document, patch.label)
    return out


def _at(node: object, keys: tuple[str, ...]) -> object:
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _names(pod: object, list_key: str) -> list[str]:
    items = _at(pod, (list_key,))
    return [str(item.get("name", "")) for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _selects(target: dict[str, object], kind: str, name: str, model: dict[str, object],
             seen: Seen) -> bool | None:
    """Whether a patch's target selects the workload; None when dockfix cannot tell (a selector
    it does not evaluate, a bad pattern). ``kind``, ``name`` and ``namespace`` are anchored
    regular expressions, as kustomize reads them; the name matches as written or with the inner
    kustomizations' prefixes and suffixes, the namespace is the one an inner kustomization set,
    else the resource's own, else ``default``, and labels and annotations include those the
    inner kustomizations add (:class:`Seen`)."""
    api = str(model.get("apiVersion", ""))
    group, _, version = api.rpartition("/")
    metadata = model.get("metadata") if isinstance(model.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    have = {"group": group, "version": version, "kind": kind, "name": name,
            "namespace": seen.namespace or str(metadata.get("namespace") or "") or "default"}
    names = (name, seen.prefix + name + seen.suffix)
    for field, value in target.items():
        if field in have:
            if not isinstance(value, str):
                return None
            if not value:
                continue
            try:
                if not any(re.fullmatch(value, v) for v in (names if field == "name" else (have[field],))):
                    return False
            except re.error:
                return None
        elif field in ("labelSelector", "annotationSelector"):
            key = "labels" if field == "labelSelector" else "annotations"
            own = metadata.get(key)
            added = seen.labels if key == "labels" else seen.annotations
            found = _selector(value, {**(own if isinstance(own, dict) else {}), **dict(added)})
            if found is not True:
                return found
        else:
            return None
    return True


def _selector(selector: object, labels: object) -> bool | None:
    """An equality-based selector (``app=api,tier!=db,canary``) against a resource's labels."""
    if not isinstance(selector, str):
        return None
    have = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        m = re.fullmatch(r"(!?)([A-Za-z0-9./_-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*))?", term)
        if m is None:
            return None  # set-based (`in`, `notin`): not evaluated
        negated, key, op, value = m.groups()
        if op is None:
            ok = (key in have) != bool(negated)
        elif negated:
            return None
        elif op == "!=":
            ok = have.get(key) != value
        else:
            ok = have.get(key) == value
        if not ok:
            return False
    return True


class _Workload:
    """One workload of the base while a chain's patches are applied to it."""

    def __init__(self, kind: str, name: str, model: dict[str, object], pod_path: tuple[str, ...],
                 lists: dict[str, list[str]], mine: dict[tuple[str, str], Effect]) -> None:
        self.kind = kind
        self.name = name
        self.model = model
        self.pod_path = pod_path
        self.lists = lists  # the base's container names by list, as indexes name them
        self.mine = mine
        # each list as the ops so far left it: a container's name (None: one the overlay added),
        # by list; a container's variable names or mount paths, by (list, container, what)
        self.current: dict[str, list[str | None]] = {key: list(names) for key, names in lists.items()}
        self.items: dict[tuple[str, str, str], list[str | None]] = {}

    def doubt_all(self, why: str) -> None:
        for effect in self.mine.values():
            effect.doubt(why)

    def _each(self, list_key: str | None = None) -> list[tuple[str, str, Effect]]:
        return [(lk, n, e) for (lk, n), e in self.mine.items() if list_key is None or lk == list_key]

    def decide_all(self, whats: tuple[str, ...], label: str, list_key: str | None = None) -> None:
        for _, _, effect in self._each(list_key):
            for what in whats:
                effect.decide(what, REPLACED, label)

    # -- strategic merge ---------------------------------------------------------------------------
    def merge(self, document: dict[str, object], label: str) -> None:
        node: object = document
        for key in self.pod_path:
            if not isinstance(node, dict):
                return
            if self._directive(node, label, key):
                return
            if key in node and node[key] is None:
                self.decide_all(tuple(FIELDS), label)  # deleted: whatever was there is gone
                return
            node = node.get(key)
        if not isinstance(node, dict):
            return
        if self._directive(node, label, ""):
            return
        volumes = node.get("volumes", ...)
        if volumes is None or (isinstance(volumes, list) and any(isinstance(v, dict) and v.get("$patch")
                                                                for v in volumes)):
            self.decide_all(("tmp",), label)  # the pod's volumes replaced: a /tmp volume added in the base goes
        for list_key in ("initContainers", "containers"):
            if list_key not in node:
                continue
            items = node[list_key]
            if items is None:
                self.decide_all(tuple(FIELDS), label, list_key)
                continue
            if not isinstance(items, list):
                self.doubt_list(list_key, f"{label}: '{list_key}' is not a list")
                continue
            current = self.current[list_key]
            if any(isinstance(i, dict) and i.get("$patch") == "replace" and "name" not in i for i in items):
                self.decide_all(tuple(FIELDS), label, list_key)  # the list replaced whole
                current[:] = []
            for item in items:
                if not isinstance(item, dict) or "name" not in item:
                    if not (isinstance(item, dict) and set(item) == {"$patch"}):
                        self.doubt_list(list_key, f"{label}: an item of '{list_key}' has no name")
                    continue
                name = str(item["name"])
                if item.get("$patch") == "delete":
                    current[:] = [n for n in current if n != name]
                elif name not in current:
                    current.append(None if (list_key, name) not in self.mine else name)  # merged in at the end
                effect = self.mine.get((list_key, name))
                if effect is not None:
                    _merge_container(item, effect, label)

    def _directive(self, node: dict[str, object], label: str, key: str) -> bool:
        """A ``$patch`` on a map above the containers: replace or delete decides everything."""
        directive = node.get("$patch")
        if directive is None:
            return False
        if directive in ("replace", "delete"):
            self.decide_all(tuple(FIELDS), label)
        else:
            self.doubt_all(f"{label}: '$patch: {directive}'")
        return True

    def doubt_list(self, list_key: str, why: str) -> None:
        for _, _, effect in self._each(list_key):
            effect.doubt(why)

    # -- JSON 6902 -----------------------------------------------------------------------------------
    def json6902(self, patch: Patch) -> None:
        """Each op in order, on the lists as the earlier ops left them: an index names the
        container (or variable, or mount) that is there at that point."""
        assert patch.ops is not None
        label = patch.label
        for op in patch.ops:
            if not isinstance(op, dict) or not isinstance(op.get("op"), str) or not isinstance(op.get("path"), str):
                self.doubt_all(f"{label}: an op without 'op' and 'path'")
                continue
            kind, pointer = str(op["op"]), str(op["path"])
            if kind == "test":
                continue
            if kind not in ("add", "remove", "replace", "move", "copy"):
                self.doubt_all(f"{label}: op '{kind}'")
                continue
            path = _tokens(pointer)
            source = _tokens(op["from"]) if kind in ("move", "copy") and isinstance(op.get("from"), str) else []
            if path is None or source is None or (kind in ("move", "copy") and not source):
                self.doubt_all(f"{label}: '{kind}' at '{pointer}'")
                continue
            if kind == "move" and self._reorder(source, path):
                continue
            if kind == "move":
                self._apply("remove", source, UNKNOWN, label, pointer)
            self._apply("add" if kind in ("move", "copy") else kind, path,
                        UNKNOWN if kind in ("move", "copy") else op.get("value", UNKNOWN), label, pointer)

    def _below_pod(self, tokens: list[str]) -> list[str] | None:
        """``tokens`` below the pod spec; [] for the pod spec or above it; None elsewhere."""
        pod = list(self.pod_path)
        if tokens[:len(pod)] != pod[:len(tokens)]:
            return None
        return tokens[len(pod):] if len(tokens) > len(pod) else []

    def _reorder(self, source: list[str], path: list[str]) -> bool:
        """A move within one list (containers, or one container's env or mounts): the items are
        the same, in another order; the lists tracked follow it."""
        a, b = self._below_pod(source), self._below_pod(path)
        if not a or not b or a[:-1] != b[:-1] or not (a[-1].isdigit() and (b[-1].isdigit() or b[-1] == "-")):
            return False
        if len(a) == 2 and a[0] in self.current:
            items: list[str | None] | None = self.current[a[0]]
        elif len(a) == 4 and a[0] in self.current and a[1].isdigit() and a[2] in ("env", "volumeMounts"):
            items = self._items(a[0], int(a[1]), "env" if a[2] == "env" else "tmp")
        else:
            return False
        position = int(a[-1])
        if items is None or position >= len(items):
            return False
        moved = items.pop(position)
        items.insert(len(items) if b[-1] == "-" else min(int(b[-1]), len(items)), moved)
        return True

    def _items(self, head: str, position: int, what: str) -> list[str | None] | None:
        """The names (env) or mount paths (volumeMounts) of the container now at ``position``."""
        names = self.current[head]
        name = names[position] if position < len(names) else None
        if name is None:
            return None
        key = (head, name, what)
        if key not in self.items:
            base = _at(self.model, self.pod_path + (head,))
            listed = [i for i in base if isinstance(i, dict) and i.get("name") == name] if isinstance(base, list) else []
            entries = _at(listed[0], FIELDS[what]) if listed else None
            field = "name" if what == "env" else "mountPath"
            self.items[key] = [str(e.get(field)) if isinstance(e, dict) else None
                               for e in (entries if isinstance(entries, list) else [])]
        return self.items[key]

    def _apply(self, kind: str, tokens: list[str], value: object, label: str, pointer: str) -> None:
        """One add, remove or replace (a move is a remove and an add, a copy an add of a value
        not read here)."""
        rest = self._below_pod(tokens)
        if rest is None:
            return  # elsewhere in the resource (metadata, replicas)
        if not rest:
            self.decide_all(tuple(FIELDS), label)  # the pod spec, or above it, whole
            self.current = {key: [] for key in self.current}
            return
        head = rest[0]
        if head == "volumes":
            if not (kind == "add" and rest[1:] == ["-"]):
                self.decide_all(("tmp",), label)  # a volume the base's /tmp mount needs may go
            return
        if head not in self.current:
            return
        names = self.current[head]
        if len(rest) == 1:  # the whole list
            self.decide_all(tuple(FIELDS), label, head)
            self.current[head] = []
            return
        index = rest[1]
        if index == "-" and kind == "add" and len(rest) == 2:
            names.append(None)  # a container the overlay adds
            return
        if not index.isdigit() or int(index) > len(names) or (int(index) == len(names) and
                                                               (kind != "add" or len(rest) > 2)):
            self.doubt_list(head, f"{label}: '{pointer}' (no such item in the base's '{head}')")
            return
        position = int(index)
        if len(rest) == 2:
            if kind == "add":
                names.insert(position, None)
                return
            name = names.pop(position) if kind == "remove" else names[position]
            if name is not None:
                effect = self.mine[(head, name)]
                for what, path in FIELDS.items():
                    effect.decide(what, None if kind == "remove" else _dig(value, path), label)
            return
        name = names[position]
        if name is not None:
            self._container_op(kind, head, position, rest[2:], value, self.mine[(head, name)], label, pointer)

    def _container_op(self, kind: str, head: str, position: int, field: list[str], value: object,
                      effect: Effect, label: str, pointer: str) -> None:
        """One op at ``field`` inside one container of the base."""
        for what, path in FIELDS.items():
            size = min(len(field), len(path))
            if tuple(field[:size]) != path[:size]:
                continue
            if len(field) <= len(path):  # the field, or a map above it, set or removed whole
                effect.decide(what, None if kind == "remove" else _dig(value, path[len(field):]), label)
                if what in ("env", "tmp"):  # the list is now the op's (or gone)
                    field_key = "name" if what == "env" else "mountPath"
                    listed = _dig(value, path[len(field):]) if kind != "remove" else None
                    self.items[(head, str(self.current[head][position]), what)] = [
                        str(i.get(field_key)) if isinstance(i, dict) else None
                        for i in (listed if isinstance(listed, list) else [])]
                continue
            if what in ("memory", "cpu"):
                effect.doubt(f"{label}: '{pointer}' is inside a quantity")
                return
            items = self._items(head, position, what)
            assert items is not None
            _item_op(what, kind, field[len(path):], value, items, effect, label, pointer)
            return


def _tokens(pointer: str) -> list[str] | None:
    """A JSON pointer's reference tokens (RFC 6901: ``~1`` is ``/``, ``~0`` is ``~``); None if
    it is not one."""
    if pointer and not pointer.startswith("/"):
        return None
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]] if pointer else []


def _dig(value: object, keys: tuple[str, ...]) -> object:
    """The value at ``keys`` inside an op's value (None when it is not there: the op deletes it)."""
    if value is UNKNOWN:
        return REPLACED
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _item_op(what: str, kind: str, rest: list[str], value: object, items: list[str | None], effect: Effect,
             label: str, pointer: str) -> None:
    """An op on an item of ``env`` or ``volumeMounts`` (``items``: their names or mount paths as
    the earlier ops left them): it decides when the item is, or becomes, a Go variable or the
    /tmp mount."""
    key, wanted = ("name", GO_VARIABLES) if what == "env" else ("mountPath", (TMP, TMP + "/"))
    index = rest[0]
    if len(rest) == 1 and kind in ("add", "replace"):
        if value is UNKNOWN or not isinstance(value, dict):
            effect.doubt(f"{label}: '{pointer}' (an item not read here)")
            return
        becomes = str(value.get(key))
    else:
        becomes = None
    if index == "-" and kind == "add" and len(rest) == 1:
        items.append(becomes)
        if becomes in wanted:
            effect.decide(what, REPLACED, label)
        return
    if not index.isdigit() or int(index) > len(items) or (int(index) == len(items) and
                                                           (kind != "add" or len(rest) > 1)):
        effect.doubt(f"{label}: '{pointer}' (no such item)")
        return
    position = int(index)
    if len(rest) == 1:
        was = None if kind == "add" else items[position]
        if kind == "add":
            items.insert(position, becomes)
        elif kind == "remove":
            items.pop(position)
        else:
            items[position] = becomes
    else:
        was = items[position]
        if rest[1:] == [key]:
            if value is UNKNOWN:
                effect.doubt(f"{label}: '{pointer}' (a {key} not read here)")
                return
            becomes = str(value) if kind != "remove" else None
            items[position] = becomes
    if was in wanted or becomes in wanted:
        effect.decide(what, REPLACED, label)


def _merge_container(item: dict[str, object], effect: Effect, label: str) -> None:
    """A strategic-merge patch's entry for one container."""
    if item.get("$patch") in ("replace", "delete"):
        for what in FIELDS:
            effect.decide(what, _at(item, FIELDS[what]) if what in ("memory", "cpu") else REPLACED, label)
        return
    resources = item.get("resources", ...)
    limits = resources.get("limits", ...) if isinstance(resources, dict) else ...
    for what in ("memory", "cpu"):
        if resources is None or limits is None:
            effect.decide(what, None, label)
        elif isinstance(resources, dict) and "$patch" in resources or isinstance(limits, dict) and "$patch" in limits:
            effect.decide(what, REPLACED, label)
        elif isinstance(limits, dict) and what in limits:
            effect.decide(what, limits[what], label)
    for what, key, wanted in (("env", "name", GO_VARIABLES), ("tmp", "mountPath", (TMP, TMP + "/"))):
        field = FIELDS[what][0]
        if field not in item:
            continue
        items = item[field]
        if items is None or (isinstance(items, list) and any(
                isinstance(i, dict) and (i.get(key) in wanted or i.get("$patch") == "replace") for i in items)):
            effect.decide(what, REPLACED, label)
        elif not isinstance(items, list):
            effect.doubt(f"{label}: '{field}' is not a list")


__all__ = ["Effect", "Kustomization", "Patch", "applied", "chains", "effects", "in_kustomize", "index",
           "kustomization_in", "patch_of"]
