"""What ``docker run`` / ``docker create`` (and ``podman run``) accept before the image word.

The lists follow docker/cli's ``container run`` reference (``docs/reference/commandline/
container_run.md``): a flag either takes a value (``--name x``, ``--name=x``) or is a boolean
(``--rm``, ``--rm=false``). Short flags bundle the pflag way (``-it``, ``-dit``, ``-m512m``): in a
bundle, the first flag that takes a value takes the rest of the word, or the next word when it is
last. Knowing which flags take a value is what finds the image word; a flag that is in neither
list makes the command ambiguous, and the surface then refuses to edit it rather than guess.
"""

from __future__ import annotations

# Long flags that take a value (hidden aliases included: --net, --net-alias, --dns-opt).
VALUE_FLAGS = frozenset({
    "--add-host", "--annotation", "--attach", "--blkio-weight", "--blkio-weight-device",
    "--cap-add", "--cap-drop", "--cgroup-parent", "--cgroupns", "--cidfile", "--cpu-count",
    "--cpu-percent", "--cpu-period", "--cpu-quota", "--cpu-rt-period", "--cpu-rt-runtime",
    "--cpu-shares", "--cpus", "--cpuset-cpus", "--cpuset-mems", "--detach-keys", "--device",
    "--device-cgroup-rule", "--device-read-bps", "--device-read-iops", "--device-write-bps",
    "--device-write-iops", "--dns", "--dns-option", "--dns-opt", "--dns-search", "--domainname",
    "--entrypoint", "--env", "--env-file", "--expose", "--gpus", "--group-add", "--health-cmd",
    "--health-interval", "--health-retries", "--health-start-interval", "--health-start-period",
    "--health-timeout", "--hostname", "--io-maxbandwidth", "--io-maxiops", "--ip", "--ip6",
    "--ipc", "--isolation", "--kernel-memory", "--label", "--label-file", "--link",
    "--link-local-ip", "--log-driver", "--log-opt", "--mac-address", "--memory",
    "--memory-reservation", "--memory-swap", "--memory-swappiness", "--mount", "--name",
    "--network", "--net", "--network-alias", "--net-alias", "--oom-score-adj", "--pid",
    "--pids-limit", "--platform", "--publish", "--pull", "--restart", "--runtime",
    "--security-opt", "--shm-size", "--stop-signal", "--stop-timeout", "--storage-opt",
    "--sysctl", "--tmpfs", "--ulimit", "--user", "--userns", "--uts", "--volume",
    "--volume-driver", "--volumes-from", "--workdir",
})

BOOL_FLAGS = frozenset({
    "--detach", "--help", "--init", "--interactive", "--no-healthcheck", "--oom-kill-disable",
    "--privileged", "--publish-all", "--quiet", "--read-only", "--rm", "--sig-proxy", "--tty",
    "--use-api-socket", "--disable-content-trust",
})

SHORT_VALUE = {"a": "--attach", "c": "--cpu-shares", "e": "--env", "h": "--hostname",
               "l": "--label", "m": "--memory", "p": "--publish", "u": "--user", "v": "--volume",
               "w": "--workdir"}
SHORT_BOOL = {"d": "--detach", "i": "--interactive", "t": "--tty", "P": "--publish-all",
              "q": "--quiet"}

ALIASES = {"--net": "--network", "--net-alias": "--network-alias", "--dns-opt": "--dns-option"}

# docker's global options (before the subcommand) that take a value, and the boolean ones.
GLOBAL_VALUE = frozenset({"--config", "--context", "-c", "--host", "-H", "--log-level", "-l",
                          "--tlscacert", "--tlscert", "--tlskey"})
GLOBAL_BOOL = frozenset({"--debug", "-D", "--tls", "--tlsverify"})

# Commands that run the next word as the command (no options of their own accepted here).
WRAPPERS = frozenset({"sudo", "exec", "command", "nohup", "time"})


def canonical(flag: str) -> str:
    """The long name the model uses for a flag (``-m`` and ``--memory`` are one setting)."""
    if len(flag) == 2 and flag[0] == "-":
        return SHORT_VALUE.get(flag[1]) or SHORT_BOOL.get(flag[1]) or flag
    return ALIASES.get(flag, flag)
