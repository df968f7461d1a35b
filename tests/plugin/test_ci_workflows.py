"""The CI workflows of docs/ci.md install and run a product's suite on a fresh machine.

A tutor-style project (the product of ``examples/tutor``, in a ``src`` layout so that only
an install makes ``import tutor`` work, with its test module and committed cassette) is
put in a git repository; the plugin is installed the way the page says, from a git URL
pinned to a commit (a snapshot of this checkout, so the URL points at what is being
tested; in CI's fresh clone the two are the same); then every job of the GitHub Actions
workflow and of the GitLab CI pipeline runs its steps (tests/ciworkflows.py), each job in a
fresh clone of the project, all in one fresh virtual environment that installs from the
package index (no ``--system-site-packages``, no ``--no-deps``). The shards replay the
cassettes (no model server, no key, no llama.cpp build: the ``local`` extra is never
installed here) and the merge jobs unite their reports and cassettes.

It takes 85-110 s on 2 cores with little else running, about half of it the first
install; run with ``-s`` to see each command's time.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.ciworkflows import Runner, run_github, run_gitlab
from tests.unit.test_ci_docs import blocks

ROOT = Path(__file__).resolve().parents[2]


def git(cwd: Path, *args: str) -> str:
    """``git ARGS`` in ``cwd``, with an identity of its own; returns what it printed."""
    return subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@localhost", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.strip()


def commit_all(path: Path) -> str:
    """Makes ``path`` a git repository with one commit of everything in it; its hash."""
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "snapshot")
    return git(path, "rev-parse", "HEAD")


def plugin_repository(target: Path) -> str:
    """This checkout's files as a git repository at ``target`` (what a push of the work
    tree would hold: tracked and new files, not ignored ones); the commit's hash."""
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return commit_all(target)


def tutor_project(target: Path) -> None:
    """A product team's project: the tutor package, its test module and cassette, and the
    demo's ``[tool.xgen]`` models."""
    (target / "src").mkdir(parents=True)
    shutil.copytree(ROOT / "examples" / "tutor", target / "src" / "tutor")
    tests = target / "tests"
    tests.mkdir()
    shutil.copy2(ROOT / "examples" / "problems.py", tests / "problems.py")
    source = (ROOT / "examples" / "test_tutor_demo.py").read_text(encoding="utf-8")
    for old, new in [
        ("from examples import problems as p", "import problems as p"),
        ("examples.tutor.app", "tutor.app"),
    ]:
        assert old in source, f"examples/test_tutor_demo.py no longer has {old!r}"
        source = source.replace(old, new)
    (tests / "test_tutor_demo.py").write_text(source, encoding="utf-8")
    cassettes = target / "fixtures" / "cassettes" / "tests"
    cassettes.mkdir(parents=True)
    shutil.copy2(ROOT / "fixtures" / "cassettes" / "examples" / "test_tutor_demo.jsonl", cassettes)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    xgen = pyproject[pyproject.index("\n[tool.xgen]\n") :]
    assert not re.search(r"^\[(?!tool\.xgen)", xgen, re.M), "[tool.xgen] is no longer last"
    (target / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '\n[project]\nname = "tutor"\nversion = "1.0"\ndependencies = ["openai>=1.40"]\n'
        '\n[tool.setuptools.packages.find]\nwhere = ["src"]\n' + xgen,
        encoding="utf-8",
    )
    (target / ".gitignore").write_text(".xgen/\n.hypothesis/\n__pycache__/\n*.egg-info/\n")


