"""User profiles ([tool.dockfix.profiles.NAME], dockfix.toml), their validation, and config mounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from rewriter.errors import ConfigError
from rewriter.profiles import BUILTIN_NAMES, ConfigFinder
from transforms import OPTIONS, parse_config, resolve_profile
from transforms.config_mounts import MOUNTS
from transforms.memory import MEM_LIMIT, SWAP_OFF
from transforms.pids import PIDS_LIMIT
from transforms.tmpfs import SIZE as TMPFS_SIZE
from transforms.ulimits import NOFILE
from rewriter.sizes import ByteSize

EDGE = """\
[tool.dockfix]
profile = "edge"

[tool.dockfix.profiles.edge]
extends = "prod"
mem-limit = "1g"
tmpfs-size = "128m"

[[tool.dockfix.profiles.edge.config-mounts]]
services = ["api", "worker*"]
source = "./config/{profile}/{service}.yaml"
target = "/etc/app/config.yaml"
"""

STACK = """\
services:
  api:
    image: example/api
  worker-1:
    image: example/worker
    volumes:
      - ./config/edge/worker-1.yaml:/etc/app/config.yaml
  db:
    image: postgres:16
    tmpfs:
      - /tmp:size=64m
"""

STACK_EDGE = """\
services:
  api:
    image: example/api
    tmpfs:
      - /tmp:size=128m,mode=1777
    ulimits:
      nofile:
        soft: 65536
        hard: 65536
    mem_limit: 1g
    memswap_limit: 1g
    pids_limit: 512
    volumes:
      - ./config/edge/api.yaml:/etc/app/config.yaml:ro
  worker-1:
    image: example/worker
    volumes:
      - ./config/edge/worker-1.yaml:/etc/app/config.yaml:ro
    tmpfs:
      - /tmp:size=128m,mode=1777
    ulimits:
      nofile:
        soft: 65536
        hard: 65536
    mem_limit: 1g
    memswap_limit: 1g
    pids_limit: 512
  db:
    image: postgres:16
    tmpfs:
      - /tmp:size=64m
    ulimits:
      nofile:
        soft: 65536
        hard: 65536
    pids_limit: 512
