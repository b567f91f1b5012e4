"""Workload detectors: what runs inside a container, read from the repository.

A memory limit, a pids limit or a tmpfs that ignores the workload breaks it (runtime-facts §9):
a JVM whose heap equals the limit is OOM-killed at start, Elasticsearch extracts native code into
``/tmp`` and maps it executable, PostgreSQL starts one process per connection. Each detector is
one module (``jvm``, ``node``, ``redis``, ``php``, ``databases``, ``redpanda``, ``pihole``) that turns the container's image,
the Dockerfile stages it is built from, its environment and its command into a
:class:`WorkloadFacts` record; the transforms decide from those facts and never parse flags
themselves.

Go is one more detector (``go``): it reads the project model (the build's stages and the
context's ``go.mod``) rather than names, and returns :class:`rewriter.golang.GoFacts`
(:func:`detect_go`).

This module is on the path of every run, so it only holds the record and a cheap dispatch: the
image's repository name and a few environment names pick a detector, and a detector module (with
its regular expressions) is imported only for a container it applies to. A Compose file of
``nginx`` and ``traefik`` services never imports one. Adding a detector is its module plus the
rows here that send a container to it (``IMAGES``, ``ENV_KINDS``, ``COMMANDS``, ``_detector``).
"""

from __future__ import annotations

from rewriter.golang import GoFacts, is_golang_image
from rewriter.detectors.facts import (
    JVM_RATIO as JVM_RATIO,
    LIMIT_STEP as LIMIT_STEP,
    SEARCH_RATIO as SEARCH_RATIO,
    UNKNOWN,
    Inputs,
    WorkloadFacts,
    image_repository as image_repository,
    may_link as may_link,
    repository_name,
)

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from collections.abc import Callable

    from rewriter.profiles import ServiceConfig
    from rewriter.project import ImageBuild


# Image repositories (last path component) -> detector module. Checked by a dictionary lookup,
# then by prefix for families with many names (``cp-kafka-connect``, ``php-fpm``).
IMAGES: dict[str, str] = {
    **dict.fromkeys((
        "eclipse-temurin", "openjdk", "amazoncorretto", "ibm-semeru-runtimes", "ibmjava", "sapmachine",
        "adoptopenjdk", "tomcat", "jetty", "jenkins", "keycloak", "zookeeper", "cp-zookeeper", "kafka",
        "cp-kafka", "cp-server", "cp-kafka-connect", "cp-schema-registry", "cp-ksqldb-server",
        "elasticsearch", "opensearch", "logstash", "sonarqube", "nexus3", "neo4j", "cassandra", "solr",
        "flink", "wildfly", "payara", "liberica-openjdk-alpine", "liberica-openjdk-debian",
        "zulu-openjdk", "zulu-openjdk-alpine", "maven", "gradle", "minecraft-server"), "jvm"),
    **dict.fromkeys(("node", "kibana"), "node"),  # Kibana is a Node.js server
    "redpanda": "redpanda",
    "pihole": "pihole",
    **dict.fromkeys(("redis", "redis-stack", "redis-stack-server", "valkey", "keydb"), "redis"),
    **dict.fromkeys(("php", "wordpress", "nextcloud", "drupal", "joomla", "phpmyadmin", "matomo",
                     "mediawiki", "php-fpm", "php-apache", "php-nginx"), "php"),
    **dict.fromkeys(("postgres", "postgis", "postgresql", "timescaledb", "timescaledb-ha", "pgvector",
                     "mysql", "mariadb", "percona", "percona-server", "mysql-server", "mongo", "mongodb",
                     "mongodb-community-server", "clickhouse-server", "clickhouse", "mssql-server",
                     "azure-sql-edge"), "databases"),
}
# Not "postgres" or "elasticsearch": ``postgres-exporter`` and ``elasticsearch-exporter`` are Go.
PREFIXES = (("cp-", "jvm"), ("php-", "php"), ("openjdk", "jvm"), ("eclipse-temurin", "jvm"),
            ("mssql-server", "databases"))
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
    if image_repository(image).endswith("mssql/server"):  # mcr.microsoft.com/mssql/server:2022-latest
        return "databases"
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
        if any(key == name for key, _, _ in inputs.file_env):
            return module, f"{name} in env_file"
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


NOT_GO = GoFacts(False)


def detect_go(image: str | None, built: ImageBuild | None, config: ServiceConfig | None) -> GoFacts:
    """Whether the container runs Go, and which version (rewriter/detectors/go.py). A service
    with neither a build, a golang image nor a line in the config is not Go, and loads nothing."""
    if built is None and config is None and (image is None or not is_golang_image(image)):
        return NOT_GO
    from rewriter.detectors import go  # lazy: start-up

    return go.detect(image, built, config)


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
    if module == "redpanda":
        from rewriter.detectors import redpanda  # lazy: start-up

        return redpanda.detect
    if module == "pihole":
        from rewriter.detectors import pihole  # lazy: start-up

        return pihole.detect
    from rewriter.detectors import databases  # lazy: start-up

    return databases.detect


__all__ = ["Inputs", "NOT_GO", "UNKNOWN", "WorkloadFacts", "detect", "detect_go", "repository_name"]
