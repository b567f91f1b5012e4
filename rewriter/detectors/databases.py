"""Databases: PostgreSQL, MySQL/MariaDB, MongoDB and ClickHouse.

What each needs grows with its data, so without a setting that bounds its memory a built-in
limit is a guess (a suggestion). The settings read:

- PostgreSQL starts one process per connection, so a pids limit must leave room for
  ``max_connections`` (``-c max_connections=N`` in the command, ``POSTGRESQL_MAX_CONNECTIONS``
  or ``POSTGRES_MAX_CONNECTIONS``; default 100, PostgreSQL docs) plus the background workers.
  ``shared_buffers`` (``-c shared_buffers=1GB``; a bare number counts 8kB pages) lives inside the limit; the PostgreSQL docs
  find more than 40 % of the memory unlikely to help, so a limit derived from it is
  ``shared_buffers / 0.4`` and only a floor.
- MySQL and MariaDB run a thread per connection (``--max-connections``/``--max_connections``;
  default 151, MySQL docs); ``--innodb-buffer-pool-size`` is the bulk of their memory and stays
  at or below 75 % of the limit (MySQL docs: up to 80 % on a dedicated server).
- MongoDB's ``--wiredTigerCacheSizeGB`` defaults to 50 % of (memory - 1 GB) (MongoDB docs), so
  the limit keeps the cache at or below half; it runs a thread per connection.
- ClickHouse runs large thread pools (``max_thread_pool_size`` 10000 by default).
"""

from __future__ import annotations

import re

from rewriter.detectors.facts import Inputs, WorkloadFacts, repository_name
from rewriter.sizes import ByteSize

_BINARY = {"": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3,
           "t": 1024**4, "tb": 1024**4}
DATABASE = "a database, whose memory grows with its data"
MYSQL_TMP = ("MySQL and MariaDB write on-disk temporary tables, filesort merge files and ALTER TABLE sort "
             "files to tmpdir, /tmp unless --tmpdir says otherwise (MySQL docs, \"Where MySQL Stores "
             "Temporary Files\"), and they grow with the data")
BACKGROUND = 64  # processes or threads beside the connections: workers, autovacuum, WAL, replication


def _size(text: str) -> ByteSize | None:
    m = re.fullmatch(r"(\d+)\s*([kmgt]b?)?", text.strip().lower())
    return ByteSize(int(m.group(1)) * _BINARY[m.group(2) or ""]) if m else None


def _kind(inputs: Inputs) -> str:
    names = [repository_name(i) for i in ([inputs.image] if inputs.image else [])]
    names += [repository_name(b) for b, _ in inputs.bases]
    names += [inputs.command[0].rsplit("/", 1)[-1]] if inputs.command else []
    for name in names:
        if name.startswith(("postgres", "postgis", "timescaledb", "pgvector")):
            return "postgres"
        if name in ("mysql", "mariadb", "percona", "percona-server", "mysql-server", "mysqld", "mariadbd"):
            return "mysql"
        if name.startswith("mongo"):
            return "mongodb"
        if name.startswith("clickhouse"):
            return "clickhouse"
        if name.startswith("mssql") or name in ("server", "azure-sql-edge"):
            return "mssql"
    return ""


def _setting(command: str, names: str) -> tuple[str, str] | None:
    """The last ``name=value`` (``-c name=value``, ``--name=value``, ``--name value``) in the command."""
    found = None
    for m in re.finditer(rf"(?:-c\s*|--)(?:{names})(?:=|\s+)[\"']?([\w.]+)", command):
        flag = m.group(0).replace('"', "").replace("'", "")
        found = (m.group(1), f"{flag} in the command")
    return found


def _count(found: tuple[str, str] | None, default: int, source: str) -> tuple[int, str]:
    """A connection count as set, else the documented default."""
    if found is not None and found[0].isdigit():
        return int(found[0]), found[1]
    return default, source


def _sized(command: str, names: str, unit: int = 1) -> tuple[ByteSize | None, str]:
    """A memory size set in the command (``-c shared_buffers=1GB``) and where, or (None, '');
    a bare number counts in ``unit`` bytes (PostgreSQL's shared_buffers: 8kB pages)."""
    found = _setting(command, names)
    size = _size(found[0]) if found is not None else None
    if size is not None and found is not None and found[0].isdigit():
        size = ByteSize(size.bytes * unit)
    return (size, found[1]) if found is not None and size is not None else (None, "")


