"""Issue 12's "Done when", as the issue did it: real stacks from the shared corpus run through
``dockfix pr --profile prod`` and reviewed service by service (docs/review-issue12.md). Each
failure the review found is a case here, built from the real files (copied with their licences
into ``fixtures/projects/review/``, sources in ``fixtures/projects/review/SOURCES.md``):

- a ``docker run --rm IMAGE app --version`` whose output a release script reads, an interactive
  ``docker run -it`` shell were given limits (class 11);
- an unquoted ``$SSH`` before ``-v /tmp`` was read as the image, so ``--tmpfs /tmp`` was added
  beside ``-v /tmp`` (Docker: "Duplicate mount point: /tmp");
- MariaDB got a 64m tmpfs over the /tmp where it writes temporary tables and sort files (class 4);
- itzg/minecraft-server (a JVM) got a noexec /tmp and a "safe" pids limit; SQL Server a "safe"
  pids limit of 512 under its 512 worker threads (class 3);
- ``hack/`` (developer tooling) got the prod profile (class 2), and so did the containers test
  scripts start with ``docker run -d`` (docker-library's ``test/tests/*/run.sh``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rewriter.cli import main
from fixture_runner import tree

CASE = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "review"




@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "review"
    shutil.copytree(CASE / "input", target)
    (target / ".git").mkdir()  # the repository root: roles are read below it
    monkeypatch.chdir(target)
    return target


def _run(capsys: pytest.CaptureFixture[str], command: str, *paths: str) -> str:
    main([command, "--profile", "prod", "--jobs", "1", "--no-cache", *(paths or (".",))])
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_apply_prod_gives_the_reviewed_decisions(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, "apply")
    assert tree(project) == tree(CASE / "expected.prod")
    _run(capsys, "apply")
    assert tree(project) == tree(CASE / "expected.prod")  # a second run changes nothing


def test_a_run_whose_output_the_script_reads_is_a_tool_run(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "check", "selenium/tag_and_push_browser_images.sh")
    assert "tag_and_push_browser_images.sh" not in out, out  # CHROME_VERSION=$(docker run --rm ... --version)


def test_an_interactive_session_is_a_tool_run(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # start-kafka-shell.sh: "start" makes it a deploy script, but `-i -t ... /bin/bash` is a shell
    # a user leaves; before, it got --memory 1408m from Kafka's default heap, which bash never has
    out = _run(capsys, "check", "kafka-docker/start-kafka-shell.sh")
    assert "start-kafka-shell.sh" not in out, out


def test_an_unquoted_variable_before_run_flags_is_not_the_image(project: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    before = (project / "buildkit/hack/shell").read_bytes()
    out = _run(capsys, "apply", "buildkit/hack/shell")
    assert (project / "buildkit/hack/shell").read_bytes() == before, out  # never --tmpfs /tmp beside -v /tmp
    assert "'$SSH' may expand to several flags, so the image word is unknown" in out, out


def _keeps_tmp(out: str, service: str, why: str, image: str) -> None:
    """``service`` gets a DF105 note saying ``why`` about its ``image``, and no tmpfs (DF101)."""
    lines = [line for line in out.splitlines() if f"service '{service}'" in line]
    assert any("DF105" in line and why in line and f"(image {image})" in line for line in lines), out
    assert not any("DF101" in line for line in lines), out


def test_mysql_keeps_its_tmpdir(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "check", "awesome-compose/wordpress-mysql/compose.yaml")
    _keeps_tmp(out, "db", "MySQL and MariaDB write on-disk temporary tables", "mariadb:10.6.4-focal")


def test_mysql_with_its_tmpdir_elsewhere_gets_the_tmpfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: mysql:8.4\n"
                                          "    command: --tmpdir=/var/lib/mysql-tmp\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = _run(capsys, "check")
    assert "DF101" in out and "DF105" not in out, out


def test_minecraft_is_a_jvm(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "check", "awesome-compose/minecraft/compose.yaml")
    assert "tmpfs '/tmp:size=64m,mode=1777,exec'" in out, out
    assert any("DF401" in line and "a suggestion" in line for line in out.splitlines()), out


def test_minecraft_heap_from_memory_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text("services:\n  mc:\n    image: itzg/minecraft-server\n"
                                          "    environment:\n      MEMORY: 2G\n    mem_limit: 2g\n",
                                          encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = _run(capsys, "check")
    assert "DF304" in out and "MEMORY=2G in environment MEMORY" in out, out


def test_sql_server_gets_no_safe_pids_limit(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "check", "mssql-docker")
    lines = out.splitlines()
    assert any("DF401 [*]" in line and "SQL Server runs up to 512 worker threads" in line for line in lines), out
    assert any("DF301" in line and "--memory '2g'" in line and "SQL Server's minimum of 2000 MB" in line
               for line in lines), out


def test_hack_is_developer_tooling(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "check", "buildkit/hack/composefiles/compose.yaml")
    assert "(profile dev instead of prod, for a developer tooling file under 'hack/': " in out, out
    assert "DF401" not in out and "DF301" not in out, out


def test_a_test_scripts_detached_container_gets_the_dev_profile(project: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # docker-library's test/tests/cassandra-basics/run.sh starts the image under test with
    # `docker run -d`: a test's container, which got the prod profile's 512m and pids limits before
    out = _run(capsys, "check", "docker-library")
    lines = [line for line in out.splitlines() if line.startswith("docker-library/test/tests/cassandra-basics/run.sh:16:")]
    assert [line.split()[1] for line in lines] == ["DF101", "DF201"], out
    assert all("(profile dev instead of prod, for a test or CI file under 'test/': " in line for line in lines), out


# -- evidence the review found missing: env_file, and images built by docker buildx bake -------------


def _repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Path:
    (tmp_path / ".git").mkdir(parents=True)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


ENV_FILE_COMPOSE = """services:
  search:
    image: elasticsearch:8.11.1
    env_file: search.env
  api:
    image: eclipse-temurin:21
    env_file:
      - path: ./api.env
        required: true
    environment:
      - JAVA_OPTS=-Xmx256m
