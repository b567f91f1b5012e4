"""What a Compose file, script or Python program is for: deployed, or development, test and CI.

A production profile is for what gets deployed. ``compose.dev.yaml``, a devcontainer's Compose file
or the stack an end-to-end test starts are not: a 512m limit or a pids limit there breaks a
developer's build or a test run and protects nothing. Such files get the ``dev`` profile (a bounded
/tmp and ``nofile``, no limits) whatever profile the run asks for, and every message says which
role was assumed and why.

By name (the file, or a directory on its path below the project root):

- dev: ``*.dev.*``, ``*-dev.*``, ``*_dev.*``, ``*.local.*``, ``*-local.*``, ``*.debug.*``; ``.devcontainer/``,
  ``hack/``
- test and CI: ``*.test.*``, ``*-test.*``, ``*.tests.*``, ``*.e2e.*``, ``*.ci.*``, ``*-ci.*``;
  ``test/``, ``tests/``, ``e2e/``, ``ci/``, ``.github/``, ``.gitlab/``, ``testdata/``

``[tool.dockfix] roles = {"deploy/*.yml" = "prod", "docker/test/*" = "none"}`` decides first
(globs relative to the config file; a glob without ``/`` matches the file name): ``prod`` is a
deployed file (the run's profile), ``dev`` the dev profile, ``none`` not checked at all.
Scripts (shell, Makefiles, CI workflows) and Python programs follow the same directories, and
their names by every word of the stem (``test.sh``, ``run-tests.sh``, ``ci.mk``, ``start-dev.sh``;
``test_*.py``, ``*_test.py``, ``conftest.py``): the database a test script starts with ``docker run
-d`` is a test's, and a 512m limit and a pids limit there protect nothing (docker-library's
``test/tests/*/run.sh`` got the prod profile's every setting before). A script or program named for
deploying (``deploy``, ``prod``) stays deployed wherever it is kept (``ci/deploy.sh``). Kubernetes
manifests and Dockerfiles are not classified by name. On top of its role, a one-shot ``docker run``
in a build or test script is a tool run that gets nothing (DF902, ``transforms/project.py``).
"""

from __future__ import annotations

import os

DEV_WORDS = ("dev", "develop", "development", "local", "debug")
TEST_WORDS = ("test", "tests", "e2e", "ci", "integration", "testing")
DEV_DIRS = (".devcontainer",)
# ``hack/``: the Go projects' directory of developer tooling (kubernetes, moby, buildkit,
# containerd): moby/buildkit's hack/composefiles/compose.yaml runs a privileged "buildkit-dev"
# builder, whose builds a pids limit of 512 would starve. Nothing there is deployed.
TOOLING_DIRS = ("hack",)
TEST_DIRS = ("test", "tests", "e2e", "ci", ".github", ".gitlab", "testdata", "integration-tests")

def upward(directory: str, levels: int = 64) -> list[str]:
    """``directory`` and the ones above it, up to the first with a ``.git`` (included) or
    ``levels`` levels up."""
    out = [directory]
    while len(out) <= levels and not os.path.exists(os.path.join(out[-1], ".git")):
        parent = os.path.dirname(out[-1])
        if parent == out[-1]:
            break
        out.append(parent)
    return out


def project_root(directory: str) -> str:
    """The repository root (:func:`rewriter.safefs.root_for`: the closest ``.git``, else the
    closest config file, else the working directory when ``directory`` is below it)."""
    from rewriter import safefs  # lazy: start-up

    return safefs.root_for(directory)


def _matches(glob: str, rel: str) -> bool:
    import fnmatch  # lazy: start-up

    if "/" not in glob:
        return fnmatch.fnmatchcase(rel.rsplit("/", 1)[-1], glob)
    return fnmatch.fnmatchcase(rel, glob.lstrip("./").lstrip("/"))


