"""JVM workloads: heap flags, the images' documented default heaps, native code in /tmp.

Read, in the order the JVM and the images' start scripts apply them (the last flag wins):
``JAVA_TOOL_OPTIONS``, ``JDK_JAVA_OPTIONS``, ``JAVA_OPTS``, ``CATALINA_OPTS``, the image's own
variable (``ES_JAVA_OPTS``, ``OPENSEARCH_JAVA_OPTS``, ``LS_JAVA_OPTS``, ``KAFKA_HEAP_OPTS``,
``SERVER_JVMFLAGS``), then the command. From them: ``-Xmx``/``-Xms``/``-XX:MaxHeapSize`` (the heap
is the larger of the maximum and the initial size), ``-XX:MaxRAMPercentage``, ``-javaagent:`` and
``-Djava.io.tmpdir``.

Without a heap flag, the images' documented defaults are evidence too:

============================  ===========  ==============================================
image                         heap         source
============================  ===========  ==============================================
kafka, cp-kafka, cp-server    1G           Apache Kafka ``bin/kafka-server-start.sh``
cp-zookeeper                  512M         Apache Kafka ``bin/zookeeper-server-start.sh``
zookeeper                     1000m        ZooKeeper ``bin/zkEnv.sh`` (``ZK_SERVER_HEAP``)
logstash                      1g           Logstash ``config/jvm.options``
opensearch                    1g           OpenSearch ``config/jvm.options``
elasticsearch before 7.11     1g           Elasticsearch ``config/jvm.options``
============================  ===========  ==============================================

Elasticsearch 7.11 and later size the heap from the container's limit (50 %), and any other JVM
takes 25 % of it (``MaxRAMPercentage``), so a limit never starves their heap; what they need is
still unknown, which makes a built-in limit a guess. Elasticsearch and OpenSearch keep their heap
at or below 50 % of the memory (Elastic, "Setting the heap size"), and so does Logstash (its
direct memory may grow to the heap's size); any other JVM at or below 75 % (metaspace, code
cache, thread stacks and direct buffers come on top).
"""

from __future__ import annotations

import functools
import re

from rewriter.detectors.facts import SEARCH_RATIO, Inputs, WorkloadFacts, repository_name
from rewriter.sizes import ByteSize

_FLAG = functools.cache(lambda: re.compile(
    r"(?<![\w-])-(?:(?P<x>Xm[xs])(?P<xsize>\d+[kKmMgGtT]?)|XX:MaxHeapSize=(?P<mhs>\d+[kKmMgGtT]?)"
    r"|XX:MaxRAMPercentage=(?P<pct>\d+(?:\.\d+)?)|javaagent:(?P<agent>[^\s=\"']+)"
    r"|Djava\.io\.tmpdir=(?P<tmpdir>[^\s\"']+))"))
_JVM_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}

NATIVE = ("its native libraries (JNA, netty, snappy-java, RocksDB, sqlite-jdbc) are extracted to "
          "java.io.tmpdir (/tmp) and loaded from there, which a noexec tmpfs forbids")
THREADS = ("a JVM runs dozens of threads (GC, JIT compiler, pools) and each counts against a pids "
           "limit, so what it needs depends on the application")


class _Family:
    __slots__ = ("kind", "heavy", "variable", "default", "default_source", "ratio", "native", "ratio_source")

    def __init__(self, kind: str, heavy: str, variable: str = "", default: str = "", default_source: str = "",
                 ratio: float = 0.75, native: str = NATIVE, ratio_source: str = "") -> None:
        self.kind = kind
        self.heavy = heavy
        self.variable = variable
        self.default = default
        self.default_source = default_source
        self.ratio = ratio
        self.native = native
        self.ratio_source = ratio_source


_ES_NATIVE = ("Elasticsearch extracts JNA's native code into its temp dir under /tmp and maps it "
              "executable (Elastic: \"Ensure JNA temporary directory permits executables\")")
_KAFKA_NATIVE = ("Kafka's compression libraries (snappy-java, zstd-jni) extract native code to "
                 "java.io.tmpdir (/tmp) and load it from there, which a noexec tmpfs forbids")
_BROKER = "a message broker (a JVM)"
# Logstash's inputs (beats, tcp, http) buffer in direct memory through netty, which the JVM lets
# grow to the heap's size when MaxDirectMemorySize is unset (Logstash docs, "JVM settings":
# the memory a Logstash JVM uses is its heap plus off-heap direct memory), and JRuby's metaspace
# comes on top: heap / 75 % (-Xmx512m in 704m) leaves neither room.
_LOGSTASH_RATIO = ("Logstash's off-heap direct memory may grow to the heap's size (MaxDirectMemorySize "
                   "defaults to -Xmx), so the heap gets at most half")