"""


def test_env_file_is_part_of_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    _repo(tmp_path, monkeypatch, {"compose.yaml": ENV_FILE_COMPOSE, "search.env": '# heap\nES_JAVA_OPTS="-Xms2g -Xmx2g"\n',
                                  "api.env": "JAVA_OPTS=-Xmx4g\n"})
    out = _run(capsys, "check")
    # the env file's heap is evidence: 2g at Elastic's 50 % gives 4g, a safe fix that names the file
    assert "DF301 [*] service 'search'" in out and "(mem_limit '4g': -Xmx2g in env_file search.env (ES_JAVA_OPTS)" in out, out
    # environment wins over env_file, as in Compose
    assert "(mem_limit '384m': -Xmx256m in environment JAVA_OPTS" in out, out


def test_a_changed_env_file_invalidates_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path / "repo", monkeypatch, {"compose.yaml": "services:\n  search:\n    image: elasticsearch:8.11.1\n"
                                                  "    env_file: search.env\n",
                                                  "search.env": "ES_JAVA_OPTS=-Xmx2g\n"})
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(tmp_path / "cache"))
    main(["check", "--profile", "prod", "--jobs", "1", "."])
    assert "mem_limit '4g'" in capsys.readouterr().out
    (repo / "search.env").write_text("ES_JAVA_OPTS=-Xmx1g\n", encoding="utf-8")
    main(["check", "--profile", "prod", "--jobs", "1", "."])
    assert "mem_limit '2g'" in capsys.readouterr().out


NGINX_TEMPLATE = "FROM nginx:1.27\nCOPY default.conf.template /tmp/\n"
BAKE_HCL = """variable "TAG" {
  default = "1.4"
}

target "_common" {
  context = "frontend"
  dockerfile = "Containerfile"
}

