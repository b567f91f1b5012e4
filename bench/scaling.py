"""How dockfix's time and memory grow with the size of one file (issue 15, "bounded work").

Generates Compose files of 1,000 / 4,000 / 16,000 services (and a Dockerfile, a workflow, a
shell script and a Kubernetes manifest of matching sizes), runs ``dockfix check`` and ``dockfix diff`` on each in a fresh
process, and prints wall-clock time, CPU time and peak RSS per size, with the ratio of each row's
CPU time to the previous row's: linear growth shows as a ratio close to the ratio of sizes (4).
CPU time is the figure to compare on a shared machine (wall-clock time includes waiting).

    python3 bench/scaling.py                    # all kinds, sizes 1000 4000 16000
    python3 bench/scaling.py --kinds compose --sizes 500 2000 8000

Not a test: nothing is asserted. The numbers in SECURITY.md ("Bounded work") come from here.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def compose(n: int) -> tuple[str, str]:
    return "compose.yaml", "services:\n" + "".join(f"  s{i}:\n    image: nginx\n" for i in range(n))


def dockerfile(n: int) -> tuple[str, str]:
    # n instructions, a misuse in every tenth (each one a finding)
    lines = ["FROM alpine:3.20"]
    for i in range(n):
        lines.append("RUN echo 'ulimit -n 65536' >> /etc/profile" if i % 10 == 0 else f"RUN echo step {i}")
    return "Dockerfile", "\n".join(lines) + "\n"


def workflow(n: int) -> tuple[str, str]:
    steps = "".join(f"      - run: docker run --name c{i} -e V=${{{{ matrix.v }}}} nginx\n" for i in range(n))
    return ".github/workflows/ci.yml", f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n{steps}"


def shell(n: int) -> tuple[str, str]:
    return "run.sh", "#!/bin/sh\n" + "".join(f"docker run -d --name c{i} nginx\n" for i in range(n))


def kubernetes(n: int) -> tuple[str, str]:
    # n Deployments of one container each, as one multi-document manifest
    doc = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\nspec:\n  template:\n    spec:\n"
           "      containers:\n        - name: c\n          image: nginx\n")
    return "deploy.yaml", "---\n".join(doc.format(i=i) for i in range(n))


KINDS = {"compose": compose, "dockerfile": dockerfile, "workflow": workflow, "shell": shell, "kubernetes": kubernetes}


def measure(command: str, path: Path) -> tuple[int, float, float, int]:
    """Exit code, wall seconds, CPU seconds and peak RSS (KB) of one run in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # through ``entry``, as the ``dockfix`` script runs (it sets the collector's threshold)
    proc = subprocess.run([sys.executable, "-c", "from rewriter.cli import entry; entry()", command, path.name,
                           "--no-cache", "--jobs", "1"],
                          cwd=path.parent, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest any child reached so far: each run is measured in its
    # own measuring process below so that the figure belongs to this run
    return proc.returncode, wall, cpu, after.ru_maxrss


def measure_isolated(command: str, path: Path) -> tuple[int, float, float, int]:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from bench.scaling import measure; from pathlib import Path; "
            "print(*measure(sys.argv[2], Path(sys.argv[3])))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT), command, str(path)], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), float(out[1]), float(out[2]), int(out[3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    parser.add_argument("--kinds", nargs="+", choices=sorted(KINDS), default=list(KINDS))
    parser.add_argument("--commands", nargs="+", default=["check", "diff"])
    args = parser.parse_args()
    print(f"{'kind':<10} {'command':<7} {'size':>7} {'bytes':>9} {'exit':>4} {'wall s':>8} {'cpu s':>8} "
          f"{'cpu ratio':>9} {'peak MB':>8}")
    with tempfile.TemporaryDirectory(prefix="dockfix-scaling-") as tmp:
        for kind in args.kinds:
            for command in args.commands:
                previous = None
                for n in args.sizes:
                    name, text = KINDS[kind](n)
                    path = Path(tmp) / f"{kind}-{n}" / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text)
                    code, wall, cpu, rss = measure_isolated(command, path)
                    ratio = f"{cpu / previous:.1f}" if previous else ""
                    previous = cpu
                    print(f"{kind:<10} {command:<7} {n:>7} {len(text.encode()):>9} {code:>4} {wall:>8.2f} "
                          f"{cpu:>8.2f} {ratio:>9} {rss / 1024:>8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
