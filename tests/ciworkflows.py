"""Runs the CI workflows of docs/ci.md on this machine, as their runners would.

A GitHub Actions workflow: each job (each matrix combination) gets a fresh ``git clone`` of
the project for ``actions/checkout``, its ``run:`` steps run in ``bash -eo pipefail`` with
the workflow's, job's and step's ``env`` and ``${{ }}`` expressions filled in, ``if:``
conditions are evaluated (``always()``, ``==``, ``!=``, ``||`` over the contexts), steps
after a failure are skipped unless they run ``always()``, ``continue-on-error`` is
honoured, ``$GITHUB_OUTPUT`` feeds ``steps.ID.outputs``, and ``upload-artifact`` /
``download-artifact`` copy files between jobs the way those actions lay them out.

A GitLab CI pipeline: jobs in the order of ``stages``, ``parallel: N`` as N jobs with
``CI_NODE_INDEX`` and ``CI_NODE_TOTAL``, each job in a fresh clone with the artifacts of
the jobs it ``needs`` (or of the earlier stages), its ``script`` in ``bash -eo pipefail``.

``actions/setup-python`` and a job's ``image:`` stand for one Python: the virtual
environment whose ``bin`` comes first on the ``PATH`` the runner is given. Its jobs share
it, so a ``pip install`` command that one job of a workflow ran is not run again by the
next (it would find everything installed). Any other action,
or an expression the runner cannot evaluate, is an error, so a workflow that grows beyond
what is simulated here fails loudly rather than passing untested.
"""

from __future__ import annotations

import fnmatch
import glob
import itertools
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Job:
    """One job as it ran: its name, whether it succeeded, and what its steps printed."""

    name: str
    ok: bool = True
    log: list[str] = field(default_factory=list)
    workspace: Path | None = None
    timings: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class Runner:
    """Where and how jobs run: ``repo`` is the project's git repository (what a job checks
    out), ``work`` a directory for the jobs' checkouts and artifacts, ``env`` the
    environment of every command (its ``PATH`` leads to the runner's Python)."""

    repo: Path
    work: Path
    env: dict[str, str]
    timeout: float = 900.0
    jobs: list[Job] = field(default_factory=list)
    installed: set[str] = field(default_factory=set)

    def once(self, job: Job, lines: list[str]) -> list[str]:
        """``lines`` without the ``pip install`` commands this runner already ran with
        success: its jobs share one environment, which has what they install (the first
        job of a workflow runs them; the others would find every requirement satisfied)."""
        kept = []
        for line in lines:
            if line.strip().startswith("pip install ") and line in self.installed:
                job.log.append(f"(already installed in the shared environment: {line})")
                continue
            kept.append(line)
        return kept

    def run(self, job: Job, lines: list[str], cwd: Path, env: dict[str, str]) -> bool:
        """Runs ``lines`` as one script (see ``sh``), less the installs already done."""
        lines = self.once(job, lines)
        if not lines:
            return True
        ok = self.sh(job, "\n".join(lines), cwd, env)
        if ok:
            self.installed.update(x for x in lines if x.strip().startswith("pip install "))
        return ok

    def checkout(self, name: str) -> Path:
        """A fresh clone of the project for the job ``name``."""
        target = self.work / "jobs" / re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
        subprocess.run(
            ["git", "clone", "-q", str(self.repo), str(target)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return target

    def sh(self, job: Job, script: str, cwd: Path, env: dict[str, str]) -> bool:
        """Runs ``script`` as a CI runner runs a step: bash, stop at the first failing
        command; records the command and its output in the job's log."""
        started = time.monotonic()
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=self.timeout,
        )
        took = time.monotonic() - started
        job.log.append(
            f"$ {script.strip()}\n{done.stdout}{done.stderr}[exit {done.returncode}, {took:.1f} s]"
        )
        job.timings.append((script.strip().splitlines()[0], took))
        return done.returncode == 0

    def failures(self) -> str:
        """The logs of the jobs that failed (empty when every job passed)."""
        return "\n\n".join(
            f"== job {j.name} ==\n" + "\n".join(j.log) for j in self.jobs if not j.ok
        )


def lookup(path: str, context: dict[str, Any]) -> Any:
    """The value of a context path such as ``matrix.group`` or ``steps.gate.outputs.status``;
    a missing property is ``''`` as in GitHub Actions, an unknown context an error."""
    head, *rest = path.split(".")
    if head not in context:
        raise ValueError(f"the runner has no context {head!r} (in {path!r})")
    value: Any = context[head]
    for part in rest:
        value = value.get(part, "") if isinstance(value, dict) else ""
    return value


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """A GitHub Actions expression made of ``always()``, string literals, context paths,
    ``==``, ``!=`` and ``||``."""
    expression = expression.strip()
    if "||" in expression:
        for part in expression.split("||"):
            value = evaluate(part, context)
            if value:
                return value
        return value
    for operator in ("==", "!="):
        if operator in expression:
            left, right = expression.split(operator, 1)
            equal = str(evaluate(left, context)) == str(evaluate(right, context))
            return equal if operator == "==" else not equal
    if expression in ("always()", "true"):
        return True
    if expression == "false":
        return False
    if re.fullmatch(r"'[^']*'", expression):
        return expression[1:-1]
    if re.fullmatch(r"-?\d+", expression):
        return expression
    if re.fullmatch(r"[A-Za-z_][\w-]*(\.[\w-]+)*", expression):
        return lookup(expression, context)
    raise ValueError(f"the runner cannot evaluate the expression {expression!r}")


def fill(text: str, context: dict[str, Any]) -> str:
    """``text`` with every ``${{ expression }}`` replaced by its value."""
    return EXPRESSION.sub(lambda m: str(evaluate(m.group(1), context)), text)


def condition(step: dict[str, Any], context: dict[str, Any], failed: bool) -> bool:
    """Whether a step (or job) with this ``if:`` runs: without ``always()`` it runs only
    while nothing before it failed."""
    test = str(step.get("if", "success()"))
    test = EXPRESSION.sub(lambda m: m.group(1), test)
    runs_always = "always()" in test
    if failed and not runs_always:
        return False
    if test.strip() == "success()":
        return True
    return bool(evaluate(test, context))


def copy_paths(patterns: list[str], source: Path, target: Path) -> list[Path]:
    """Copies the files and directories matching ``patterns`` (relative to ``source``) to
    the same relative places under ``target``; returns what was copied."""
    copied = []
    for pattern in patterns:
        for found in sorted(glob.glob(pattern.rstrip("/"), root_dir=source)):
            src, dst = source / found, target / found
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)
            copied.append(dst)
    return copied


