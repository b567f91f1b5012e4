"""kubernetes: what a Kubernetes manifest cannot say, and the mistakes only its units allow.

DF801 helm-template
    The file is a Helm template (Helm's objects or functions in ``{{ }}``: ``.Values``,
    ``.Release``, ``include``, ``toYaml``...; or ``{{`` where a plain value starts, or a file with
    ``{{`` that does not parse): it is not YAML until Helm renders it, so it is not checked.
    ``{{ $labels.instance }}`` inside a quoted string of a rendered manifest (an alert rule) is
    not a template. Check the rendered manifests instead::

        helm template RELEASE CHART | dockfix apply - --file-type kubernetes

DF802 node-level-limits
    A pod spec has no ``nofile`` ulimit and no pids limit per container (kubernetes/kubernetes
    #3595; ``securityContext.ulimits``, KEP-5758, has not shipped). Both are the node's: the open
    files limit is the container runtime's (containerd's or CRI-O's default ulimits, and the
    ``LimitNOFILE`` of its systemd unit), the pids limit is the kubelet's ``podPidsLimit``. One
    note per file says so, in place of DF201 and DF401 on every container, naming only the
    settings the profile asks for (the dev profile sets no pids limit: its note is about nofile
    alone); a profile that asks for neither gets no note.

DF803 gomemlimit-from-resource-field
    ``GOMEMLIMIT`` comes from ``valueFrom: resourceFieldRef: {resource: limits.memory}``. The
    downward API gives the whole limit in bytes (it cannot apply a fraction,
    kubernetes/kubernetes #91514): the garbage collector gets no headroom, and a memory-backed
    ``/tmp`` (whose pages count against the limit) is not taken out. With a ``divisor`` such as
    ``1Mi`` the value is ``512``, which Go reads as 512 bytes; without a memory limit it is the
    node's allocatable memory. Reported with the literal dockfix would write
    (``GOMEMLIMIT = 0.9 x (limit - memory-backed /tmp)``, as DF501); replace it by hand.

DF804 memory-quantity-milli
    A memory quantity written with Docker's units: ``memory: 512m`` is 0.512 bytes to
    Kubernetes (``m`` is milli), which the API server accepts and the container cannot start
    with. The fix writes the amount Docker meant, ``512Mi``; ``k`` and ``g`` are corrected the
    same way where Kubernetes would read them differently (``1g`` is not a quantity at all).
    Applies to ``resources.limits.memory``, ``resources.requests.memory`` and an emptyDir's
    ``sizeLimit``.

DF805 kustomize-patch
    The file is a kustomize patch (``patchesStrategicMerge``, ``patches`` or ``patchesJson6902``
    with a ``path``, in a kustomization of the repository). A value in a patch
    overrides the base's, so nothing is added to it: fixes go into the base it patches. The other
    way round, a base manifest leaves a rule family to an overlay that patches it
    (``overlays/prod/kustomization.yaml`` with ``resources: [../../base]``): a memory limit in
    the overlay's patch decides the memory and GOMEMLIMIT rules (DF3xx, DF5xx), a CPU limit or
    ``GOMEMLIMIT``/``GOMAXPROCS`` the Go rules, a mount on ``/tmp`` (or the pod's volumes) the
    tmpfs rules (DF1xx). Every form of patch is read as kustomize applies it: strategic-merge
    files and inline strings (``patchesStrategicMerge``, ``patches``, with or without a
    ``target``), JSON 6902 op lists in YAML or JSON (``patches`` with a ``target``, the older
    ``patchesJson6902``), and the patches of ``components``; a JSON 6902 ``replace`` of
    ``/spec/template/spec/containers/0/resources/limits/memory`` is that container's limit in the
    overlay, and ``remove`` takes it away there. The kustomizations are found anywhere in the
    repository that builds the file through ``resources``, ``bases`` and ``components``.
    A container an overlay patches in a way that cannot be read for certain (a ``move`` or
    ``copy`` onto it, an index after an op that shifted the list, a target selector dockfix does
    not evaluate, a patch that cannot be read) gets this note and no fix, rather than a guess.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from rewriter.model import Container, Report, Severity
from rewriter.settings import env
from transforms.base import Context, Rule, report

HELM = Rule("DF801", "helm-template", "a Helm template: check its rendered output", Severity.INFO, __name__)
NODE_LIMITS = Rule("DF802", "node-level-limits", "nofile and pids limits are the node's in Kubernetes",
                   Severity.INFO, __name__)
FIELD_REF = Rule("DF803", "gomemlimit-from-resource-field",
                 "GOMEMLIMIT is the whole memory limit (resourceFieldRef): no headroom", Severity.WARNING, __name__)
MILLI = Rule("DF804", "memory-quantity-milli", "memory quantity in Docker units (512m is 0.512 bytes)",
             Severity.ERROR, __name__)
PATCH = Rule("DF805", "kustomize-patch", "a kustomize patch: fixes go into its base", Severity.INFO, __name__)
RULES = (HELM, NODE_LIMITS, FIELD_REF, MILLI, PATCH)

# Docker's units as people write them by mistake in a manifest: 512m, 512M is fine (10^6), 1g.
_DOCKER_SPELLING = functools.cache(lambda: re.compile(r"^([0-9]+)\s*([mgk])b?$"))  # first use: manifests only
_MEANT = {"k": "Ki", "m": "Mi", "g": "Gi"}


def check(container: Container, ctx: Context) -> Iterator[Report]:
    if ctx.kind != "kubernetes":
        return
    patch_of = container.patch_of
    if patch_of:
        if ctx.containers and ctx.containers[0] is container:
            yield report(container, PATCH, f"this file is a kustomize patch (named in {patch_of}): nothing is "
                         f"added to it, because a value in a patch overrides the base's; the base gets the fixes",
                         None, None, "")
        return
    uncertain = container.uncertain
    if uncertain:
        yield report(container, PATCH, f"a kustomize overlay patches it in a way dockfix cannot read for certain "
                     f"({uncertain}): nothing is fixed on this container, rather than a guess at what the "
                     f"overlay makes of it", None, None, "")
    yield from _node_limits(container, ctx)
    yield from _milli(container)
    yield from _field_ref(container, ctx)


def _node_limits(container: Container, ctx: Context) -> Iterator[Report]:
    """DF802, once per file: on its first container."""
    if not ctx.containers or ctx.containers[0] is not container:
        return
    from transforms.pids import PIDS_LIMIT  # lazy: start-up
    from transforms.ulimits import NOFILE  # lazy: start-up

    wanted = [(f"{name} {value}", where) for name, value, where in (
        ("nofile", ctx.profile.get(NOFILE), _WHERE["nofile"]), ("pids", ctx.profile.get(PIDS_LIMIT), _WHERE["pids"]))
        if value is not None]
    if not wanted:
        return
    they = "it is" if len(wanted) == 1 else "they are"
    yield report(
        container, NODE_LIMITS,
        f"{ctx.profile.described} asks for {' and '.join(w for w, _ in wanted)}, which a pod spec cannot set "
        f"per container; for every container of this file {they} the node's: {', '.join(w for _, w in wanted)}",
        None, None, "")


# Where each node-level setting lives, for DF802 (only those the profile asks for are named).
_WHERE = {"nofile": "the open files limit is the container runtime's (containerd's or CRI-O's default ulimits, "
                    "LimitNOFILE of its systemd unit)",
          "pids": "the pids limit is the kubelet's podPidsLimit"}


def _milli(container: Container) -> Iterator[Report]:
    for setting in container.memory_quantities():
        written = str(setting.value)
        m = _DOCKER_SPELLING().match(written) if isinstance(setting.value, str) else None
        if m is None or (m.group(2) == "k" and not written.endswith("b")):
            continue  # 512k is 512,000 bytes to Kubernetes: close enough to what was meant
        number, unit = m.group(1), m.group(2)
        meant = f"{number}{_MEANT[unit]}"
        reading = f"{int(number) / 1000:g} bytes ('m' is milli)" if unit == "m" and not written.endswith("b") \
            else "not a quantity (the API server refuses it)"
        yield report(
            container, MILLI,
            f"{setting.described()} is {reading} to Kubernetes; in Docker's units, where it comes from, "
            f"'{written}' is {meant}",
            setting.span, functools.partial(container.set_quantity, setting, meant),
            f"write {meant}")


def _field_ref(container: Container, ctx: Context) -> Iterator[Report]:
    current = container.get(env("GOMEMLIMIT"))
    if current is None or current.value is not None or "resourceFieldRef" not in current.origin:
        return
    if not ctx.go_info(container).is_go:
        return
    from transforms.gomem import RATIO, gomemlimit_value  # lazy: start-up
    from transforms.plan import planned  # lazy: start-up

    state = planned(container, ctx)
    budget = state.budget
    divisor = ", and its divisor makes Go read the number as bytes" if "divisor" in current.origin else ""
    if budget is None:
        tail = "; without a memory limit it is the node's allocatable memory"
    else:
        tmpfs, tmpfs_from = state.tmpfs, state.tmpfs_from
        ratio = ctx.profile.get(RATIO)
        value = gomemlimit_value(budget[0], tmpfs, ratio)
        minus = f" - {tmpfs_from}" if tmpfs.bytes else ""
        tail = (f"; write the literal instead: GOMEMLIMIT = {ratio:g} x ({budget[1]}{minus}) "
                f"= {value.gomemlimit()}") if value is not None else ""
    yield report(
        container, FIELD_REF,
        f"GOMEMLIMIT from {current.origin} is the whole memory limit{divisor}: the garbage collector gets no "
        f"headroom, and the memory-backed /tmp (whose pages count against the limit) is not taken out{tail}",
        current.span, None, "")