def detect(inputs: Inputs, evidence: str) -> WorkloadFacts:
    kind = _kind(inputs)
    command = " ".join(inputs.command)
    if kind == "postgres":
        found = _setting(command, "max_connections|max-connections")
        for name in ("POSTGRESQL_MAX_CONNECTIONS", "POSTGRES_MAX_CONNECTIONS"):
            variable = inputs.variable(name)
            if found is None and variable is not None and variable[0].strip().isdigit():
                found = (variable[0].strip(), f"{name}={variable[0].strip()} in {variable[1]}")
        connections, source = _count(found, 100, "PostgreSQL's default max_connections")
        heap, heap_source = _sized(command, "shared_buffers|shared-buffers", 8192)
        return WorkloadFacts(
            kind=kind, evidence=evidence, heavy=DATABASE, heap=heap, heap_source=heap_source, heap_ratio=0.4,
            heap_is_floor=True, ratio_source="PostgreSQL docs: shared_buffers above 40 % of the memory "
                                             "is unlikely to help",
            connections=connections, connections_source=source)
    if kind == "mysql":
        connections, source = _count(_setting(command, "max[-_]connections"), 151, "MySQL's default max_connections")
        heap, heap_source = _sized(command, "innodb[-_]buffer[-_]pool[-_]size")
        tmpdir = re.search(r"--tmpdir(?:=|\s+)[\"']?([^\s\"']+)", command)
        scratch = "" if tmpdir is not None and not tmpdir.group(1).startswith("/tmp") else MYSQL_TMP
        return WorkloadFacts(
            kind=kind, evidence=evidence, heavy=DATABASE, heap=heap, heap_source=heap_source,
            ratio_source="MySQL docs: the buffer pool takes up to 80 % of a dedicated server's memory, "
                         "connections and buffers need the rest",
            connections=connections, connections_source=source, scratch_tmp=scratch,
            scratch_effect="fails a large sort or ALTER TABLE; point --tmpdir at a volume, or give /tmp a tmpfs "
                           "you size")
    if kind == "mongodb":
        heap_found: tuple[ByteSize, str] | None = None
        m = None
        for m in re.finditer(r"--wiredTigerCacheSizeGB(?:=|\s+)[\"']?(\d+(?:\.\d+)?)", command):
            pass
        if m is not None:
            heap_found = (ByteSize(int(float(m.group(1)) * 1024**3)), f"{m.group(0)} in the command")
        return WorkloadFacts(
            kind=kind, evidence=evidence, heavy=DATABASE, heap=heap_found[0] if heap_found else None,
            heap_source=heap_found[1] if heap_found else "", heap_ratio=0.5,
            ratio_source="MongoDB docs: the WiredTiger cache defaults to half of (memory - 1 GB)",
            threads="MongoDB runs a thread per connection and accepts up to a million connections")
    if kind == "clickhouse":
        return WorkloadFacts(kind=kind, evidence=evidence, heavy=DATABASE,
                             threads="ClickHouse's thread pools run hundreds of threads "
                                     "(max_thread_pool_size 10000)")
    if kind == "mssql":
        # SQL Server refuses to start below 2000 MB (sqlservr: "This program requires a machine
        # with at least 2000 megabytes of memory"; Azure SQL Edge documents 1 GB as its minimum),
        # and its default "max worker threads" is 512
        # on up to 4 CPUs and more above (SQL Server docs), each a thread of the container.
        edge = any(repository_name(i) == "azure-sql-edge" for i in [inputs.image or ""] + [b for b, _ in inputs.bases])
        floor = (ByteSize(1024**3), "Azure SQL Edge's minimum of 1 GB") if edge else (
            ByteSize(2000 * 1024**2), "SQL Server's minimum of 2000 MB")
        return WorkloadFacts(kind=kind, evidence=evidence, heavy=DATABASE, heap=floor[0],
                             heap_source=floor[1], heap_ratio=1.0, heap_is_floor=True,
                             ratio_source="it does not start with less",
                             threads="SQL Server runs up to 512 worker threads on 4 CPUs, more on larger "
                                     "hosts (max worker threads), besides its system threads")
    return WorkloadFacts(kind="database", evidence=evidence, heavy=DATABASE)