def clean_environment(venv: Path) -> dict[str, str]:
    """This process's environment as a fresh runner would have it: the virtual
    environment first on the PATH, nothing of this checkout's environment or test run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XGEN_", "PYTEST_", "PYTHON", "VIRTUAL_ENV", "COV_"))
    }
    ours = str(ROOT / ".venv")
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and not p.startswith(ours)]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    return env


# Where the installed plugin's files are, and the commit and URL pip recorded for it.
INSTALLED = """
import json, pytest_xgen
from importlib.metadata import distribution
url = json.loads(distribution("pytest-xgen").read_text("direct_url.json"))
print(pytest_xgen.__file__, url["vcs_info"]["commit_id"], url["url"])
"""


def show_timings(runner: Runner) -> None:
    """Prints how long each command of each job took (seen with ``pytest -s``)."""
    for job in runner.jobs:
        for line, took in job.timings:
            print(f"{job.name}: {took:6.1f} s  {line}")


def report(path: Path) -> dict[str, Any]:
    """A JSON report written by a job."""
    found = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(found, dict)
    return found


def test_the_ci_workflows_install_the_plugin_and_the_product_and_replay_from_a_clone(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    plugin, project = tmp_path / "pytest-xgen", tmp_path / "tutor-app"
    commit = plugin_repository(plugin)
    tutor_project(project)
    commit_all(project)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = clean_environment(venv)
    # Nothing of this checkout is importable in the fresh environment.
    probe = "import importlib.util as u; print(u.find_spec('pytest_xgen'), u.find_spec('tutor'))"
    seen = subprocess.run(
        ["python", "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert seen.stdout.split() == ["None", "None"], seen.stdout

    # A URL with a host, as PEP 508 requires of a requirement's URL (git+file:/// is refused).
    source = f"pytest-xgen @ git+file://localhost{plugin}@{commit}"
    github, gitlab = blocks()
    runner = Runner(repo=project, work=tmp_path / "github", env=env)
    run_github(github, runner, event="push", env={"XGEN_PLUGIN": source})
    assert not runner.failures(), runner.failures()
    show_timings(runner)
    assert [j.name for j in runner.jobs] == ["shard 1", "shard 2", "shard 3", "merge"]
    merged = report(tmp_path / "github" / "artifacts" / "baseline" / "run.json")
    check_merged(merged, project / "tests" / "test_tutor_demo.py")
    summary = (tmp_path / "github" / "runner-temp" / "merge" / "step-summary.md").read_text()
    assert "test_the_tutors_explanation_transfers_its_mistake" in summary
    cassettes = tmp_path / "github" / "artifacts" / "merged-cassettes"
    assert [p.name for p in cassettes.rglob("*.jsonl")] == ["test_tutor_demo.jsonl"]

    # The plugin was installed (not found on a path) from the pinned commit of the clone.
    installed = subprocess.run(
        ["python", "-c", INSTALLED],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert installed[0].startswith(str(venv)), installed
    assert installed[1:] == [commit, f"file://localhost{plugin}"], installed

    runner = Runner(repo=project, work=tmp_path / "gitlab", env=env)
    run_gitlab(
        gitlab,
        runner,
        variables={
            "XGEN_PLUGIN": source,
            "CI_API_V4_URL": "http://127.0.0.1:9/api/v4",  # nothing listens: no baseline yet
            "CI_JOB_TOKEN": "",
            "CI_PROJECT_ID": "1",
            "CI_DEFAULT_BRANCH": "main",
        },
    )
    assert not runner.failures(), runner.failures()
    show_timings(runner)
    assert [j.name for j in runner.jobs] == ["shard 1/3", "shard 2/3", "shard 3/3", "merge"]
    merge = runner.jobs[-1].workspace
    assert merge is not None
    check_merged(report(merge / "run.json"), project / "tests" / "test_tutor_demo.py")
    assert "test_the_tutors_explanation_transfers_its_mistake" in (merge / "summary.md").read_text()
    print(
        f"the CI workflows ran from a fresh virtual environment in {time.monotonic() - started:.0f} s"
    )


def check_merged(merged: dict[str, Any], module: Path) -> None:
    """The merged report of the shards: every test of the tutor's module, each passed or
    (strictly) xfailed as the demo expects, with every call replayed and none live."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }
    outcomes = {t["nodeid"].split("::")[-1]: t["outcome"] for t in merged["tests"]}
    assert set(outcomes) == defined, (sorted(outcomes), sorted(defined))
    assert set(outcomes.values()) <= {"passed", "xfailed"}, outcomes
    assert outcomes["test_the_tutors_explanation_transfers_its_mistake"] == "passed"
    calls = merged["run"]["calls"]
    assert calls["live"] == 0 and calls["replayed"] > 0, calls