def upload(patterns: list[str], source: Path, target: Path) -> int:
    """What ``actions/upload-artifact`` stores: the files matching ``patterns`` under
    ``source``, relative to their least common ancestor directory; returns their count."""
    files: set[str] = set()
    for pattern in patterns:
        for match in glob.glob(pattern.rstrip("/"), root_dir=source):
            found = source / match
            if found.is_file():
                files.add(match)
            files.update(str(f.relative_to(source)) for f in found.rglob("*") if f.is_file())
    if not files:
        return 0
    root = os.path.commonpath([os.path.dirname(f) or "." for f in files])
    for name in sorted(files):
        dst = target / os.path.relpath(name, root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, dst)
    return len(files)


def order(names: list[str], needs: dict[str, list[str]]) -> list[str]:
    """``names`` so that every job comes after the jobs it needs."""
    done: list[str] = []
    while len(done) < len(names):
        ready = [n for n in names if n not in done and all(d in done for d in needs[n])]
        if not ready:
            raise ValueError(f"the jobs' needs form a cycle: {needs}")
        done += ready
    return done


def run_github(
    workflow: dict[str, Any],
    runner: Runner,
    *,
    event: str = "push",
    inputs: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Runs every job of a GitHub Actions workflow for ``event``; ``env`` overrides the
    workflow's ``env`` (as a repository variable would)."""
    artifacts = runner.work / "artifacts"
    jobs: dict[str, Any] = workflow["jobs"]
    needs = {
        name: [job["needs"]] if isinstance(job.get("needs"), str) else list(job.get("needs", []))
        for name, job in jobs.items()
    }
    results: dict[str, str] = {}
    for name in order(list(jobs), needs):
        job = jobs[name]
        matrix = job.get("strategy", {}).get("matrix", {})
        keys = list(matrix)
        combos = [
            dict(zip(keys, values, strict=True)) for values in itertools.product(*matrix.values())
        ]
        outcomes = []
        for combo in combos:  # one, {}, without a matrix
            label = name + "".join(f" {v}" for v in combo.values())
            context = {
                "github": {"event_name": event, "workflow": workflow.get("name", ""), "token": ""},
                "inputs": inputs or {},
                "secrets": {},
                "matrix": combo,
                "needs": {n: {"result": results[n]} for n in needs[name]},
                "steps": {},
                "env": {},
            }
            upstream_failed = any(results[n] != "success" for n in needs[name])
            if not condition(job, context, upstream_failed):
                continue
            outcomes.append(
                _github_job(label, job, workflow, runner, context, env or {}, artifacts)
            )
        results[name] = "success" if all(outcomes) else "failure"


def _github_job(
    label: str,
    job: dict[str, Any],
    workflow: dict[str, Any],
    runner: Runner,
    context: dict[str, Any],
    overrides: dict[str, str],
    artifacts: Path,
) -> bool:
    record = Job(label)
    runner.jobs.append(record)
    temp = runner.work / "runner-temp" / re.sub(r"\W+", "-", label)
    temp.mkdir(parents=True, exist_ok=True)
    summary = temp / "step-summary.md"
    base = {str(k): fill(str(v), context) for k, v in workflow.get("env", {}).items()}
    base.update({str(k): fill(str(v), context) for k, v in job.get("env", {}).items()})
    base.update(overrides)
    workspace: Path | None = None
    failed = False
    for index, step in enumerate(job["steps"]):
        context["env"] = base
        if not condition(step, context, failed):
            continue
        uses, ok = str(step.get("uses", "")), True
        options = {k: fill(str(v), context) for k, v in step.get("with", {}).items()}
        if uses.startswith("actions/checkout@"):
            workspace = record.workspace = runner.checkout(label)
        elif uses.startswith("actions/setup-python@"):
            pass  # the runner's PATH leads to the virtual environment
        elif workspace is None:
            raise ValueError(f"job {label}: step {index} runs before actions/checkout")
        elif uses.startswith("actions/upload-artifact@"):
            target = artifacts / options["name"]
            count = upload(options["path"].split(), workspace, target)
            record.log.append(f"upload-artifact {options['name']}: {count} file(s)")
            ok = count > 0
        elif uses.startswith("actions/download-artifact@"):
            names = sorted(p.name for p in artifacts.iterdir()) if artifacts.is_dir() else []
            if "pattern" in options:
                chosen = fnmatch.filter(names, options["pattern"])
                for name in chosen:
                    shutil.copytree(
                        artifacts / name, workspace / options["path"] / name, dirs_exist_ok=True
                    )
                ok = bool(chosen)
            else:
                ok = options["name"] in names
                if ok:
                    shutil.copytree(
                        artifacts / options["name"],
                        workspace / options.get("path", "."),
                        dirs_exist_ok=True,
                    )
        elif uses:
            raise ValueError(f"job {label}: the runner does not simulate {uses}")
        else:
            output = temp / f"output-{index}"
            output.touch()
            env = {
                **base,
                **{str(k): fill(str(v), context) for k, v in step.get("env", {}).items()},
            }
            env |= {
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_WORKSPACE": str(workspace),
                "GITHUB_ACTIONS": "true",
                "CI": "true",
                "RUNNER_TEMP": str(temp),
            }
            ok = runner.run(record, fill(str(step["run"]), context).splitlines(), workspace, env)
            if "id" in step:
                values = dict(
                    line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
                )
                context["steps"][step["id"]] = {"outputs": values}
        if not ok and not step.get("continue-on-error", False):
            failed = True
            record.log.append(f"step {index} ({step.get('name', uses or 'run')}) failed")
    record.ok = not failed
    return record.ok


GITLAB_KEYWORDS = {"stages", "variables", "default", "include", "workflow", "image", "services"}


def run_gitlab(
    pipeline: dict[str, Any], runner: Runner, *, variables: dict[str, str] | None = None
) -> None:
    """Runs every job of a GitLab CI pipeline; ``variables`` override the pipeline's and
    give the predefined ones (``CI_API_V4_URL`` and the like)."""
    stages = pipeline.get("stages", ["build", "test", "deploy"])
    jobs = {k: v for k, v in pipeline.items() if k not in GITLAB_KEYWORDS and "script" in v}
    base = {str(k): str(v) for k, v in pipeline.get("variables", {}).items()}
    base |= {"CI": "true", "GITLAB_CI": "true"} | (variables or {})
    kept: dict[str, list[Path]] = {}  # job name -> the artifact directories of its instances
    ranked = sorted(jobs, key=lambda n: stages.index(jobs[n].get("stage", "test")))
    for name in ranked:
        job = jobs[name]
        total = int(job.get("parallel", 1))
        if "needs" in job:
            sources = [d for need in job["needs"] for d in kept.get(need, [])]
        else:
            earlier = stages[: stages.index(job.get("stage", "test"))]
            sources = [
                d for n in ranked if jobs[n].get("stage", "test") in earlier for d in kept[n]
            ]
        for index in range(1, total + 1):
            label = f"{name} {index}/{total}" if total > 1 else name
            record = Job(label)
            runner.jobs.append(record)
            workspace = record.workspace = runner.checkout(label)
            for source in sources:
                shutil.copytree(source, workspace, dirs_exist_ok=True)
            env = dict(base)
            env |= {str(k): str(v) for k, v in job.get("variables", {}).items()}
            env |= {"CI_PROJECT_DIR": str(workspace), "CI_JOB_NAME": label}
            if total > 1:
                env |= {"CI_NODE_INDEX": str(index), "CI_NODE_TOTAL": str(total)}
            record.ok = runner.run(record, [str(line) for line in job["script"]], workspace, env)
            artifacts = job.get("artifacts", {})
            if record.ok or artifacts.get("when") == "always":
                target = runner.work / "gitlab-artifacts" / re.sub(r"\W+", "-", label)
                copy_paths(artifacts.get("paths", []), workspace, target)
                kept.setdefault(name, []).append(target)
