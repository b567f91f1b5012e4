"""The record every workload detector returns, and the image-name helpers they share.

A leaf below the detector modules, so that ``rewriter.detectors`` (the dispatch) can import them
on use without an import cycle.
"""

from __future__ import annotations

from rewriter.record import Record
from rewriter.sizes import ByteSize

JVM_RATIO = 0.75  # a JVM's heap at most 75 % of the limit: metaspace, threads, buffers come on top
SEARCH_RATIO = 0.5  # Elastic: Xms/Xmx no more than 50 % of the memory available
LIMIT_STEP = 64 * 1024 * 1024  # derived limits are rounded up to a whole 64m


class Inputs(Record):
    """What a detector reads: the container as written, plus the image its build produces."""

    __slots__ = ("image", "env", "command", "bases", "image_env", "file_env")

    def __init__(self, image: str | None, env: dict[str, str | None], command: tuple[str, ...],
                 bases: tuple[tuple[str, str], ...] = (),
                 image_env: tuple[tuple[str, str, str], ...] = (),
                 file_env: tuple[tuple[str, str, str], ...] = ()) -> None:
        self.image = image  # "docker.elastic.co/elasticsearch/elasticsearch:8.11.1"
        self.env = env  # environment as the container sets it (None: taken from the host)
        self.command = command  # entrypoint and command words, as written
        self.bases = bases  # (FROM image, "Dockerfile:1") of the stages the image is made of
        self.image_env = image_env  # (name, value, "Dockerfile:4") ENV lines of those stages
        self.file_env = file_env  # (name, value, "env_file app.env") the service's env files, in order

    def variable(self, name: str) -> tuple[str, str] | None:
        """A variable's value and where it is set: the container's environment wins over ``ENV``."""
        value = self.env.get(name)
        if value is not None:
            return value, f"environment {name}"
        if name not in self.env:  # a bare ``- NAME`` in environment takes the host's, over env_file
            for key, text, where in reversed(self.file_env):  # the last env file wins
                if key == name:
                    return text, f"{where} ({name})"
        for key, text, where in reversed(self.image_env):
            if key == name:
                return text, f"ENV {name} ({where})"
        return None


class WorkloadFacts(Record):
    """What a detector found; an unknown workload is ``WorkloadFacts()`` (kind "")."""

    __slots__ = ("kind", "evidence", "heavy", "heap", "heap_source", "heap_ratio", "ratio_source",
                 "heap_is_floor", "ram_percentage", "native_tmp", "tmp_agent", "threads", "connections",
                 "connections_source", "upload", "upload_source", "scratch_tmp", "scratch_effect", "floor_note")

    def __init__(self, kind: str = "", evidence: str = "", heavy: str = "", heap: ByteSize | None = None,
                 heap_source: str = "", heap_ratio: float = JVM_RATIO, ratio_source: str = "",
                 heap_is_floor: bool = False, ram_percentage: tuple[float, str] | None = None,
                 native_tmp: str = "", tmp_agent: str = "", threads: str = "",
                 connections: int | None = None, connections_source: str = "",
                 upload: ByteSize | None = None, upload_source: str = "", scratch_tmp: str = "",
                 scratch_effect: str = "", floor_note: str = "") -> None:
        self.kind = kind  # "jvm", "elasticsearch", "kafka", "node", "redis", "php", "postgres", ...
        self.evidence = evidence  # why: "image elasticsearch:8.11.1"
        self.heavy = heavy  # "a search engine": needs depend on data, a built-in limit is a guess
        self.heap = heap  # the memory the program is told it may use (heap, maxmemory, buffer pool)
        self.heap_source = heap_source  # "-Xmx1g in environment ES_JAVA_OPTS"
        self.heap_ratio = heap_ratio  # the largest share of the limit ``heap`` may take
        self.ratio_source = ratio_source  # why that share
        self.heap_is_floor = heap_is_floor  # ``heap`` is per worker: a limit from it is only a floor
        self.ram_percentage = ram_percentage  # (-XX:MaxRAMPercentage, where)
        self.native_tmp = native_tmp  # why /tmp must allow exec ("" when it need not)
        self.tmp_agent = tmp_agent  # a -javaagent in /tmp: leave /tmp alone
        self.threads = threads  # why the process count is unknown and high ("" when it is not)
        self.connections = connections  # processes or threads per client (max_connections)
        self.connections_source = connections_source
        self.upload = upload  # the largest upload the app accepts (it is written to /tmp first)
        self.upload_source = upload_source
        self.scratch_tmp = scratch_tmp  # why the program's scratch files in /tmp grow with its data
        self.scratch_effect = scratch_effect  # what a small tmpfs there does, and what to do instead
        self.floor_note = floor_note  # why ``heap`` is only a floor ("" for the usual: per worker, a share)

    @property
    def known(self) -> bool:
        return bool(self.kind)

    def heap_text(self) -> str:
        """``-Xmx1g in environment ES_JAVA_OPTS`` (the heap and where it is set)."""
        return self.heap_source

    def needed_limit(self) -> ByteSize | None:
        """The smallest limit that leaves the heap its documented share: heap / ratio, rounded up
        to a whole 64m (``-Xmx1g`` for a JVM: 1g / 0.75 = 1366m, written as 1408m)."""
        if self.heap is None:
            return None
        need = -(-self.heap.bytes * 100 // round(self.heap_ratio * 100))  # ceil without floats
        return ByteSize(-(-need // LIMIT_STEP) * LIMIT_STEP)


UNKNOWN = WorkloadFacts()


def repository_name(image: str) -> str:
    """The last path component of an image's repository, lower case, without tag or digest:
    ``docker.elastic.co/elasticsearch/elasticsearch:8.11.1@sha256:...`` -> ``elasticsearch``."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def image_repository(image: str) -> str:
    """An image reference without tag or digest: ``ghcr.io/acme/web:1.4`` -> ``ghcr.io/acme/web``."""
    ref = image.split("@", 1)[0]
    slash, colon = ref.rfind("/"), ref.rfind(":")
    return ref[:colon] if colon > slash else ref


def may_link(image: str, siblings: tuple[tuple[str, str | None, object], ...]) -> bool:
    """Whether rewriter/detectors/image.py could link ``image`` to a Dockerfile: cheap, so that a
    file of official images (``nginx:1.27``) never loads it. See ``image.link_image``."""
    if not image or "$" in image:
        return False
    repo = image_repository(image)
    return "/" in repo or any(spec is not None and other is not None and image_repository(other) == repo
                              for _, other, spec in siblings)
