"""The CI workflows of docs/ci.md parse as YAML, have the jobs the page describes, use
only ``--xgen-*`` options and ``xgen`` commands that exist, install the plugin pinned from
git (it is not on the package index), install the project under test and pin their tools.
tests/plugin/test_ci_workflows.py runs them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from pytest_xgen.cli import main as xgen
from pytest_xgen.settings.options import SETTINGS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "ci.md"


def blocks() -> list[Any]:
    found = re.findall(r"```yaml\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    return [yaml.safe_load(block) for block in found]


def scripts(node: Any) -> list[str]:
    """Every shell command of a workflow (``run:`` of GitHub steps, GitLab ``script:``)."""
    if isinstance(node, dict):
        out = []
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                out.append(value)
            elif key == "script" and isinstance(value, list):
                out += [str(v) for v in value]
            else:
                out += scripts(value)
        return out
    if isinstance(node, list):
        return [s for item in node for s in scripts(item)]
    return []


def test_the_github_workflow_shards_uploads_merges_gates_and_summarises() -> None:
    github, gitlab = blocks()
    shard, merge = github["jobs"]["shard"], github["jobs"]["merge"]
    assert shard["strategy"]["matrix"]["group"] == [1, 2, 3]
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in shard["steps"])
    assert merge["needs"] == "shard"
    commands = " ".join(scripts(merge))
    for needed in ("xgen merge", "xgen merge --cassettes", "xgen compare", "GITHUB_STEP_SUMMARY"):
        assert needed in commands
    assert "--splits 3 --group ${{ matrix.group }} -n 2" in " ".join(scripts(shard))
    # YAML 1.1 reads the key "on" as true.
    assert set(github[True]) == {"pull_request", "push", "workflow_dispatch"}


def test_the_gitlab_pipeline_runs_three_shards_and_a_merge() -> None:
    _, gitlab = blocks()
    assert gitlab["stages"] == ["test", "merge"]
    assert gitlab["shard"]["parallel"] == 3 and gitlab["merge"]["needs"] == ["shard"]
    assert "shard-*.json" in gitlab["shard"]["artifacts"]["paths"]
    merged = " ".join(scripts(gitlab["merge"]))
    assert "xgen merge shard-*.json -o run.json" in merged and "xgen compare" in merged


OPTIONS = {f"--xgen-{s.key.replace('_', '-')}" for s in SETTINGS} | {"--xgen-dry-run"}


@pytest.mark.parametrize("index", [0, 1], ids=["github", "gitlab"])
def test_every_xgen_option_and_command_in_the_workflows_exists(
    index: int, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = scripts(blocks()[index])
    used = {m for c in commands for m in re.findall(r"--xgen-[a-z-]+", c)}
    assert used and used <= OPTIONS, used - OPTIONS
    for command in commands:
        for line in re.findall(r"xgen (?:merge|compare|report)[^\n;|]*", command):
            words = shlex.split(line.replace("\\", " "))[1:]
            flags = {w.split("=")[0] for w in words if w.startswith("-")}
            usage = help_of(words[0], capsys)
            for flag in flags:
                assert flag in usage, (flag, line)


def help_of(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``xgen COMMAND --help`` prints (the options the command accepts)."""
    try:
        status = xgen([command, "--help"])
    except SystemExit as exc:
        status = int(exc.code or 0)
    assert status == 0
    return capsys.readouterr().out


def installs(commands: list[str]) -> list[list[str]]:
    """The arguments of every ``pip install`` in ``commands``, in order."""
    found = []
    for command in commands:
        for line in command.splitlines():
            if line.strip().startswith("pip install "):
                found.append(shlex.split(line)[2:])
    return found


def plugin_source(workflow: dict[str, Any]) -> str:
    """The ``XGEN_PLUGIN`` a workflow installs the plugin from (GitHub ``env``, GitLab
    ``variables``)."""
    variables = workflow["env"] if "env" in workflow else workflow["variables"]
    return str(variables["XGEN_PLUGIN"])


@pytest.mark.parametrize("index", [0, 1], ids=["github", "gitlab"])
def test_the_workflows_install_the_plugin_pinned_from_git_not_from_the_index(index: int) -> None:
    # pytest-xgen is not on the package index: `pip install pytest-xgen` finds nothing.
    workflow = blocks()[index]
    requirement = Requirement(plugin_source(workflow))
    assert requirement.name == "pytest-xgen" and requirement.url, requirement
    assert re.fullmatch(r"git\+https://\S+/pytest-xgen@[\w.-]+", requirement.url), requirement.url
    # Replaying needs no llama.cpp build.
    assert "local" not in requirement.extras
    arguments = installs(scripts(workflow))
    assert arguments
    for args in arguments:
        assert "$XGEN_PLUGIN" in args or args == ["-e", "."], args
        assert not any(a.startswith("pytest-xgen") for a in args), args


@pytest.mark.parametrize("index", [0, 1], ids=["github", "gitlab"])
def test_every_job_that_runs_pytest_installs_the_project_under_test_and_pins_its_tools(
    index: int,
) -> None:
    workflow = blocks()[index]
    jobs = workflow.get("jobs", workflow)
    testing = {n: scripts(j) for n, j in jobs.items() if any("pytest " in c for c in scripts(j))}
    assert testing
    for name, commands in testing.items():
        first_pytest = next(i for i, c in enumerate(commands) if c.lstrip().startswith("pytest "))
        before = installs(commands[:first_pytest])
        assert ["-e", "."] in before, (name, before)  # or `import yourapp` fails
        tools = [a for args in before for a in args if a not in ("-e", ".", "$XGEN_PLUGIN")]
        assert tools and all(re.fullmatch(r"[\w.-]+==[\w.]+", t) for t in tools), tools
