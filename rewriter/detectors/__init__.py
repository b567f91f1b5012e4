"""Workload detectors: what runs inside a container, read from the repository.

A memory limit, a pids limit or a tmpfs that ignores the workload breaks it (runtime-facts §9):
a JVM whose heap equals the limit is OOM-killed at start, Elasticsearch extracts native code into
``/tmp`` and maps it executable, PostgreSQL starts one process per connection. Each detector is
one module (``jvm``, ``node``, ``redis``, ``php``, ``databases``) that turns the container's image,
the Dockerfile stages it is built from, its environment and its command into a
:class:`WorkloadFacts` record; the transforms decide from those facts and never parse flags
themselves.

This module is on the path of every run, so it only holds the record and a cheap dispatch: the
image's repository name and a few environment names pick a detector, and a detector module (with
its regular expressions) is imported only for a container it applies to. A Compose file of
``nginx`` and ``traefik`` services never imports one.
"""

from __future__ import annotations

from rewriter.record import Record
from rewriter.sizes import ByteSize

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from collections.abc import Callable

JVM_RATIO = 0.75  # a JVM's heap at most 75 % of the limit: metaspace, threads, buffers come on top
SEARCH_RATIO = 0.5  # Elastic: Xms/Xmx no more than 50 % of the memory available
LIMIT_STEP = 64 * 1024 * 1024  # derived limits are rounded up to a whole 64m


class Inputs(Record):
    """What a detector reads: the container as written, plus the image its build produces."""

    __slots__ = ("image", "env", "command", "bases", "image_env")

    def __init__(self, image: str | None, env: dict[str, str | None], command: tuple[str, ...],
                 bases: tuple[tuple[str, str], ...] = (),
                 image_env: tuple[tuple[str, str, str], ...] = ()) -> None:
        self.image = image  # "docker.elastic.co/elasticsearch/elasticsearch:8.11.1"
        self.env = env  # environment as the container sets it (None: taken from the host)
        self.command = command  # entrypoint and command words, as written
        self.bases = bases  # (FROM image, "Dockerfile:1") of the stages the image is made of
        self.image_env = image_env  # (name, value, "Dockerfile:4") ENV lines of those stages

    def variable(self, name: str) -> tuple[str, str] | None:
        """A variable's value and where it is set: the container's environment wins over ``ENV``."""
        value = self.env.get(name)
        if value is not None:
            return value, f"environment {name}"
        for key, text, where in reversed(self.image_env):
            if key == name:
                return text, f"ENV {name} ({where})"
        return None


class WorkloadFacts(Record):
    """What a detector found; an unknown workload is ``WorkloadFacts()`` (kind "")."""

    __slots__ = ("kind", "evidence", "heavy", "heap", "heap_source", "heap_ratio", "ratio_source",
                 "heap_is_floor", "ram_percentage", "native_tmp", "tmp_agent", "threads", "connections",
                 "connections_source", "upload", "upload_source")

    def __init__(self, kind: str = "", evidence: str = "", heavy: str = "", heap: ByteSize | None = None,
                 heap_source: str = "", heap_ratio: float = JVM_RATIO, ratio_source: str = "",
                 heap_is_floor: bool = False, ram_percentage: tuple[float, str] | None = None,
                 native_tmp: str = "", tmp_agent: str = "", threads: str = "",
                 connections: int | None = None, connections_source: str = "",
                 upload: ByteSize | None = None, upload_source: str = "") -> None:
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