def _family(name: str, tag: str) -> _Family:
    if name == "elasticsearch":
        version = _version(tag)
        old = version is not None and version < (7, 11)
        return _Family("elasticsearch", "a search engine (a JVM)", "ES_JAVA_OPTS",
                       "1g" if old else "", "Elasticsearch's config/jvm.options before 7.11",
                       SEARCH_RATIO, _ES_NATIVE)
    if name == "opensearch":
        return _Family("opensearch", "a search engine (a JVM)", "OPENSEARCH_JAVA_OPTS", "1g",
                       "OpenSearch's config/jvm.options", SEARCH_RATIO, _ES_NATIVE)
    if name == "logstash":
        return _Family("logstash", "a log pipeline (a JVM)", "LS_JAVA_OPTS", "1g", "Logstash's config/jvm.options",
                       SEARCH_RATIO, ratio_source=_LOGSTASH_RATIO)
    if name in ("kafka", "cp-kafka", "cp-server"):
        return _Family("kafka", _BROKER, "KAFKA_HEAP_OPTS", "1g",
                       "Apache Kafka's bin/kafka-server-start.sh when KAFKA_HEAP_OPTS is unset",
                       native=_KAFKA_NATIVE)
    if name == "cp-zookeeper":
        return _Family("zookeeper", "a coordination service (a JVM)", "KAFKA_HEAP_OPTS", "512m",
                       "Apache Kafka's bin/zookeeper-server-start.sh when KAFKA_HEAP_OPTS is unset")
    if name == "zookeeper":
        return _Family("zookeeper", "a coordination service (a JVM)", "SERVER_JVMFLAGS", "1000m",
                       "ZooKeeper's bin/zkEnv.sh (ZK_SERVER_HEAP)")
    if name == "minecraft-server":
        return _Family("jvm", "a game server (a JVM)", "MEMORY", "1g",
                       "itzg/minecraft-server's MEMORY default, its -Xms and -Xmx")
    return _Family("jvm", "a JVM application, whose heap defaults to a quarter of the limit")


def _version(tag: str) -> tuple[int, int] | None:
    m = re.match(r"v?(\d+)\.(\d+)", tag)
    return (int(m.group(1)), int(m.group(2))) if m else None


def jvm_size(text: str) -> ByteSize | None:
    """A JVM size (``-Xmx`` argument): a number with an optional k, m, g or t (binary)."""
    m = re.fullmatch(r"(\d+)([kKmMgGtT]?)", text)
    return ByteSize(int(m.group(1)) * _JVM_UNITS[m.group(2).lower()]) if m else None


def detect(inputs: Inputs, evidence: str) -> WorkloadFacts:
    family = _family("", "")
    for image in ([inputs.image] if inputs.image else []) + [base for base, _ in inputs.bases]:
        tag = image.split("@", 1)[0].rsplit("/", 1)[-1].partition(":")[2]
        family = _family(repository_name(image), tag)
        if family.kind != "jvm":
            break  # the image, or the first base, that is a known product
    sources: list[tuple[str, str]] = []
    for variable in ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTS", "CATALINA_OPTS", "ES_JAVA_OPTS",
                     "OPENSEARCH_JAVA_OPTS", "LS_JAVA_OPTS", "KAFKA_HEAP_OPTS", "SERVER_JVMFLAGS", "JVMFLAGS"):
        found = inputs.variable(variable)
        if found is not None:
            sources.append((found[0], f"in {found[1]}"))
    for word in inputs.command:
        sources.append((word, "in the command"))
    heap: tuple[ByteSize, str] | None = None
    initial: tuple[ByteSize, str] | None = None
    percentage: tuple[float, str] | None = None
    agent = tmpdir = ""
    for text, where in sources:
        if "-" not in text:
            continue
        for m in _FLAG().finditer(text):
            if m.group("x") or m.group("mhs"):
                size = jvm_size(m.group("xsize") or m.group("mhs"))
                if size is not None:
                    found_flag = (size, f"{m.group(0)} {where}")
                    if m.group("x") == "Xms":
                        initial = found_flag
                    else:
                        heap = found_flag
            elif m.group("pct"):
                percentage = (float(m.group("pct")), f"{m.group(0)} {where}")
            elif m.group("agent"):
                if m.group("agent").startswith("/tmp/"):
                    agent = f"{m.group(0)} {where}"
            elif m.group("tmpdir"):
                tmpdir = m.group("tmpdir")
    for variable in ("MEMORY", "MAX_MEMORY") if family.variable == "MEMORY" else ():
        found = inputs.variable(variable)  # itzg/minecraft-server: -Xmx from MAX_MEMORY, else MEMORY
        size = jvm_size(found[0].strip()) if found is not None else None
        if found is not None and size is not None and not any(w.startswith("-Xmx") for w, _ in sources):
            heap = (size, f"{variable}={found[0].strip()} in {found[1]}")
    if initial is not None and (heap is None or initial[0] > heap[0]):
        heap = initial  # the JVM starts with the initial heap even when -Xmx is smaller or unset
    if heap is None and family.default and inputs.variable(family.variable) is None:
        size = jvm_size(family.default.rstrip("bB"))
        if size is not None:
            heap = (size, f"the image's default heap of {family.default} ({family.default_source})")
    es_tmpdir = inputs.variable("ES_TMPDIR") if family.kind == "elasticsearch" else None
    native = family.native
    if (tmpdir and not _under_tmp(tmpdir)) or (es_tmpdir is not None and not _under_tmp(es_tmpdir[0])):
        native = ""  # the temp dir is elsewhere: /tmp may stay noexec
    ratio_source = family.ratio_source or (
        "Elastic: at most 50 % of the memory for the heap" if family.ratio == SEARCH_RATIO
        else "a JVM needs room beyond the heap for metaspace, code cache, threads and buffers")
    return WorkloadFacts(
        kind=family.kind, evidence=evidence, heavy=family.heavy,
        heap=heap[0] if heap else None, heap_source=heap[1] if heap else "",
        heap_ratio=family.ratio, ratio_source=ratio_source, ram_percentage=percentage,
        native_tmp=native, tmp_agent=agent, threads=THREADS)


def _under_tmp(path: str) -> bool:
    return path.rstrip("/") == "/tmp" or path.startswith("/tmp/")
