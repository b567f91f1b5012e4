"""Issue 13's "done when": a repository with a Compose stack for development and Kubernetes
manifests for production (a Go API and a worker, a database StatefulSet) gets consistent values on
both from one ``dockfix apply --profile prod``: the same GOMEMLIMIT budget, a sized memory-backed
/tmp, no invented limit on the database without a note, every manifest still valid and
byte-identical outside the edits, and a second run changes nothing."""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixture_runner import kubernetes_error  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCKFIX = [sys.executable, "-m", "rewriter"]

DOCKERFILE = """\
FROM golang:1.24 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app .

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
"""

COMPOSE = """\
# docker compose up: the whole stack on a laptop
services:
  api:
    build: ./api
    image: example/api:dev
    mem_limit: 768m
    ports:
      - "8080:8080"
    depends_on: [db]
  worker:
    build:
      context: ./worker
    image: example/worker:dev
    mem_limit: 512m
    environment:
      QUEUE: jobs
  db:
    image: postgres:17
    environment:
      POSTGRES_PASSWORD: example
"""

API = """\
# production: the API
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: registry.example.com/example/api:1.4.2
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: 500m
              memory: 768Mi
            limits:
              cpu: "2"
              memory: 768Mi
---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector:
    app: api
  ports:
    - port: 80
      targetPort: 8080
"""

WORKER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  selector:
    matchLabels: {app: worker}
  template:
    metadata:
      labels: {app: worker}
    spec:
      containers:
        - name: worker
          image: example/worker:1.4.2
          env:
            - name: QUEUE
              value: jobs
          resources:
            limits:
              memory: 512Mi
"""

DB = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      containers:
        - name: postgres
          image: postgres:17
          volumeMounts:
            - name: data
              mountPath: /var/lib/postgresql/data
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: ["ReadWriteOnce"]
        resources:
          requests:
            storage: 10Gi
"""


def make_repo(root: Path) -> dict[str, str]:
    files = {
        "compose.yaml": COMPOSE,
        "api/Dockerfile": DOCKERFILE, "api/go.mod": "module example.com/api\n\ngo 1.24\n",
        "worker/Dockerfile": DOCKERFILE, "worker/go.mod": "module example.com/worker\n\ngo 1.24\n",
        "deploy/k8s/api.yaml": API, "deploy/k8s/worker.yaml": WORKER, "deploy/k8s/db.yaml": DB,
    }
    (root / ".git").mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return files


def dockfix(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(DOCKFIX + list(args), cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def gomemlimits(text: str) -> list[str]:
    """Every GOMEMLIMIT value in a Compose file or a manifest, in order."""
    out = re.findall(r"GOMEMLIMIT[=:]\s*\"?([0-9]+MiB)", text)
    out += re.findall(r"name: GOMEMLIMIT\n\s+value: \"?([0-9]+MiB)", text)
    return out


def test_one_apply_gives_both_surfaces_the_same_budget(tmp_path: Path) -> None:
    before = make_repo(tmp_path)
    result = dockfix(tmp_path, "apply", "--profile", "prod", "--no-cache", ".")
    after = {name: (tmp_path / name).read_text() for name in before}

    # the same GOMEMLIMIT budget on both surfaces: 0.9 x (768 MiB - 64 MiB /tmp) and 0.9 x (512 - 64)
    compose = after["compose.yaml"]
    assert gomemlimits(compose) == ["633MiB", "403MiB"], compose
    assert gomemlimits(after["deploy/k8s/api.yaml"]) == ["633MiB"], after["deploy/k8s/api.yaml"]
    assert gomemlimits(after["deploy/k8s/worker.yaml"]) == ["403MiB"], after["deploy/k8s/worker.yaml"]
    # a sized memory-backed /tmp, in each surface's units
    assert "/tmp:size=64m" in compose
    for name in ("deploy/k8s/api.yaml", "deploy/k8s/worker.yaml"):
        assert "medium: Memory\n" in after[name] and "sizeLimit: 64Mi\n" in after[name]
        assert "mountPath: /tmp\n" in after[name]
    # Go 1.24 with a CPU limit of 2: GOMAXPROCS "2" (a string, as the API wants)
    assert 'value: "2"' in after["deploy/k8s/api.yaml"]

    # no invented limit on the database: a suggestion that says so (and what would settle it)
    assert "memory:" not in after["deploy/k8s/db.yaml"].split("volumeClaimTemplates")[0]
    checked = dockfix(tmp_path, "check", "--profile", "prod", "--no-cache", "--output-format", "json", ".")
    findings = json.loads(checked.stdout)
    db = [f for f in findings if f["filename"].endswith("db.yaml") and f["code"] == "DF301"]
    assert len(db) == 1 and "suggestion" in db[0]["message"], checked.stdout

    # every manifest still valid, and byte-identical outside the edits: each original line is
    # still there, in order (edits only insert lines or change a value in place)
    for name, text in before.items():
        if name.endswith(".yaml") and "k8s" in name:
            assert kubernetes_error(after[name]) == "", name
        matcher = difflib.SequenceMatcher(a=text.splitlines(True), b=after[name].splitlines(True), autojunk=False)
        removed = [op for op in matcher.get_opcodes() if op[0] in ("delete", "replace")]
        assert not removed, (name, removed)

    # a second run changes nothing
    again = dockfix(tmp_path, "apply", "--profile", "prod", "--no-cache", ".")
    assert {name: (tmp_path / name).read_text() for name in before} == after, again.stdout + again.stderr
    assert result.returncode in (0, 1), result.stderr