"""


def test_builtin_profiles_resolve() -> None:
    prod = resolve_profile("prod", {})
    assert (prod.get(TMPFS_SIZE), prod.get(NOFILE), prod.get(MEM_LIMIT), prod.get(SWAP_OFF), prod.get(PIDS_LIMIT)) == (
        ByteSize.parse_docker("64m"), 65536, ByteSize.parse_docker("512m"), True, 512)
    assert resolve_profile("staging", {}).get(MEM_LIMIT) == prod.get(MEM_LIMIT)
    dev = resolve_profile("dev", {})
    assert (dev.get(TMPFS_SIZE), dev.get(MEM_LIMIT), dev.get(SWAP_OFF), dev.get(PIDS_LIMIT)) == (
        ByteSize.parse_docker("256m"), None, False, None)
    assert set(BUILTIN_NAMES) == {"prod", "staging", "dev"}


def test_user_profile_extends_and_overrides() -> None:
    config = parse_config("pyproject.toml", EDGE)
    assert config is not None
    edge = config.resolve_profile()
    assert edge.name == "edge" and edge.get(MEM_LIMIT) == ByteSize(1024**3)
    assert edge.get(TMPFS_SIZE) == ByteSize(128 * 1024**2)
    assert edge.get(NOFILE) == 65536 and edge.get(PIDS_LIMIT) == 512
    assert edge.get(MOUNTS)[0].services == ("api", "worker*")


def test_user_profile_named_like_a_builtin_layers_on_it() -> None:
    config = parse_config("dockfix.toml", '[profiles.prod]\npids-limit = 2048\n')
    assert config is not None
    prod = config.resolve_profile("prod")
    assert prod.get(PIDS_LIMIT) == 2048 and prod.get(MEM_LIMIT) == ByteSize.parse_docker("512m")


@pytest.mark.parametrize("body, message", [
    ('[profiles.x]\nmem-limit = "512Mi"\n', "'512Mi' is not a size Docker accepts"),
    ('[profiles.x]\nnofile = 2000000\n', "nofile: 2000000 is out of range"),
    ('[profiles.x]\nswap = "no"\n', "swap must be \"off\" or \"keep\""),
    ('[profiles.x]\ntmpfs-mode = 1777\n', "tmpfs-mode '1777' must be an octal mode written as a string"),
    ('[profiles.x]\nextends = "y"\n', "unknown profile 'y'"),
    ('[profiles.x]\nextends = "x"\n', "'extends' loops"),
    ('[profiles.x]\ngomemlimit-ratio = 2\n', "gomemlimit-ratio must be a number between 0.1 and 1.0"),
    ('[profiles.x]\nmemlimit = "1g"\n', "unknown key 'memlimit'"),
    ('colour = "red"\n', "unknown key 'colour'"),
    ('[[profiles.x.config-mounts]]\nsource = "a"\ntarget = "relative"\n', "needs 'source' and an absolute 'target'"),
    ('profile = [\n', "invalid TOML"),
])
def test_bad_config_is_an_error_naming_the_key(body: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config("dockfix.toml", body)
    assert message in err.value.message
    assert err.value.path == "dockfix.toml"


def test_closest_config_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nprofile = "dev"\n')
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / ".dockfix.toml").write_text('profile = "staging"\n')
    (tmp_path / "svc" / "dockfix.toml").write_text('profile = "prod"\n')
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.dockfix]
    finder = ConfigFinder(options=OPTIONS)
    assert finder.for_path(str(tmp_path / "svc" / "compose.yaml")).profile == "staging"
    assert finder.for_path(str(tmp_path / "other" / "compose.yaml")).profile == "dev"
    assert finder.for_path(str(tmp_path / "compose.yaml")).profile == "dev"
    assert ConfigFinder(isolated=True).for_path(str(tmp_path / "compose.yaml")).path == ""


def test_edge_profile_and_config_mounts_end_to_end(run_cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(EDGE)
    (tmp_path / "compose.yaml").write_text(STACK)
    (tmp_path / "config" / "edge").mkdir(parents=True)
    (tmp_path / "config" / "edge" / "api.yaml").write_text("level: info\n")
    code, out, err = run_cli("apply", "compose.yaml", cwd=tmp_path)
    assert (tmp_path / "compose.yaml").read_text() == STACK_EDGE
    # worker-1's source file is missing: a warning that remains; the database gets the profile's
    # memory limit only as a suggestion (a heavy image with no heap setting)
    assert code == 1
    lines = out.decode().splitlines()
    assert lines[0] == (
        "compose.yaml:15:3: DF604 service 'worker-1': config file './config/edge/worker-1.yaml' for "
        "'/etc/app/config.yaml' does not exist (profile edge from pyproject.toml: "
        "'./config/edge/worker-1.yaml:/etc/app/config.yaml:ro')")
    assert [line.split(" ", 2)[1] for line in lines[1:]] == ["DF301", "DF302"]
    assert "mem-limit in profile edge (pyproject.toml), a suggestion: the service is a database" in lines[1]
    code, out, _ = run_cli("diff", "compose.yaml", cwd=tmp_path)
    assert (code, out) == (0, b"")


def test_config_mount_conflicts_are_reported_not_fixed(run_cli, tmp_path: Path) -> None:
    (tmp_path / "dockfix.toml").write_text(
        '[[profiles.prod.config-mounts]]\nsource = "./c.yaml"\ntarget = "/etc/app.yaml"\n')
    (tmp_path / "c.yaml").write_text("a: 1\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: a\n    volumes:\n      - data:/etc/app.yaml\n"
        "  b:\n    image: b\n    volumes:\n      - type: bind\n        source: ./c.yaml\n        target: /etc/app.yaml\n")
    code, out, _ = run_cli("check", "--select", "DF6", "compose.yaml", cwd=tmp_path)
    lines = out.decode().splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith("compose.yaml:5:9: DF602 service 'a': 'data' is already mounted at '/etc/app.yaml'")
    assert lines[1].startswith("compose.yaml:9:9: DF603 [*] service 'b': config file './c.yaml' is mounted writable")
    run_cli("apply", "--select", "DF6", "compose.yaml", cwd=tmp_path)
    assert "        target: /etc/app.yaml\n        read_only: true\n" in (tmp_path / "compose.yaml").read_text()


def test_edge_profile_sizes_gomemlimit_for_a_go_service(run_cli, tmp_path: Path) -> None:
    """The issue's example: edge extends prod with mem-limit 1g and tmpfs 128m -> 806MiB."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dockfix.profiles.edge]\nextends = "prod"\nmem-limit = "1g"\ntmpfs-size = "128m"\n\n'
        '[tool.dockfix.services.gateway]\ngo = true\n')
    (tmp_path / "compose.yaml").write_text(
        "services:\n  gateway:\n    image: example/gateway:2\n    environment:\n      - LOG=info\n")
    assert run_cli("apply", "--profile", "edge", "compose.yaml", cwd=tmp_path)[0] == 0
    text = (tmp_path / "compose.yaml").read_text()
    assert "      - LOG=info\n      - GOMEMLIMIT=806MiB\n" in text
    assert "mem_limit: 1g\n" in text and "/tmp:size=128m,mode=1777" in text