# Image repositories (last path component) -> detector module. Checked by a dictionary lookup,
# then by prefix for families with many names (``cp-kafka-connect``, ``php-fpm``).
IMAGES: dict[str, str] = {
    **dict.fromkeys((
        "eclipse-temurin", "openjdk", "amazoncorretto", "ibm-semeru-runtimes", "ibmjava", "sapmachine",
        "adoptopenjdk", "tomcat", "jetty", "jenkins", "keycloak", "zookeeper", "cp-zookeeper", "kafka",
        "cp-kafka", "cp-server", "cp-kafka-connect", "cp-schema-registry", "cp-ksqldb-server",
        "elasticsearch", "opensearch", "logstash", "sonarqube", "nexus3", "neo4j", "cassandra", "solr",
        "flink", "wildfly", "payara", "liberica-openjdk-alpine", "liberica-openjdk-debian",
        "zulu-openjdk", "zulu-openjdk-alpine", "maven", "gradle"), "jvm"),
    "node": "node",
    **dict.fromkeys(("redis", "redis-stack", "redis-stack-server", "valkey", "keydb"), "redis"),
    **dict.fromkeys(("php", "wordpress", "nextcloud", "drupal", "joomla", "phpmyadmin", "matomo",
                     "mediawiki", "php-fpm", "php-apache", "php-nginx"), "php"),
    **dict.fromkeys(("postgres", "postgis", "postgresql", "timescaledb", "timescaledb-ha", "pgvector",
                     "mysql", "mariadb", "percona", "percona-server", "mysql-server", "mongo", "mongodb",
                     "mongodb-community-server", "clickhouse-server", "clickhouse"), "databases"),
}
# Not "postgres" or "elasticsearch": ``postgres-exporter`` and ``elasticsearch-exporter`` are Go.
PREFIXES = (("cp-", "jvm"), ("php-", "php"), ("openjdk", "jvm"), ("eclipse-temurin", "jvm"))
# Environment names that only one kind of program reads.
ENV_KINDS = (("JAVA_OPTS", "jvm"), ("JAVA_TOOL_OPTIONS", "jvm"), ("JDK_JAVA_OPTIONS", "jvm"),
             ("ES_JAVA_OPTS", "jvm"), ("OPENSEARCH_JAVA_OPTS", "jvm"), ("LS_JAVA_OPTS", "jvm"),
             ("KAFKA_HEAP_OPTS", "jvm"), ("CATALINA_OPTS", "jvm"), ("NODE_OPTIONS", "node"),
             ("PHP_MEMORY_LIMIT", "php"), ("PHP_UPLOAD_MAX_FILESIZE", "php"))
COMMANDS = {"java": "jvm", "node": "node", "redis-server": "redis", "valkey-server": "redis",
            "postgres": "databases", "mysqld": "databases", "mariadbd": "databases", "mongod": "databases",
            "php": "php", "php-fpm": "php"}


def module_for_image(image: str) -> str:
    name = repository_name(image)
    found = IMAGES.get(name)
    if found is not None:
        return found
    for prefix, module in PREFIXES:
        if name.startswith(prefix):
            return module
    return ""


def _module_for(inputs: Inputs) -> tuple[str, str]:
    """(detector module, evidence) chosen by image, Dockerfile base, command, then environment."""
    if inputs.image:
        module = module_for_image(inputs.image)
        if module:
            return module, f"image {inputs.image}"
    for base, where in inputs.bases:
        module = module_for_image(base)
        if module:
            return module, f"FROM {base} ({where})"
    if inputs.command:
        word = inputs.command[0].rsplit("/", 1)[-1]
        module = COMMANDS.get(word, "")
        if module:
            return module, f"command '{inputs.command[0]}'"
    for name, module in ENV_KINDS:
        if inputs.env.get(name) is not None:
            return module, f"environment {name}"
    for name, module in ENV_KINDS:
        if any(key == name for key, _, _ in inputs.image_env):
            return module, f"ENV {name} in the Dockerfile"
    return "", ""


def detect(inputs: Inputs) -> WorkloadFacts:
    """The facts about the container's workload; ``UNKNOWN`` when no detector applies."""
    module, evidence = _module_for(inputs)
    if not module:
        return UNKNOWN
    return _detector(module)(inputs, evidence)


def _detector(module: str) -> Callable[[Inputs, str], WorkloadFacts]:
    if module == "jvm":
        from rewriter.detectors import jvm  # lazy: start-up

        return jvm.detect
    if module == "node":
        from rewriter.detectors import node  # lazy: start-up

        return node.detect
    if module == "redis":
        from rewriter.detectors import redis  # lazy: start-up

        return redis.detect
    if module == "php":
        from rewriter.detectors import php  # lazy: start-up

        return php.detect
    from rewriter.detectors import databases  # lazy: start-up

    return databases.detect


__all__ = ["Inputs", "UNKNOWN", "WorkloadFacts", "detect", "repository_name"]
