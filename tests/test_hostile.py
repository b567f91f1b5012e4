"""Hostile and broken input: each bad file gets a clear message and exit 2, the others are still
fixed, and nothing is written to the bad ones (or through links, or over a changed file)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rewriter import runner
from rewriter.cli import main
from rewriter.yamlview import MAX_RESOLVED_NODES

GOOD = b"services:\n  api:\n    image: nginx  # keep me\n"


def _bomb(levels: int = 9) -> bytes:
    lines = ["x-l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"x-l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    lines += ["services:", "  api:", "    image: nginx", f"    labels: *l{levels}"]
    return ("\n".join(lines) + "\n").encode()


def _merge_bomb(levels: int = 40) -> bytes:
    """Each level merges the previous one twice (directly and through a sibling): 2**40 paths."""
    lines = ["x-a0: &a0 {k0: 1}"]
    for i in range(1, levels + 1):
        lines.append(f"x-b{i}: &b{i} {{<<: [*a{i - 1}], q{i}: 1}}")
        lines.append(f"x-a{i}: &a{i} {{<<: [*a{i - 1}, *b{i}], k{i}: 1}}")
    lines += ["services:", "  api:", "    image: nginx", f"    <<: *a{levels}"]
    return ("\n".join(lines) + "\n").encode()


HOSTILE: dict[str, tuple[bytes, str]] = {
    "malformed": (b"services:\n  api: [image: nginx\n", "invalid YAML"),
    "not-a-mapping": (b"- api\n- web\n", "must be a mapping at the top level, not a sequence"),
    "scalar-services": (b"services: nginx\n", "'services' must be a mapping"),
    "multi-document": (GOOD + b"---\n" + GOOD, "multi-document YAML is not a Compose file"),
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)), "binary file"),
    "invalid-utf8": (b"services:\n  api:\n    image: ngi\xffnx\n", "not valid UTF-8 (byte 0xff)"),
    "alias-bomb": (_bomb(), f"document expands to more than {MAX_RESOLVED_NODES} nodes"),
    "recursive-alias": (b"x: &a [1, *a]\nservices:\n  api:\n    image: a\n", "alias refers to its own node"),
    "recursive-merge": (b"x: &a\n  k: 1\n  <<: *a\nservices:\n  api:\n    <<: *a\n",
                        "merge key ('<<') refers to its own mapping"),
    "duplicate-key": (b"services:\n  api:\n    image: a\n    image: b\n", "duplicate key 'image'"),
}


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_and_the_good_one_is_fixed(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, message = HOSTILE[name]
    bad = _write(tmp_path / f"{name}" / "compose.yaml", data)
    good = _write(tmp_path / "good" / "compose.yaml", GOOD)
    rc, _, err = _run(["apply", "--jobs", "1", str(bad), str(good)], capsys)
    assert rc == 2
    assert f"{bad}:" in err and message in err, err
    assert bad.read_bytes() == data
    fixed = good.read_bytes()
    assert fixed.startswith(GOOD) and b"pids_limit: 512" in fixed
    assert sorted(os.listdir(bad.parent)) == ["compose.yaml"]


def test_merge_bomb_is_resolved_in_linear_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Merging the same anchors again and again is legal YAML: it must be handled, not hang."""
    path = _write(tmp_path / "compose.yaml", _merge_bomb())
    rc, out, _ = _run(["check", "--select", "DF401", str(path)], capsys)
    assert rc == 1
    assert "DF401" in out


