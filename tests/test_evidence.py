"""Issue 12, classes 3, 4 and 7: what runs in a container decides the value, and only evidence (or
the user's own profile) makes a fix safe. The fixtures hold the bytes; these tests hold the
decisions (rule, applicability) and the messages that name the evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from rewriter.detectors import Inputs, WorkloadFacts, detect
from rewriter.edits import Applicability
from rewriter.engine import Finding, Options, process
from transforms import parse_config, resolve_profile
from rewriter.sizes import ByteSize
from rewriter.source import SourceFile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "compose"
PROD = Options(profile=resolve_profile("prod", {}))
SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE
M = 1024**2


def facts(image: str | None = None, env: dict[str, str | None] | None = None, command: str = "",
          bases: tuple[tuple[str, str], ...] = (), image_env: tuple[tuple[str, str, str], ...] = ()) -> WorkloadFacts:
    return detect(Inputs(image, env or {}, tuple(command.split()), bases, image_env))


def findings(path: Path, options: Options = PROD, text: str | None = None) -> list[Finding]:
    src = SourceFile.from_text(str(path), text if text is not None else path.read_text(encoding="utf-8"))
    return process("compose", src, options, fix=False).findings


def decision(found: list[Finding], service: str, code: str) -> tuple[Applicability | None, str]:
    """(the fix's applicability or None without a fix, the message) of one finding."""
    hits = [f for f in found if f.scope == f"services.{service}" and f.code == code]
    assert len(hits) == 1, (service, code, [(f.scope, f.code) for f in found])
    fix = hits[0].fix
    return (fix.applicability if fix is not None else None), hits[0].message


# -- detectors ------------------------------------------------------------------------------------


def test_jvm_heap_flags_last_one_wins_and_initial_counts() -> None:
    f = facts("eclipse-temurin:21", {"JAVA_TOOL_OPTIONS": "-Xmx256m", "JAVA_OPTS": "-Xmx1g -XX:+UseG1GC"})
    assert (f.kind, f.heap, f.heap_source) == ("jvm", ByteSize(1024 * M), "-Xmx1g in environment JAVA_OPTS")
    assert facts("openjdk:17", command="java -Xms2g -Xmx1g -jar app.jar").heap == ByteSize(2048 * M)
    assert facts("openjdk:17", command="java -XX:MaxHeapSize=805306368 -jar a").heap == ByteSize(768 * M)
    pct = facts("openjdk:17", {"JAVA_OPTS": "-XX:MaxRAMPercentage=90.0"}).ram_percentage
    assert pct == (90.0, "-XX:MaxRAMPercentage=90.0 in environment JAVA_OPTS")


def test_image_defaults_are_evidence() -> None:
    kafka = facts("confluentinc/cp-kafka:7.6.1")
    assert kafka.heap == ByteSize(1024 * M) and "kafka-server-start.sh" in kafka.heap_source
    assert facts("bitnami/kafka:3.7", {"KAFKA_HEAP_OPTS": "-Xmx512m"}).heap == ByteSize(512 * M)
    assert facts("elasticsearch:7.10.2").heap == ByteSize(1024 * M)  # jvm.options before auto-sizing
    assert facts("elasticsearch:8.13.4").heap is None  # 7.11+: half of the container's limit
    assert facts("opensearchproject/opensearch:2").heap_ratio == 0.5
    assert facts("zookeeper:3.9").heap == ByteSize(1000 * M)
    assert facts("logstash:8.13.0").heap == ByteSize(1024 * M)


def test_jvm_native_tmp_and_agent() -> None:
    assert "JNA" in facts("elasticsearch:8.13.4").native_tmp
    assert facts("elasticsearch:8.13.4", {"ES_TMPDIR": "/usr/share/elasticsearch/tmp"}).native_tmp == ""
    assert facts("tomcat:10", {"CATALINA_OPTS": "-Djava.io.tmpdir=/var/tmp"}).native_tmp == ""
    assert facts("tomcat:10", {"CATALINA_OPTS": "-Djava.io.tmpdir=/tmp/x"}).native_tmp != ""
    agent = facts("eclipse-temurin:21", {"JAVA_TOOL_OPTIONS": "-javaagent:/tmp/otel.jar"}).tmp_agent
    assert agent == "-javaagent:/tmp/otel.jar in environment JAVA_TOOL_OPTIONS"
    assert facts("eclipse-temurin:21", {"JAVA_TOOL_OPTIONS": "-javaagent:/opt/otel.jar"}).tmp_agent == ""


def test_dockerfile_base_and_env_are_read() -> None:
    f = facts(None, bases=(("eclipse-temurin:17-jre", "Dockerfile:9"),),
              image_env=(("JAVA_OPTS", "-Xmx768m", "Dockerfile:11"),))
    assert f.kind == "jvm" and f.evidence == "FROM eclipse-temurin:17-jre (Dockerfile:9)"
    assert f.heap_source == "-Xmx768m in ENV JAVA_OPTS (Dockerfile:11)"
    # the container's environment wins over the image's ENV
    f = facts(None, {"JAVA_OPTS": "-Xmx1g"}, bases=(("eclipse-temurin:17", "Dockerfile:1"),),
              image_env=(("JAVA_OPTS", "-Xmx768m", "Dockerfile:2"),))
    assert f.heap == ByteSize(1024 * M)


def test_other_workloads() -> None:
    node = facts("node:20", {"NODE_OPTIONS": "--max-old-space-size=1536 --enable-source-maps"})
    assert node.heap == ByteSize(1536 * M) and node.heavy == ""
    assert facts("redis:7", command="redis-server --maxmemory 2gb").heap == ByteSize(2048 * M)
    assert facts("redis:7", command="redis-server --maxmemory 1g").heap == ByteSize(10**9)  # decimal
    assert facts("redis:7").heavy and facts("redis:7").heap is None
    php = facts("php:8.3-fpm", {"PHP_MEMORY_LIMIT": "512M", "PHP_UPLOAD_MAX_FILESIZE": "100M", "POST_MAX_SIZE": "120M"})
    assert php.heap == ByteSize(512 * M) and php.heap_is_floor and php.upload == ByteSize(120 * M)
    assert facts("php:8.3", {"PHP_MEMORY_LIMIT": "-1"}).heap is None
    nextcloud = facts("nextcloud:apache")  # the image documents 512M for both when unset
    assert nextcloud.upload == ByteSize(512 * M) and "nextcloud image" in nextcloud.upload_source
    assert facts("nextcloud:apache", {"PHP_UPLOAD_LIMIT": "16G"}).upload == ByteSize(16 * 1024 * M)
    pg = facts("postgres:16")
    assert (pg.kind, pg.connections, pg.connections_source) == ("postgres", 100, "PostgreSQL's default max_connections")
    assert facts("postgres:16", command="postgres -c max_connections=250").connections == 250
    assert facts("postgres:16", command="postgres -c shared_buffers=1GB").heap == ByteSize(1024 * M)
    assert facts("postgres:16", command="postgres -c shared_buffers=16384").heap == ByteSize(128 * M)  # 8kB pages
    assert facts("bitnami/postgresql:16", {"POSTGRESQL_MAX_CONNECTIONS": "300"}).connections == 300
    assert facts("mariadb:11", command="--max_connections=80").connections == 80
    assert facts("mongo:7", command="mongod --wiredTigerCacheSizeGB 1.5").heap == ByteSize(1536 * M)
    assert facts("clickhouse/clickhouse-server:24").threads
    # exporters are not the databases they watch
    assert not facts("prometheuscommunity/postgres-exporter:v0.15.0").known
    assert not facts("nginx:1.27").known


def test_limits_derived_from_the_heap_round_up_to_64m() -> None:
    assert facts("openjdk:17", {"JAVA_OPTS": "-Xmx1g"}).needed_limit() == ByteSize(1408 * M)
    assert facts("elasticsearch:8.13.4", {"ES_JAVA_OPTS": "-Xmx512m"}).needed_limit() == ByteSize(1024 * M)
    assert facts("node:20", {"NODE_OPTIONS": "--max-old-space-size=1536"}).needed_limit() == ByteSize(2048 * M)


def test_the_cold_path_imports_no_detector() -> None:
    """A file of services no detector knows never imports a detector module."""
    import subprocess
    import sys

    code = ("import sys\nfrom rewriter.engine import Options, process\nfrom transforms import resolve_profile\n"
            "from rewriter.source import SourceFile\n"
            "process('compose', SourceFile.from_text('compose.yaml', 'services:\\n  web:\\n    image: nginx:1.27\\n'),"
            " Options(profile=resolve_profile('prod', {})), fix=True)\n"
            "print(sorted(m for m in sys.modules if m.startswith('rewriter.detectors.')"
            " and m != 'rewriter.detectors.facts'))\n")  # facts: the record and the dispatch's helpers
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout
    assert out.strip() == "[]"


def test_a_detector_is_its_module_plus_its_claims() -> None:
    """Registration is one DETECTORS entry: every module it names has ``detect``, every
    detector module in the package is named, and the dispatch tables are built from the claims
    (before, a new detector also needed rows in IMAGES, ENV_KINDS, COMMANDS and a branch in
    ``_detector``)."""
    import importlib

    from rewriter import detectors

    here = Path(detectors.__file__).parent
    modules = {p.stem for p in here.glob("*.py")} - {"__init__", "facts", "image", "go"}
    assert set(detectors.DETECTORS) == modules
    for name, claims in detectors.DETECTORS.items():
        assert callable(importlib.import_module(f"rewriter.detectors.{name}").detect)
        assert {detectors.IMAGES[i] for i in claims.images} <= {name}
        assert all(detectors.COMMANDS[c] == name for c in claims.commands)
    assert detectors.module_for_image("mcr.microsoft.com/mssql/server:2022-latest") == "databases"
    assert detectors.module_for_image("cp-kafka-connect:7.6") == "jvm"
    assert detectors.module_for_image("postgres-exporter") == ""


# -- class 3: limits from evidence --------------------------------------------------------------------


def test_elk_limits_come_from_the_heap_flags() -> None:
    found = findings(FIXTURES / "evidence-elk" / "input.yaml")
    app, message = decision(found, "elasticsearch", "DF301")
    assert app is SAFE and "mem_limit '1g': -Xmx512m in environment ES_JAVA_OPTS / 50 % (Elastic" in message
    app, message = decision(found, "logstash", "DF301")
    assert app is SAFE and "mem_limit '1g': -Xmx512m in environment LS_JAVA_OPTS / 50 %" in message
    app, message = decision(found, "kibana", "DF301")
    # Kibana is a Node.js server: without --max-old-space-size, a suggestion floored at the 1Gi
    # Elastic's operator gives it (the built-in 512m was half of that)
    assert app is UNSAFE and "mem_limit '1g': the 1Gi Elastic's operator (ECK) gives a Kibana container" in message
    assert "--max-old-space-size in NODE_OPTIONS" in message and "set mem_limit on the service" in message
    assert decision(found, "kibana", "DF302")[0] is UNSAFE  # swap follows the suggested limit
    assert decision(found, "elasticsearch", "DF401")[0] is UNSAFE  # a JVM's threads: unknown


def test_heap_limits_fixture_decisions() -> None:
    found = findings(FIXTURES / "evidence-heap-limits" / "input.yaml")
    app, message = decision(found, "search", "DF304")
    assert app is SAFE and "-Xmx512m in environment ES_JAVA_OPTS is at or above mem_limit '512m'" in message
    app, message = decision(found, "search-roomy", "DF304")
    assert app is UNSAFE and "is above 50 % of mem_limit '1g'" in message and "= 1536m" in message
    app, message = decision(found, "broker", "DF301")
    assert app is SAFE and "the image's default heap of 1g (Apache Kafka's" in message
    assert decision(found, "worker", "DF304")[0] is SAFE
    assert "mem_limit '384m': --maxmemory 256mb in the command" in decision(found, "cache", "DF301")[1]
    app, message = decision(found, "shop", "DF301")
    assert app is UNSAFE and "a floor only" in message
    app, message = decision(found, "db", "DF401")
    assert app is SAFE and "600 connections + 64 background processes = 664" in message
    assert decision(found, "mysql", "DF301")[0] is SAFE


def test_an_existing_limit_at_or_below_the_heap_is_reported_without_a_profile_limit() -> None:
    dev = Options(profile=resolve_profile("dev", {}))
    found = findings(FIXTURES / "evidence-heap-limits" / "input.yaml", dev)
    assert decision(found, "search", "DF304")[0] is SAFE


def test_max_ram_percentage_above_75_is_reported() -> None:
    text = "services:\n  api:\n    image: eclipse-temurin:21\n    environment:\n      JAVA_OPTS: -XX:MaxRAMPercentage=90\n    mem_limit: 1g\n"
    app, message = decision(findings(Path("compose.yaml"), text=text), "api", "DF304")
    assert app is None and "-XX:MaxRAMPercentage=90 in environment JAVA_OPTS gives the heap more than 75 %" in message


# -- the user's profile ----------------------------------------------------------------------------------


PROFILE = '[tool.dockfix.profiles.team]\nextends = "prod"\nmem-limit = "{limit}"\n'
SERVICES = ("services:\n  web:\n    image: ghcr.io/acme/web:1\n  db:\n    image: postgres:16\n"
            "  api:\n    image: eclipse-temurin:21\n    environment:\n      JAVA_OPTS: -Xmx1g\n")


def _team(limit: str) -> Options:
    config = parse_config("/repo/pyproject.toml", PROFILE.format(limit=limit))
    assert config is not None
    return Options(profile=config.resolve_profile("team"))


def test_a_limit_the_user_chose_is_safe_except_for_heavy_images_without_evidence() -> None:
    found = findings(Path("compose.yaml"), _team("768m"), SERVICES)
    app, message = decision(found, "web", "DF301")
    assert app is SAFE and "mem_limit '768m': mem-limit in profile team (/repo/pyproject.toml)" in message
    app, message = decision(found, "db", "DF301")
    assert app is UNSAFE and "a suggestion: the service is a database" in message
    # the user's 768m leaves no room for -Xmx1g: the heap decides, and says so
    app, message = decision(found, "api", "DF301")
    assert app is SAFE and "mem_limit '1408m'" in message and "'768m' would leave no room for it" in message
    # a larger user value is kept
    assert "mem_limit '2g'" in decision(findings(Path("compose.yaml"), _team("2g"), SERVICES), "api", "DF301")[1]


def test_a_user_profile_named_like_a_builtin_owns_the_keys_it_sets() -> None:
    config = parse_config("/repo/dockfix.toml", '[profiles.prod]\nmem-limit = "1g"\n')
    assert config is not None
    profile = config.resolve_profile("prod")
    assert profile.chose("mem-limit") and not profile.chose("pids-limit")
    assert decision(findings(Path("compose.yaml"), Options(profile=profile), SERVICES), "web", "DF301")[0] is SAFE


def test_a_profile_that_extends_without_setting_the_key_keeps_the_default_a_suggestion() -> None:
    config = parse_config("/repo/dockfix.toml", '[profiles.team]\nextends = "prod"\ntmpfs-size = "32m"\n')
    assert config is not None
    profile = config.resolve_profile("team")
    assert profile.user_keys == ("tmpfs-size",) and not profile.chose("mem-limit")
    found = findings(Path("compose.yaml"), Options(profile=profile), SERVICES)
    assert decision(found, "web", "DF301")[0] is UNSAFE


def test_gomemlimit_from_a_suggested_limit_is_a_suggestion() -> None:
    text = "services:\n  gw:\n    image: golang:1.24\n"
    found = findings(Path("compose.yaml"), text=text)
    assert decision(found, "gw", "DF501")[0] is UNSAFE
    found = findings(Path("compose.yaml"), text=text + "    mem_limit: 768m\n")
    assert decision(found, "gw", "DF501")[0] is SAFE


# -- class 4: /tmp ---------------------------------------------------------------------------------------


def test_tmp_decisions() -> None:
    found = findings(FIXTURES / "tmp-decisions" / "input.yaml")
    app, message = decision(found, "web", "DF105")
    assert app is None and "COPY default.conf.template /tmp/default.conf.template (web/Dockerfile:2)" in message
    assert "scripts/release.sh builds ghcr.io/example/storefront" in message
    assert "service 'proxy-build' builds ghcr.io/example/proxy:latest" in decision(found, "proxy-copy", "DF105")[1]
    assert decision(found, "proxy", "DF105")[0] is None
    assert "-javaagent:/tmp/opentelemetry-javaagent.jar" in decision(found, "api", "DF105")[1]
    assert "uploads of up to 100m" in decision(found, "uploads", "DF105")[1]
    assert decision(found, "keycloak", "DF103")[0] is SAFE
    assert decision(found, "jenkins", "DF103")[0] is UNSAFE
    assert not [f for f in found if f.scope == "services.elastic" and f.code == "DF103"]
    assert not [f for f in found if f.code == "DF101" and f.scope in (
        "services.web", "services.proxy", "services.proxy-copy", "services.api", "services.uploads")]
    assert decision(found, "small-uploads", "DF101")[0] is SAFE


def test_volume_tmp_in_the_dockerfile_leaves_tmp_alone() -> None:
    found = findings(FIXTURES / "tmp-volume-spring-postgres" / "input.yaml")
    assert "VOLUME /tmp (backend/Dockerfile:34)" in decision(found, "backend", "DF105")[1]
    app, message = decision(found, "db", "DF401")
    assert app is SAFE and "leaves room for PostgreSQL's default max_connections" in message


def test_an_existing_tmpfs_that_hides_image_files_is_reported(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("FROM nginx:1.27\nWORKDIR /tmp/app\nCOPY . .\n")
    text = "services:\n  web:\n    build: web\n    tmpfs:\n      - /tmp:size=64m\n"
    app, message = decision(findings(tmp_path / "compose.yaml", text=text), "web", "DF104")
    assert app is None and "WORKDIR /tmp/app (web/Dockerfile:2) runs the program in /tmp" in message


@pytest.mark.parametrize("name", ["Dockerfile.storefront", "storefront.Dockerfile", "storefront/Dockerfile"])
def test_an_image_is_linked_to_a_dockerfile_named_after_it(tmp_path: Path, name: str) -> None:
    (tmp_path / name).parent.mkdir(exist_ok=True)
    (tmp_path / name).write_text("FROM nginx:1.27\nRUN mkdir -p /tmp/cache && touch /tmp/cache/ready\n")
    text = "services:\n  web:\n    image: registry.example.com/shop/storefront:2\n"
    message = decision(findings(tmp_path / "compose.yaml", text=text), "web", "DF105")[1]
    assert "leaves /tmp/cache" in message and f"{name} is named after the image" in message


def test_a_run_that_cleans_up_tmp_ships_nothing(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:12\nRUN curl -o /tmp/x.tgz https://example.com/x.tgz && tar -C /opt -xf /tmp/x.tgz "
        "&& rm -rf /tmp/*\nCMD [\"/opt/x\"]\n")
    text = "services:\n  x:\n    build: .\n"
    assert decision(findings(tmp_path / "compose.yaml", text=text), "x", "DF101")[0] is SAFE


# -- class 7: explicit values ---------------------------------------------------------------------------


def test_explicit_decisions() -> None:
    found = findings(FIXTURES / "explicit-decisions" / "input.yaml")
    app, message = decision(found, "hardened", "DF402")
    assert app is UNSAFE and "hardening someone chose" in message
    assert decision(found, "hardened", "DF202")[0] is UNSAFE
    assert decision(found, "batch", "DF302")[0] is UNSAFE
    assert decision(found, "unlimited", "DF302")[0] is UNSAFE
    assert decision(found, "unlimited", "DF402")[0] is UNSAFE
    app, message = decision(found, "broken", "DF302")
    assert app is SAFE and "below the memory limit, which Docker rejects" in message
    app, message = decision(found, "db", "DF402")
    assert app is SAFE and "400 connections + 64 background processes = 464" in message