def test_pyproject_without_dockfix_is_not_parsed() -> None:
    # Not even read as TOML (tomllib costs ~10 ms to import): this one would not parse.
    assert parse_config("pyproject.toml", '[project]\nname = "x"\n[broken') is None
    config = parse_config("pyproject.toml", '[project]\nname = "x"\n\n[tool.dockfix]\nprofile = "dev"\n')
    assert config is not None and config.profile == "dev"
    with pytest.raises(ConfigError):  # a dockfix table in broken TOML is still an error
        parse_config("pyproject.toml", '[tool.dockfix]\nprofile = "dev"\n[broken')


def test_parsed_config_is_cached_until_the_text_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tomllib

    from rewriter.profiles import config_cache_path

    monkeypatch.delenv("DOCKFIX_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # the user's cache, not the repository
    repo = tmp_path / "repo"
    repo.mkdir()
    config = repo / "pyproject.toml"
    config.write_text('[tool.dockfix]\nprofile = "dev"\n')
    target = str(repo / "compose.yaml")
    assert ConfigFinder(cache=True).for_path(target).profile == "dev"
    stored = Path(config_cache_path(str(config)))
    assert stored.is_file() and stored.is_relative_to(tmp_path / "xdg" / "dockfix")
    assert (tmp_path / "xdg" / "dockfix").stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in repo.iterdir()) == ["pyproject.toml"]  # nothing written into the repository

    def no_parsing(text: str) -> object:
        raise AssertionError("parsed again although the text is unchanged")

    with monkeypatch.context() as patch:
        patch.setattr(tomllib, "loads", no_parsing)
        assert ConfigFinder(cache=True).for_path(target).profile == "dev"
        with pytest.raises(AssertionError):  # without the cache it parses
            ConfigFinder(cache=False).for_path(target)
    config.write_text('[tool.dockfix]\nprofile = "staging"\n')  # edited: read afresh
    assert ConfigFinder(cache=True).for_path(target).profile == "staging"
    import json
    import sys

    from rewriter.profiles import CONFIG_CACHE_FORMAT

    stamp = [CONFIG_CACHE_FORMAT, list(sys.version_info[:2])]  # an entry for this very text, not TOML data
    stored.write_text(json.dumps([stamp, str(config), config.read_text(), {"tool": {"dockfix": {"profile": None}}}]))
    assert ConfigFinder(cache=True).for_path(target).profile == "staging"
    # an entry made for another file with the same text is not this file's
    stored.write_text(json.dumps([stamp, str(tmp_path / "other.toml"), config.read_text(),
                                  {"tool": {"dockfix": {"profile": "dev"}}}]))
    assert ConfigFinder(cache=True).for_path(target).profile == "staging"
    stored.write_bytes(b"\x00garbage")  # corrupt: ignored and replaced
    assert ConfigFinder(cache=True).for_path(target).profile == "staging"
    assert ConfigFinder(cache=True).for_path(target).profile == "staging"
    config.write_text('[tool.dockfix]\nprofile = [\n')  # broken TOML is an error, cache or not
    with pytest.raises(ConfigError):
        ConfigFinder(cache=True).for_path(target)


def test_check_no_cache_writes_no_config_cache(run_cli, tmp_path: Path) -> None:
    import os

    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nprofile = "dev"\n')
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: x\n")
    run_cli("check", "--no-cache", ".", cwd=tmp_path)
    cache_dir = Path(os.environ["DOCKFIX_CACHE_DIR"])  # the test's own, set by run_cli
    assert not (cache_dir / "config").exists()
    run_cli("check", ".", cwd=tmp_path)
    assert [p.name.split("-", 1)[1] for p in (cache_dir / "config").iterdir()] == ["pyproject.toml.json"]
