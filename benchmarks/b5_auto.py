"""B5: model calls of ``samples="auto"`` / fixed ``samples=20``, on labelled clear and
borderline transfer checks answered by a scripted model.

Each case is one transfer check (1 generator, 4 evaluators, ``min_consistency`` 0.8,
``min_lift`` 0, no ``confidence``) on a problem whose answer is 7. The scripted evaluators
answer each sample correctly with a probability set per case and condition, otherwise one
of three wrong answers, drawn from a hash of (rep, case, model, condition, sample seed):
the same sample always gets the same answer, so the fixed run and the auto run see the
same answers wherever their samples overlap. Two evaluators agree with probability about
p^2, so the labels are:

- clear pass: transfer p = 1.0 or 0.98 (agreement ~0.96-1.0), baseline p = 0.4;
- clear fail: transfer p = 0.5 with baseline 0.5, or transfer 0.6 with baseline 0.95
  (agreement ~0.33-0.41);
- borderline: transfer p = 0.9 (agreement ~0.81, at the threshold), baseline 0.5.

Four cases of each, so a third of the set is borderline. Each rep runs the set twice in
fresh projects, with ``--xgen-samples=auto`` and ``--xgen-samples=20``, and counts the
model calls. The ratio is calls(auto) / calls(fixed); the target also needs no clear case
to get the opposite verdict (pass in one run, fail in the other). ``"auto"`` may take up to
30 samples, so it can decide a case that 20 samples leave inconclusive; those are counted
apart. ``confidence`` is the default 0.95.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import _common, _inner
from tests.scripted import conftest

ROW = "B5"
WHAT = 'model calls: samples="auto" / samples=20, clear and borderline transfer checks'
TARGET = "<= 0.5"
DEFAULT_REPS = 3
EVALUATORS = ["e1", "e2", "e3", "e4"]

# label -> list of (baseline p, transfer p)
CASES = {
    "clear pass": [(0.4, 1.0), (0.4, 1.0), (0.4, 0.98), (0.4, 0.98)],
    "clear fail": [(0.5, 0.5), (0.5, 0.5), (0.95, 0.6), (0.95, 0.6)],
    "borderline": [(0.5, 0.9), (0.5, 0.9), (0.5, 0.9), (0.5, 0.9)],
}

_CONFTEST = conftest(
    """
import hashlib
import json
import os
import re

from pytest_xgen.core import prompts

CASES = json.loads(open(os.environ["XGEN_B5_CASES"]).read())
EXPLANATION = "1. Tom starts with 3 apples.\\n2. He buys 4 more, so 3 + 4 = 7.\\nAnswer: 7"


def reply(call):
    if call.system == prompts.ELICIT_SYSTEM:
        return EXPLANATION
    condition = "transfer" if call.system == prompts.TRANSFER_SYSTEM else "baseline"
    case = CASES[re.search(r"case (\\d+)", call.user).group(1)]
    key = f"{case['seed']}:{call.model}:{condition}:{call.params['seed']}"
    digest = hashlib.sha256(key.encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    value = 7 if draw < case[condition] else 8 + digest[8] % 3
    return f"Some thoughts.\\nAnswer: {value}"
"""
)

_TESTS = """
import json
import os

import pytest

CASES = json.loads(open(os.environ["XGEN_B5_CASES"]).read())


@pytest.mark.parametrize("case", sorted(CASES, key=int))
def test_case(xgen, case):
    xgen.check(f"case {{case}}: Tom has 3 apples and buys 4 more. How many?", expected=7,
               generator="gen", evaluators={evaluators!r}, min_consistency=0.8, min_lift=0)
"""


def _labelled(rep: int) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    cases, labels = {}, {}
    for label, probabilities in CASES.items():
        for baseline, transfer in probabilities:
            key = str(len(cases))
            cases[key] = {"seed": f"{rep}:{key}", "baseline": baseline, "transfer": transfer}
            labels[key] = label
    return cases, labels


def _run_set(root: Path, cases_file: Path, samples: str) -> dict[str, dict[str, Any]]:
    """Per case: verdict, samples used and model calls, from a fresh run's JSON report."""
    pyproject = '[tool.xgen]\nrecord_mode = "all"\n\n' + _inner.models_toml(
        "http://scripted.invalid/v1", ["gen", *EVALUATORS]
    )
    _inner.write(
        root,
        {
            "pyproject.toml": pyproject,
            "conftest.py": _CONFTEST,
            "test_b5.py": _TESTS.format(evaluators=EVALUATORS),
        },
    )
    done = _inner.pytest_run(
        root,
        f"--xgen-samples={samples}",
        "--xgen-report=report.json",
        env={"XGEN_B5_CASES": str(cases_file)},
    )
    if done.returncode != 0:
        raise RuntimeError(f"the inner run failed:\n{done.stdout}\n{done.stderr}")
    found = {}
    for test in _inner.report(root / "report.json"):
        case = test["nodeid"].rsplit("[", 1)[1].rstrip("]")
        [check] = test["checks"]
        found[case] = {
            "verdict": check["verdict"],
            "samples": check["samples_used"],
            "calls": test["calls"],
        }
    return found


def run(reps: int) -> dict[str, Any]:
    ratios: list[float] = []
    contradicted = 0
    decided_more = 0
    by_label: dict[str, list[float]] = {label: [] for label in CASES}
    stops: dict[str, list[int]] = {label: [] for label in CASES}
    borderline_same = borderline_total = 0
    for rep in range(reps):
        cases, labels = _labelled(rep)
        with tempfile.TemporaryDirectory(prefix="xgen-b5-") as tmp:
            root = Path(tmp)
            cases_file = root / "cases.json"
            cases_file.write_text(json.dumps(cases))
            auto = _run_set(root / "auto", cases_file, "auto")
            fixed = _run_set(root / "fixed", cases_file, "20")
        ratios.append(
            sum(a["calls"] for a in auto.values()) / sum(f["calls"] for f in fixed.values())
        )
        for case, label in labels.items():
            by_label[label].append(auto[case]["calls"] / fixed[case]["calls"])
            stops[label].append(auto[case]["samples"])
            verdicts = (auto[case]["verdict"], fixed[case]["verdict"])
            if label == "borderline":
                borderline_same += verdicts[0] == verdicts[1]
                borderline_total += 1
            elif set(verdicts) == {"pass", "fail"}:
                contradicted += 1
            elif verdicts[0] != "inconclusive" and verdicts[1] == "inconclusive":
                decided_more += 1
    parts = "; ".join(
        f"{label}: calls ratio {_common.median(by_label[label]):.2f}, stopped at "
        f"{'/'.join(str(n) for n in sorted(set(stops[label])))} samples"
        for label in CASES
    )
    clear = sum(len(v) for k, v in CASES.items() if k != "borderline")
    detail = (
        f"{sum(len(v) for v in CASES.values())} cases per rep ({parts}); clear cases with the "
        f"opposite verdict: {contradicted} of {clear * reps}; decided by auto where "
        f"samples=20 was inconclusive: {decided_more}; borderline "
        f"verdicts identical in {borderline_same} of {borderline_total}; fixed samples=20 "
        f"takes {1 + 2 * len(EVALUATORS) * 20} calls per case"
    )
    result = _common.result(ratios, TARGET, detail)
    result["target_met"] = bool(result["target_met"] and not contradicted)
    return result


if __name__ == "__main__":
    sys.exit(_common.main(sys.modules[__name__]))
