"""Every pytest-xgen setting, once: its key, kind of value, default and help.

This table is the single source of the ``--xgen-*`` options, the ``xgen_*`` ini values,
the ``[tool.xgen]`` keys and their ranges in ``config.schema.json`` (a test holds the
schema to it), and of the defaults of the marker keywords that a setting supplies
(:mod:`pytest_xgen.settings.marker`). A bad string from the command line or an ini file
is a ``pytest.UsageError`` saying what is wrong and what is allowed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pytest

from pytest_xgen.core.gate_metrics import METRICS
from pytest_xgen.core.significance import ADJUSTMENTS
from pytest_xgen.settings.values import (
    Choice,
    Either,
    Flag,
    Kind,
    Names,
    Pairs,
    Real,
    Text,
    Thresholds,
    Unparsable,
    Whole,
)

RECORD_MODES = ("none", "once", "new_episodes", "all")
# The largest cost budget: a run that may spend more needs none.
MOST_COST = 1e9
BASELINES = ("empty", "own", "sampled")
# What an undecided gate does (the metrics it compares are core.gate_metrics.METRICS).
ON_UNDERPOWERED = ("warn", "fail")
_THRESHOLD_FORM = (
    "use METRIC:DELTA[,METRIC:DELTA...] with METRIC one of "
    f"{', '.join(METRICS)} and DELTA a number >= 0, e.g. consistency:0.05,accuracy:0.05"
)


def parse_thresholds(text: str) -> dict[str, float]:
    """``"consistency:0.05,accuracy:0.02"`` as ``{"consistency": 0.05, "accuracy": 0.02}``.

    Raises :class:`ValueError` saying what is wrong and which form is expected.
    """
    thresholds: dict[str, float] = {}
    # A trailing comma is harmless, so empty entries are skipped rather than rejected.
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if not entries:
        raise ValueError(f"no thresholds given; {_THRESHOLD_FORM}")
    for entry in entries:
        metric, colon, number = (part.strip() for part in entry.partition(":"))
        if not colon:
            raise ValueError(f"{entry!r} has no ':'; {_THRESHOLD_FORM}")
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r} in {entry!r}; {_THRESHOLD_FORM}")
        if metric in thresholds:
            raise ValueError(f"metric {metric!r} is given twice; {_THRESHOLD_FORM}")
        try:
            delta = float(number)
        except ValueError:
            raise ValueError(
                f"DELTA {number!r} in {entry!r} is not a number; {_THRESHOLD_FORM}"
            ) from None
        if not math.isfinite(delta) or delta < 0:
            raise ValueError(f"DELTA in {entry!r} must be a number >= 0; {_THRESHOLD_FORM}")
        thresholds[metric] = delta
    return thresholds


def parse_model(value: str) -> tuple[str, dict[str, Any]]:
    """``NAME=local:EMBEDDED`` or ``NAME={"base_url": ..., "model": ..., ...}`` (JSON)."""
    name, sep, spec = value.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name or not spec:
        raise pytest.UsageError(
            f"xgen: a model is NAME=local:EMBEDDED or NAME={{json}}; got {value!r} "
            "(example: --xgen-model qwen=local:qwen2.5-coder-0.5b)"
        )
    if spec.startswith("local:"):
        return name, {"local": spec[len("local:") :]}
    try:
        data = json.loads(spec)
    except json.JSONDecodeError as exc:
        raise pytest.UsageError(
            f"xgen: model {name!r}: {spec!r} is neither local:EMBEDDED nor a JSON object "
            f"({exc.msg}); "
            'example: gpt={"base_url": "https://api.example.com/v1", "model": "m", '
            '"api_key_env": "EXAMPLE_API_KEY"}'
        ) from None
    if not isinstance(data, dict):
        raise pytest.UsageError(f"xgen: model {name!r}: the JSON must be an object; got {spec!r}")
    return name, data


@dataclass(frozen=True)
class Setting:
    """One setting: its ``[tool.xgen]`` key, ``--xgen-*`` option and ``xgen_*`` ini name,
    its kind of value and its default."""

    key: str
    kind: Kind
    default: Any
    help: str
    metavar: str

    @property
    def flag(self) -> str:
        return "--xgen-" + self.key.replace("_", "-")

    @property
    def ini(self) -> str:
        return "xgen_" + self.key

    @property
    def help_text(self) -> str:
        """The help, ending with the default when there is one."""
        if self.default is None:
            return self.help
        if isinstance(self.default, bool):
            shown = "on" if self.default else "off"
        elif isinstance(self.default, float):
            shown = f"{self.default:g}"
        else:
            shown = str(self.default)
        return f"{self.help}; default {shown}"

    def parse(self, value: str) -> Any:
        return self.parse_as(value, self.flag)

    def parse_as(self, value: str, where: str) -> Any:
        """The value of the string ``value``; a usage error names ``where`` (the option or
        ini name), what is allowed and what it got."""
        try:
            return self.kind.parse(value)
        except Unparsable as exc:
            raise pytest.UsageError(f"xgen: {where}: {exc}") from None
        except (TypeError, ValueError):
            label = self.key.replace("_", " ")
            raise pytest.UsageError(
                f"xgen: {where}: {label} must be {self.kind.describe()}; got {value!r}"
            ) from None

    def check(self, value: Any) -> Any:
        """The value of a TOML or marker value; raises ``TypeError`` / ``ValueError``."""
        return self.kind.check(value)


PATH = Text("a path")
NAME = Text("a model name")
RUN_NAME = Text(
    "a name of letters, digits, '.', '_' and '-' (it becomes .xgen/runs/NAME.json)",
    pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    optional=True,
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "record_mode",
        Choice(RECORD_MODES),
        "once",
        "none (replay only) | once | new_episodes | all",
        "MODE",
    ),
    Setting("cache_dir", PATH, ".xgen/cache", "diskcache directory of recorded calls", "DIR"),
    Setting(
        "cassette_dir",
        PATH,
        "fixtures/cassettes",
        "directory of the committed JSON Lines cassettes",
        "DIR",
    ),
    Setting("cassettes", Flag(), True, "read and write cassette files: on | off", "on|off"),
    Setting("models_dir", PATH, ".xgen/models", "where embedded model files are assembled", "DIR"),
    Setting("seed", Whole(), 0, "base seed of every call (sample i uses seed+i)", "N"),
    Setting(
        "timeout", Real(0, open_low=True), 120.0, "seconds to wait for one model answer", "SECONDS"
    ),
    Setting(
        "max_retries",
        Whole(0),
        2,
        "retries of a failed call (backoff honours Retry-After)",
        "N",
    ),
    Setting(
        "concurrency",
        Whole(1),
        32,
        "independent model calls of one check made at once, per process (calls to the "
        "local server are always made one at a time)",
        "N",
    ),
    Setting("local_n_ctx", Whole(256), 2048, "context length of the embedded models", "TOKENS"),
    Setting("local_n_threads", Whole(1), 2, "threads of the local llama.cpp server", "N"),
    # Defaults of the transfers marker's keywords (a marker or check() argument wins over
    # these, except when the option is given on the command line).
    Setting("generator", NAME, None, "default generator model of transfer checks", "NAME"),
    Setting("evaluators", Names(), None, "default evaluator models, comma-separated", "A,B,..."),
    Setting(
        "samples",
        Either(Whole(1), "auto", "auto", "sample in rounds until the verdict is clear"),
        "auto",
        "answers per evaluator and condition, or auto (rounds of 5 until the verdict is "
        "clear, at most 20)",
        "N|auto",
    ),
    Setting(
        "confidence",
        Either(Real(0.5, 0.999), "none", None, "decide on point estimates"),
        0.95,
        "decide on interval bounds at this level; none: on point estimates",
        "LEVEL",
    ),
    Setting(
        "baseline", Choice(BASELINES), "empty", "baseline condition: empty | own | sampled", "KIND"
    ),
    Setting("min_consistency", Real(0, 1), 0.8, "transfer consistency a check needs", "X"),
    Setting("min_lift", Real(-1, 1), 0.0, "lift over the baseline a check needs", "X"),
    Setting("temperature", Real(0, 2), 0.7, "sampling temperature of evaluator samples", "T"),
    Setting(
        "max_examples",
        Whole(1),
        10,
        "Hypothesis examples per xgen test (each one costs model calls)",
        "N",
    ),
    Setting(
        "max_live_calls",
        Whole(0),
        None,
        "stop making live calls after N in this run (later ones are errors)",
        "N",
    ),
    Setting(
        "max_cost",
        Real(0, MOST_COST),
        None,
        "stop making live calls that could take the run's cost past AMOUNT (model prices)",
        "AMOUNT",
    ),
    # Outputs and the upgrade gate.
    Setting(
        "report", Text("a path", optional=True), None, "write the JSON report to this path", "PATH"
    ),
    Setting(
        "html", Text("a path", optional=True), None, "write the HTML report to this path", "PATH"
    ),
    Setting(
        "markdown",
        Text("a path", optional=True),
        None,
        "write the Markdown summary (a CI job summary or pull-request comment) to this path",
        "PATH",
    ),
    Setting(
        "markdown_limit",
        Whole(1024),
        65536,
        "the most bytes of the Markdown summary, past which long lists are cut with a note: "
        "65536 fits a GitHub comment, 1048576 a job summary",
        "BYTES",
    ),
    Setting("save", RUN_NAME, None, "save this run as .xgen/runs/NAME.json", "NAME"),
    Setting(
        "model_map",
        Pairs("--xgen-model-map qwen=gpt"),
        None,
        "replace models for this run, e.g. qwen=gpt (a candidate in place of a model)",
        "OLD=NEW,...",
    ),
    Setting(
        "compare",
        Text("a saved run's name or a JSON path", optional=True),
        None,
        "compare with a saved run (NAME in .xgen/runs, or a JSON path)",
        "NAME|PATH",
    ),
    Setting(
        "compare_fail",
        Thresholds(METRICS, parse_thresholds),
        None,
        "fail when a drop beyond DELTA is shown (a test's or the suite's mean), e.g. "
        "consistency:0.05,accuracy:0.05,explanation:0.05",
        "METRIC:DELTA,...",
    ),
    Setting(
        "compare_alpha",
        Real(0, 1, open_low=True, open_high=True),
        0.05,
        "significance level of the comparison",
        "ALPHA",
    ),
    Setting(
        "compare_adjust",
        Choice(tuple(ADJUSTMENTS)),
        "holm",
        "correction of the comparison's p-values for their number: holm (any false alarm "
        "at most alpha), bh (false discovery rate) or none",
        "holm|bh|none",
    ),
    Setting(
        "compare_underpowered",
        Choice(ON_UNDERPOWERED),
        "warn",
        "when the suite can show neither a drop beyond DELTA nor that the metric held: warn "
        "and pass, or fail the run (release gates: non-inferiority must be shown)",
        "fail|warn",
    ),
)

BY_KEY = {s.key: s for s in SETTINGS}