target "web" {
  inherits = ["_common"]
  tags = [
    "ghcr.io/acme/web:1.4",
  ]
}
"""


@pytest.mark.parametrize("bake", ["docker-bake.hcl", "docker-bake.json"])
def test_an_image_built_by_a_bake_target_is_linked_to_its_dockerfile(
        bake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    text = BAKE_HCL if bake.endswith(".hcl") else (
        '{"target": {"web": {"context": "frontend", "dockerfile": "Containerfile", "tags": ["ghcr.io/acme/web:1.4"]}}}')
    _repo(tmp_path, monkeypatch, {"compose.yaml": "services:\n  web:\n    image: ghcr.io/acme/web:1.4\n",
                                  "frontend/Containerfile": NGINX_TEMPLATE, bake: text})
    out = _run(capsys, "check")
    assert ("DF105 service 'web': no tmpfs added on '/tmp': COPY default.conf.template /tmp/ (frontend/Containerfile:2) "
            f"puts files in /tmp, which a tmpfs would hide; the image is built from frontend/Containerfile: {bake} "
            "builds ghcr.io/acme/web") in out, out
    assert "DF101" not in out, out


def test_a_walk_finds_the_files_an_include_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # compose-go's loader/testdata/combined (fixtures/real): compose.yaml only includes
    # dir/included.yaml, whose service (extending dir/extended.yaml) is the whole project
    real = Path(__file__).resolve().parent.parent / "fixtures" / "real" / "compose-go" / "loader" / "testdata"
    project = tmp_path / "combined"
    shutil.copytree(real / "combined", project)
    (project / ".git").mkdir()
    monkeypatch.chdir(project)
    out = _run(capsys, "check")
    assert "dir/included.yaml:2:3: DF101 [*] service 'service': no tmpfs on '/tmp'" in out, out
    assert "extended.yaml" not in out, out  # extended, not included: no service of the project
    # from elsewhere, as `dockfix pr` runs it on a temporary worktree: read inside that repository
    monkeypatch.chdir(tmp_path)
    out = _run(capsys, "check", str(project))
    assert "dir/included.yaml:2:3: DF101" in out, out


@pytest.mark.parametrize(("image", "floor", "why"), [
    ("mcr.microsoft.com/mssql/server:2022-latest", "2g", "SQL Server's minimum of 2000 MB"),
    ("mcr.microsoft.com/azure-sql-edge:1.0.4", "1g", "Azure SQL Edge's minimum of 1 GB"),  # awesome-compose aspnet-mssql
])
def test_sql_server_images_in_compose(image: str, floor: str, why: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _repo(tmp_path, monkeypatch, {"compose.yaml": f"services:\n  db:\n    image: {image}\n    restart: always\n"})
    out = _run(capsys, "check")
    assert f"(mem_limit '{floor}': {why}" in out, out
    assert "DF401 [*]" in out and "SQL Server runs up to 512 worker threads" in out, out
    _run(capsys, "apply")  # both are suggestions: neither the floor nor 512 pids is written
    written = (tmp_path / "compose.yaml").read_text(encoding="utf-8")
    assert "mem_limit" not in written and "pids_limit" not in written, written


# -- well-known images that got generic "no evidence" messages: Kibana (Node.js), Redpanda (Seastar) --


def _lines(out: str, code: str, service: str) -> list[str]:
    return [line for line in out.splitlines() if f" {code} " in line and f"service '{service}'" in line]


def test_kibana_is_a_node_server_with_elastics_default(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # awesome-compose elasticsearch-logstash-kibana: kibana:7.16.1 with no NODE_OPTIONS; before, the
    # generic 512m ("nothing in the repository says what the service needs"), half of what Elastic
    # gives a Kibana container
    out = _run(capsys, "check", "awesome-compose/elasticsearch-logstash-kibana/compose.yaml")
    (line,) = _lines(out, "DF301", "kibana")
    assert "(mem_limit '1g': the 1Gi Elastic's operator (ECK) gives a Kibana container by default" in line, line
    assert "--max-old-space-size in NODE_OPTIONS" in line and "a floor only" in line, line


def test_kibanas_old_space_decides_its_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    _repo(tmp_path, monkeypatch, {"compose.yaml": "services:\n  kibana:\n    image: docker.elastic.co/kibana/kibana:8.11.1\n"
                                                  "    environment:\n      NODE_OPTIONS: --max-old-space-size=1536\n"})
    out = _run(capsys, "check")
    (line,) = _lines(out, "DF301", "kibana")
    assert "DF301 [*]" in line and "(mem_limit '2g': --max-old-space-size=1536 in environment NODE_OPTIONS / 75 %" in line, line
    _run(capsys, "apply")
    assert "mem_limit: 2g" in (tmp_path / "compose.yaml").read_text(encoding="utf-8")


def test_redpanda_without_memory_is_floored_at_seastars_reserve(project: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # awesome-compose wasmedge-kafka-mysql: `redpanda start --smp 1 --overprovisioned`, no --memory;
    # a 512m limit is below Seastar's default reserve, where it takes 500 MB whatever the limit
    out = _run(capsys, "check", "awesome-compose/wasmedge-kafka-mysql/compose.yml")
    (line,) = _lines(out, "DF301", "redpanda")
    assert "(mem_limit '2g': Seastar's default reserve of 1536 MiB plus the 500 MB it takes at least" in line, line
    assert "--memory (and --reserve-memory) in the command" in line, line


REDPANDA = """services:
  redpanda:
    image: docker.redpanda.com/redpandadata/redpanda:v24.1.1
    command:
      - redpanda start
      - --smp 1
      - --overprovisioned
{flags}"""


@pytest.mark.parametrize(("flags", "limit", "why"), [
    # Redpanda's own Docker quickstart flags: the Helm chart's 80 % decides
    ("      - --memory 1G\n      - --reserve-memory 0M\n", "1280m",
     "--memory 1G in the command / 80 % (Redpanda's Helm chart gives --memory 80 % of the container's memory"),
    # no --reserve-memory: Seastar keeps 1536 MiB outside --memory and refuses to start without it
    ("      - --memory 1G\n", "2560m",
     "--memory 1G in the command plus Seastar's default reserve of max(1536 MiB, 7 %)"),
    ("      - --memory=2G\n      - --reserve-memory=1G\n", "3g", "--memory=2G in the command plus --reserve-memory=1G"),
])
def test_redpandas_memory_flags_decide_its_limit(flags: str, limit: str, why: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _repo(tmp_path, monkeypatch, {"compose.yaml": REDPANDA.format(flags=flags)})
    out = _run(capsys, "check")
    (line,) = _lines(out, "DF301", "redpanda")
    assert "DF301 [*]" in line and f"(mem_limit '{limit}': {why}" in line, line


def test_pihole_keeps_the_tmp_its_blocklist_update_fills(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # awesome-compose pihole-cloudflared-DoH (review 2, F11): pihole/pihole got a 64m tmpfs on the
    # /tmp where `pihole -g` collects every domain of every adlist (gravity.sh: mktemp -p "/tmp")
    out = _run(capsys, "check", "awesome-compose/pihole-cloudflared-DoH/compose.yaml")
    _keeps_tmp(out, "pihole", "Pi-hole's blocklist update (pihole -g, gravity.sh", "pihole/pihole:latest")
    assert any("DF101 [*] service 'cloudflared'" in line for line in out.splitlines()), out
