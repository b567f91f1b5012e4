"""Workload detectors: what runs inside a container, read from the repository.

A memory limit, a pids limit or a tmpfs that ignores the workload breaks it (runtime-facts §9):
a JVM whose heap equals the limit is OOM-killed at start, Elasticsearch extracts native code into
``/tmp`` and maps it executable, PostgreSQL starts one process per connection. Each detector is
one module (``jvm``, ``node``, ``redpanda``, ``pihole``, ``redis``, ``php``, ``databases``) that turns the container's image,
the Dockerfile stages it is built from, its environment and its command into a
:class:`WorkloadFacts` record; the transforms decide from those facts and never parse flags
themselves.

Go is one more detector (``go``): it reads the project model (the build's stages and the
context's ``go.mod``) rather than names, and returns :class:`rewriter.golang.GoFacts`
(:func:`detect_go`).

This module is on the path of every run, so it only holds the record and a cheap dispatch: the
image's repository name and a few environment names pick a detector, and a detector module (with
its regular expressions) is imported only for a container it applies to. A Compose file of
``nginx`` and ``traefik`` services never imports one. Adding a detector is its module (with a
``detect(inputs, evidence)`` function) plus one entry in :data:`DETECTORS`: what it claims.
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


class Claims:
    """What sends a container to one detector module, read without importing it: image
    repositories (the last path component: ``eclipse-temurin``), their prefixes (for families
    with many names: ``cp-kafka-connect``, ``php-fpm``), full repositories by their end
    (``mcr.microsoft.com/mssql/server``), environment names only that kind of program reads
    (``JAVA_OPTS``) and the program a command starts (``java``)."""

    __slots__ = ("images", "prefixes", "repositories", "env", "commands")

    def __init__(self, images: tuple[str, ...] = (), prefixes: tuple[str, ...] = (),
                 repositories: tuple[str, ...] = (), env: tuple[str, ...] = (), commands: tuple[str, ...] = ()) -> None:
        self.images = images
        self.prefixes = prefixes
        self.repositories = repositories
        self.env = env
        self.commands = commands


# The detector modules (rewriter/detectors/<name>.py, each with ``detect(inputs, evidence)``)
# and what each claims. The claims live here, not in the modules, so that a file of services no
# detector knows imports none of them (jvm, node, redis, php and databases alone cost ~3.5 ms to
# import: python -X importtime).
# Environment names are tried in this order (a JVM variable before NODE_OPTIONS).
DETECTORS: dict[str, Claims] = {
    "jvm": Claims(
        images=("eclipse-temurin", "openjdk", "amazoncorretto", "ibm-semeru-runtimes", "ibmjava", "sapmachine",
                "adoptopenjdk", "tomcat", "jetty", "jenkins", "keycloak", "zookeeper", "cp-zookeeper", "kafka",
                "cp-kafka", "cp-server", "cp-kafka-connect", "cp-schema-registry", "cp-ksqldb-server",
                "elasticsearch", "opensearch", "logstash", "sonarqube", "nexus3", "neo4j", "cassandra", "solr",
                "flink", "wildfly", "payara", "liberica-openjdk-alpine", "liberica-openjdk-debian",
                "zulu-openjdk", "zulu-openjdk-alpine", "maven", "gradle", "minecraft-server"),
        prefixes=("cp-", "openjdk", "eclipse-temurin"),
        env=("JAVA_OPTS", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "ES_JAVA_OPTS", "OPENSEARCH_JAVA_OPTS",
             "LS_JAVA_OPTS", "KAFKA_HEAP_OPTS", "CATALINA_OPTS"),
        commands=("java",)),
    "node": Claims(images=("node", "kibana"), env=("NODE_OPTIONS",), commands=("node",)),  # Kibana: a Node.js server
    "redpanda": Claims(images=("redpanda",)),
    "pihole": Claims(images=("pihole",)),
    "redis": Claims(images=("redis", "redis-stack", "redis-stack-server", "valkey", "keydb"),
                    commands=("redis-server", "valkey-server")),
    "php": Claims(images=("php", "wordpress", "nextcloud", "drupal", "joomla", "phpmyadmin", "matomo",
                          "mediawiki", "php-fpm", "php-apache", "php-nginx"),
                  prefixes=("php-",), env=("PHP_MEMORY_LIMIT", "PHP_UPLOAD_MAX_FILESIZE"), commands=("php", "php-fpm")),
    # Not "postgres" or "elasticsearch" as prefixes: ``postgres-exporter`` and
    # ``elasticsearch-exporter`` are Go.
    "databases": Claims(
        images=("postgres", "postgis", "postgresql", "timescaledb", "timescaledb-ha", "pgvector",
                "mysql", "mariadb", "percona", "percona-server", "mysql-server", "mongo", "mongodb",
                "mongodb-community-server", "clickhouse-server", "clickhouse", "mssql-server", "azure-sql-edge"),
        prefixes=("mssql-server",), repositories=("mssql/server",),
        commands=("postgres", "mysqld", "mariadbd", "mongod")),
}

# The claims as lookup tables, built once from DETECTORS.
IMAGES: dict[str, str] = {name: module for module, claims in DETECTORS.items() for name in claims.images}
PREFIXES = tuple((prefix, module) for module, claims in DETECTORS.items() for prefix in claims.prefixes)
REPOSITORIES = tuple((end, module) for module, claims in DETECTORS.items() for end in claims.repositories)
ENV_KINDS = tuple((name, module) for module, claims in DETECTORS.items() for name in claims.env)
COMMANDS: dict[str, str] = {word: module for module, claims in DETECTORS.items() for word in claims.commands}


def module_for_image(image: str) -> str:
    name = repository_name(image)
    for end, module in REPOSITORIES:  # mcr.microsoft.com/mssql/server:2022-latest
        if image_repository(image).endswith(end):
            return module
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
    """The ``detect`` of a module named in :data:`DETECTORS`, imported on first use."""
    import importlib  # lazy: start-up (in sys.modules already; the detector module is what is lazy)

    detect: Callable[[Inputs, str], WorkloadFacts] = importlib.import_module(f"rewriter.detectors.{module}").detect
    return detect


__all__ = ["Inputs", "NOT_GO", "UNKNOWN", "WorkloadFacts", "detect", "detect_go", "repository_name"]
