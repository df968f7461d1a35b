"""How far a run spends past ``--xgen-max-cost``, against an endpoint that bills every token.

``python -m benchmarks.budget_overspend [--reps N] [--workers 0,4] [--modes honours,ignores]
[--code DIR] [--json out.json]``

The endpoint is ``tests/server.py`` billing in this process: every choice takes its whole
``max_tokens``, the prompt is billed at 4 characters a token for the messages' text and the
JSON of tool and response-format schemas (with spaces, as clients send it), and its meter
counts what was billed whatever the answers say. ``--modes`` says what its streams do with
``stream_options.include_usage``: ``honours`` (a usage chunk, as OpenAI) or ``ignores``
(never any usage, as some servers). Prices are 1000 per million prompt tokens and 2000 per
million completion tokens.

Each rep is a fresh project (empty store, no cassettes) whose suite asks for about 15.7
against a budget of 10.0 (``--budget``): 10 streamed calls of 200 tokens without
``stream_options`` (0.4 each), 4 calls with ``n=8, max_tokens=100`` (1.6 each), 4 calls
with a 1,700-character tool schema and a response-format schema (about 0.7 each) and 4
calls without ``max_tokens`` (the plugin sets aside 256 tokens, the endpoint bills 300:
0.6), the kinds taken in turn, run serially and under ``-n 4``.
Measured per run: what the endpoint billed, what the plugin reported (the JSON report's
``run.calls.cost``), the overshoot (billed - budget, 0 if under) and the largest one-call
estimate the plugin sets aside. The claim is that the billed cost never passes the budget
plus one call's estimate; the exit status is 1 when a run breaks it.

``--code DIR`` runs the inner sessions on another checkout of the plugin (e.g. an older
commit from ``git archive``), to measure what it spent.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import _inner

BUDGET = 10.0
PRICE = (1000.0, 2000.0)

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a word up in the dictionary. " * 50,
            "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
        },
    }
]
SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "schema": {"type": "object", "description": "The answer and its reasons. " * 20},
    },
}
# (kind, calls, parameters of each call besides its messages)
CALLS: tuple[tuple[str, int, dict[str, Any]], ...] = (
    ("stream", 10, {"max_tokens": 200, "stream": True}),
    ("choices", 4, {"n": 8, "max_tokens": 100}),
    ("schemas", 4, {"tools": TOOLS, "response_format": SCHEMA, "max_tokens": 20}),
    ("unlimited", 4, {}),
)

_HEAD = """
import json

import pytest

CALLS = json.loads({calls})


def ask(xgen, params, content):
    messages = [{{"role": "user", "content": content}}]
    answer = xgen.client("paid").chat.completions.create(messages=messages, **params)
    if params.get("stream"):
        assert "".join(c.choices[0].delta.content or "" for c in answer if c.choices)
    else:
        assert answer.choices


@pytest.mark.parametrize("kind, i", CALLS, ids=[f"{{k}}-{{i}}" for k, i in CALLS])
def test_call(xgen, kind, i):
    ask(xgen, json.loads({params})[kind], "rep {rep}, question " + str(i))
"""


def order() -> list[tuple[str, int]]:
    """The suite's calls, kinds taken in turn (stream 0, choices 0, ..., stream 1, ...)."""
    most = max(count for _, count, _ in CALLS)
    return [(kind, i) for i in range(most) for kind, count, _ in CALLS if i < count]


def _suite(rep: int) -> str:
    """The inner test module: one test per call, the kinds taken in turn."""
    params = {kind: p for kind, _, p in CALLS}
    return _HEAD.format(calls=repr(json.dumps(order())), params=repr(json.dumps(params)), rep=rep)


def largest_estimate(rep: int) -> float:
    """The most the plugin sets aside for one call of the suite."""
    from pytest_xgen.recording.cost import estimated_cost

    costs = []
    for _, count, params in CALLS:
        for i in range(count):
            messages = [{"role": "user", "content": f"rep {rep}, question {i}"}]
            costs.append(estimated_cost({"messages": messages, "params": params}, PRICE))
    return max(costs)


def one_run(
    server: Any, rep: int, workers: int, code: str | None, budget: float = BUDGET
) -> dict[str, Any]:
    """One fresh project run against ``server``: what was billed, reported and made."""
    server.reset()
    with tempfile.TemporaryDirectory(prefix="xgen-budget-") as tmp:
        root = Path(tmp)
        pyproject = (
            '[tool.xgen]\nrecord_mode = "once"\n\n[tool.xgen.models.paid]\n'
            f'base_url = "{server.base_url}"\nmodel = "paid"\n'
            f"price = {{ input = {PRICE[0]}, output = {PRICE[1]} }}\n"
        )
        _inner.write(root, {"pyproject.toml": pyproject, "test_spend.py": _suite(rep)})
        args = [f"--xgen-max-cost={budget}", "--xgen-report=run.json"]
        if workers:
            args += ["-n", str(workers)]
        env = {"PYTHONPATH": code} if code else None
        done = _inner.pytest_run(root, *args, env=env)
        report = root / "run.json"
        if not report.exists():
            raise RuntimeError(f"the inner run wrote no report:\n{done.stdout}\n{done.stderr}")
        reported = json.loads(report.read_text())["run"]["calls"]["cost"]
    billed = server.cost(PRICE)
    return {
        "rep": rep,
        "workers": workers,
        "calls": sum(count for _, count, _ in CALLS),
        "made": server.calls,
        "billed": billed,
        "reported": reported,
        "budget": budget,
        "overshoot": max(0.0, billed - budget),
        "largest_estimate": largest_estimate(rep),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.budget_overspend")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--budget", type=float, default=BUDGET, help="--xgen-max-cost")
    parser.add_argument("--workers", default="0,4", help="comma-separated -n values (0: serial)")
    parser.add_argument("--modes", default="honours,ignores", help="honours,ignores,rejects")
    parser.add_argument("--code", default=None, help="run the inner sessions on this checkout")
    parser.add_argument("--json", default=None, help="write every run's figures here")
    args = parser.parse_args(argv)
    from tests.server import OpenAIServer

    runs = []
    for mode in args.modes.split(","):
        server = OpenAIServer("billing", stream_usage=mode).start()
        try:
            for workers in (int(w) for w in args.workers.split(",")):
                for rep in range(args.reps):
                    run = {"mode": mode, **one_run(server, rep, workers, args.code, args.budget)}
                    runs.append(run)
                    print(
                        f"streams {mode:8} -n {workers}  rep {rep}: budget {args.budget:.2f}, "
                        f"{run['made']}/{run['calls']} calls made, billed {run['billed']:.3f}, "
                        f"reported {run['reported']:.3f}, overshoot {run['overshoot']:.3f} "
                        f"(one call's estimate at most {run['largest_estimate']:.3f})",
                        flush=True,
                    )
        finally:
            server.stop()
    worst = max(runs, key=lambda r: r["overshoot"])
    held = all(r["overshoot"] <= r["largest_estimate"] for r in runs)
    print(
        f"budget {args.budget:.2f}: billed at most {max(r['billed'] for r in runs):.3f}; largest "
        f"overshoot {worst['overshoot']:.3f} (streams {worst['mode']}, -n {worst['workers']}); "
        f"budget + one call's estimate {'held' if held else 'BROKEN'} in {len(runs)} runs"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2) + "\n")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