def role_of(path: str, kind: str, config_path: str, globs: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """(role, why) for the file at ``path``: ``("prod", "")`` for a deployed file."""
    absolute = os.path.abspath(path)
    if globs:
        base = os.path.dirname(os.path.abspath(config_path)) if config_path else os.getcwd()
        rel = os.path.relpath(absolute, base).replace(os.sep, "/")
        for glob, role in globs:
            if _matches(glob, rel):
                return role, f"the config's roles '{glob}'"
    if kind not in ("compose", "shell", "python"):
        return "prod", ""
    name = os.path.basename(absolute)
    if kind == "compose":  # compose.<word>.yaml, docker-compose-<word>.yml: the words between
        words = name.lower().replace("_", ".").replace("-", ".").split(".")[1:-1]
    else:  # run-tests.sh, test_db.py, ci.mk: every word of the stem
        words = _stem_words(name)
        if kind == "python" and (name == "conftest.py" or words[:1] == ["test"] or words[-1:] == ["test"]):
            return "dev", f"a test file by its name '{name}'"
        if any(word in DEPLOYED_WORDS for word in words):
            return "prod", ""  # ci/deploy.sh deploys, wherever it is kept
    for word in words:
        if word in DEV_WORDS:
            return "dev", f"a development file by its name '{name}'"
        if word in TEST_WORDS:
            return "dev", f"a test or CI file by its name '{name}'"
    root = project_root(os.path.dirname(absolute))
    rel_dir = os.path.relpath(os.path.dirname(absolute), root).replace(os.sep, "/")
    if rel_dir.startswith(".."):
        return "prod", ""
    for part in rel_dir.split("/"):
        if part in DEV_DIRS:
            return "dev", f"a development container's file under '{part}/'"
        if part in TOOLING_DIRS:
            return "dev", f"a developer tooling file under '{part}/'"
        if part.lower() in TEST_DIRS:
            return "dev", f"a test or CI file under '{part}/'"
    return "prod", ""


# a script or program named for deploying deploys, even under ci/ or .github/ (start-server.sh
# under tests/ starts a test's server: "start" alone says nothing about what it is for)
DEPLOYED_WORDS = ("deploy", "deployment", "prod", "production")


def _stem_words(name: str) -> list[str]:
    """The words of a file name without its extension: ``run-tests.sh`` -> ``["run", "tests"]``."""
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    return stem.lower().replace("_", "-").replace(".", "-").split("-")


TOOL_WORDS = ("build", "lint", "linter", "test", "tests", "check", "ci", "release", "publish", "package",
              "e2e", "fmt", "format", "bench", "smoke", "verify", "integration", "coverage", "docs")
DEPLOY_WORDS = ("deploy", "deployment", "start", "serve", "server", "up", "prod", "production", "launch",
                "entrypoint", "service")


def script_role(path: str) -> tuple[str, str]:
    """("tool", why) for a build, lint, test, CI or release script (Makefiles and CI workflows
    included), ("deploy", why) for a deploy or start script, ("", "") when the name says neither.

    In a tool script a ``docker run`` that is not detached runs a tool to completion (a linter, a
    test suite, ``app --version``): it is no deployment and needs no runtime limits."""
    absolute = os.path.abspath(path)
    name = os.path.basename(absolute)
    words = _stem_words(name)
    for word in words:
        if word in DEPLOY_WORDS:
            return "deploy", f"the deploy script '{name}'"
    if name in ("Makefile", "makefile", "GNUmakefile") or name.endswith(".mk"):
        return "tool", f"the Makefile '{name}'"
    rel = os.path.relpath(absolute, project_root(os.path.dirname(absolute))).replace(os.sep, "/")
    if "/.github/workflows/" in "/" + rel or name == ".gitlab-ci.yml":
        return "tool", f"the CI workflow '{name}'"
    for word in words:
        if word in TOOL_WORDS:
            return "tool", f"the {word} script '{name}'"
    for part in rel.split("/")[:-1]:
        if part.lower() in TEST_DIRS or part in TOOLING_DIRS:
            return "tool", f"a script under '{part}/'"
    return "", ""
