# A private Docker engine for the runtime probes (tests/test_runtime_probes.py).
# Sourced by .ci/run; to run the probes locally, as root:
#   . .ci/engine.sh && engine_start && .venv/bin/python -m pytest -q tests/test_runtime_probes.py
# engine_start runs dockerd with its own data root and socket under /tmp/dockfix-engine.XXXXXX:
# vfs storage (no overlay mount is needed inside another container), no bridge and no iptables
# (the probes need no network and nothing is pulled). On success DOCKER_HOST points at it and an
# EXIT trap stops it; without dockerd or root it does nothing and the probes skip (under CI=true
# they fail instead, see the test module).

engine_stop() {
  if [ -n "${DOCKFIX_ENGINE_PID:-}" ] && kill -0 "$DOCKFIX_ENGINE_PID" 2>/dev/null; then
    kill "$DOCKFIX_ENGINE_PID" 2>/dev/null || true
    # dockerd stops its containers and its containerd first: give it 20 s, then kill it
    for _ in $(seq 1 40); do
      kill -0 "$DOCKFIX_ENGINE_PID" 2>/dev/null || break
      sleep 0.5
    done
    kill -9 "$DOCKFIX_ENGINE_PID" 2>/dev/null || true
  fi
  if [ -n "${DOCKFIX_ENGINE_DIR:-}" ] && [ -d "$DOCKFIX_ENGINE_DIR" ]; then
    # vfs keeps full copies of every layer; nothing under the data root is mounted once dockerd is gone
    rm -rf "$DOCKFIX_ENGINE_DIR" 2>/dev/null || true
  fi
  DOCKFIX_ENGINE_PID=
}

engine_start() {
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "engine: dockerd not found; the runtime probes will skip (fail under CI=true)" >&2
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "engine: not root, dockerd not started; the runtime probes use DOCKER_HOST if it answers" >&2
    return 0
  fi
  DOCKFIX_ENGINE_DIR=$(mktemp -d /tmp/dockfix-engine.XXXXXX)
  export DOCKFIX_ENGINE_LOG="$DOCKFIX_ENGINE_DIR/dockerd.log"
  dockerd --data-root "$DOCKFIX_ENGINE_DIR/root" --exec-root "$DOCKFIX_ENGINE_DIR/exec" \
    -H "unix://$DOCKFIX_ENGINE_DIR/docker.sock" --pidfile "$DOCKFIX_ENGINE_DIR/dockerd.pid" \
    --storage-driver vfs --bridge none --iptables=false --ip6tables=false \
    >"$DOCKFIX_ENGINE_LOG" 2>&1 &
  DOCKFIX_ENGINE_PID=$!
  trap engine_stop EXIT
  # bounded wait: dockerd starts its own containerd first (about 2 s here); 60 s at most
  for _ in $(seq 1 120); do
    if DOCKER_HOST="unix://$DOCKFIX_ENGINE_DIR/docker.sock" docker version >/dev/null 2>&1; then
      export DOCKER_HOST="unix://$DOCKFIX_ENGINE_DIR/docker.sock"
      echo "engine: dockerd $(docker version --format '{{.Server.Version}}') at $DOCKER_HOST" >&2
      return 0
    fi
    if ! kill -0 "$DOCKFIX_ENGINE_PID" 2>/dev/null; then
      break
    fi
    sleep 0.5
  done
  echo "engine: dockerd did not answer; last lines of its log:" >&2
  tail -n 20 "$DOCKFIX_ENGINE_LOG" >&2 || true
  engine_stop
  return 0
}