def test_huge_file_is_refused_by_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "compose.yaml"
    with open(big, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB of NULs without writing them
    rc, _, err = _run(["apply", "--jobs", "1", str(big)], capsys)
    assert rc == 2
    assert f"file is too large ({50 * 1024 * 1024} bytes; the limit is {runner.MAX_FILE_BYTES})" in err


def test_symlink_out_of_the_tree_is_never_written_through(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = _write(tmp_path / "outside" / "compose.yaml", GOOD)
    repo = tmp_path / "repo"
    repo.mkdir()
    link = repo / "compose.yaml"
    link.symlink_to(outside)
    good = _write(repo / "app" / "compose.yaml", GOOD)
    rc, _, err = _run(["apply", "--jobs", "1", str(link), str(good)], capsys)
    assert rc == 2
    assert "is a symbolic link; dockfix never reads or writes through links" in err
    assert outside.read_bytes() == GOOD and link.is_symlink()
    assert b"pids_limit" in good.read_bytes()
    # walking a directory does not follow the link at all
    good.write_bytes(GOOD)
    rc, _, err = _run(["apply", "--unsafe-fixes", "--jobs", "1", str(repo)], capsys)  # nothing remains
    assert rc == 0, err
    assert outside.read_bytes() == GOOD


def test_read_only_file_is_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "compose.yaml", GOOD)
    path.chmod(0o444)  # root may still write it: dockfix must honour the mode bits anyway
    try:
        rc, _, err = _run(["apply", "--jobs", "1", str(path)], capsys)
    finally:
        path.chmod(0o644)
    assert rc == 2
    assert "file is read-only; not overwritten" in err
    assert path.read_bytes() == GOOD
    assert os.listdir(tmp_path) == ["compose.yaml"]


def test_file_changed_between_read_and_write_is_not_overwritten(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "compose.yaml", GOOD)
    edited = GOOD + b"    # the user typed this while dockfix ran\n"
    real_run_all = runner.run_all

    def run_then_edit(*args: object, **kwargs: object) -> object:
        results = real_run_all(*args, **kwargs)  # type: ignore[arg-type]
        path.write_bytes(edited)
        return results

    monkeypatch.setattr("rewriter.app.run_all", run_then_edit)
    rc, _, err = _run(["apply", "--jobs", "1", str(path)], capsys)
    assert rc == 2
    assert "file changed on disk while dockfix was working; not overwritten" in err
    assert path.read_bytes() == edited


@pytest.mark.parametrize("where", ["fsync", "write"])
def test_full_disk_leaves_the_original_and_no_temp_file(
        where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "compose.yaml", GOOD)

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if where == "fsync":
        monkeypatch.setattr("rewriter.runner.os.fsync", no_space)
    else:
        real_fdopen = os.fdopen

        class FullFile:
            def __init__(self, fd: int, mode: str) -> None:
                self.fh = real_fdopen(fd, mode)

            def __enter__(self) -> FullFile:
                return self

            def __exit__(self, *exc: object) -> None:
                self.fh.close()

            def write(self, data: bytes) -> int:
                self.fh.write(data[: len(data) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr("rewriter.runner.os.fdopen", FullFile)
    rc, _, err = _run(["apply", "--jobs", "1", str(path)], capsys)
    assert rc == 2
    assert "cannot write: No space left on device; the file is unchanged" in err
    assert path.read_bytes() == GOOD
    assert os.listdir(tmp_path) == ["compose.yaml"]


def test_yaml_tags_never_construct_or_run_anything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "pwned"
    data = (f"x-evil: !!python/object/apply:os.system ['touch {marker}']\n"
            "services:\n  api:\n    image: nginx\n").encode()
    path = _write(tmp_path / "compose.yaml", data)
    rc, _, err = _run(["apply", "--unsafe-fixes", "--jobs", "1", str(path)], capsys)  # nothing remains
    assert rc == 0, err
    assert not marker.exists()
    assert path.read_bytes().startswith(data)


def test_subprocess_run_reports_each_bad_file_and_fixes_the_rest(tmp_path: Path) -> None:
    bad_utf8 = _write(tmp_path / "a" / "compose.yaml", HOSTILE["invalid-utf8"][0])
    bomb = _write(tmp_path / "b" / "compose.yaml", HOSTILE["alias-bomb"][0])
    good = _write(tmp_path / "c" / "compose.yaml", GOOD)
    proc = subprocess.run([sys.executable, "-m", "rewriter", "apply", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert f"{bad_utf8}:3:15: not valid UTF-8 (byte 0xff)" in proc.stderr
    assert f"{bomb}:" in proc.stderr and "alias bomb" in proc.stderr
    assert "2 files could not be processed" in proc.stderr
    assert b"pids_limit: 512" in good.read_bytes()


def test_subprocess_stdin_binary_is_refused_and_echoed_unchanged() -> None:
    data = b"\x00\x01\x02binary"
    proc = subprocess.run([sys.executable, "-m", "rewriter", "apply", "--stdin-filename", "compose.yaml", "-"],
                          input=data, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert b"compose.yaml:1:1: binary file (contains NUL bytes)" in proc.stderr
    assert proc.stdout == data
