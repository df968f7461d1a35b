"""Every pytest-xgen setting, once: its command-line option, ini twin and parser.

This table is the single source for ``--xgen-*`` options, ``xgen_*`` ini values and the
``[tool.xgen]`` keys, so the three cannot drift apart. Parsers turn a string (from the
command line or an ini file) into a value and raise ``pytest.UsageError`` saying what is
wrong and what is allowed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

RECORD_MODES = ("none", "once", "new_episodes", "all")
# The metrics the upgrade gate can compare, and what an undecided gate does.
METRICS = ("consistency", "lift", "accuracy")
ON_UNDERPOWERED = ("fail", "warn")
_THRESHOLD_FORM = (
    "use METRIC:DELTA[,METRIC:DELTA...] with METRIC one of "
    f"{', '.join(METRICS)} and DELTA a number >= 0, e.g. consistency:0.05,accuracy:0.02"
)


def parse_record_mode(value: str) -> str:
    """``none | once | new_episodes | all``."""
    mode = value.strip().lower().replace("-", "_")
    if mode not in RECORD_MODES:
        raise pytest.UsageError(
            f"xgen: record mode must be one of {', '.join(RECORD_MODES)}; got {value!r}"
        )
    return mode


def parse_bool(value: str) -> bool:
    """``on/off``, ``true/false``, ``yes/no``, ``1/0``."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise pytest.UsageError(f"xgen: expected on or off (true/false); got {value!r}")


def _int(value: str, *, minimum: int | None, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise pytest.UsageError(f"xgen: {what} must be a whole number; got {value!r}") from None
    if minimum is not None and number < minimum:
        raise pytest.UsageError(f"xgen: {what} must be at least {minimum}; got {value!r}")
    return number


def parse_int(value: str) -> int:
    """Any whole number (a seed)."""
    return _int(value, minimum=None, what="value")


def parse_count(value: str) -> int:
    """A whole number, zero or more (a retry budget)."""
    return _int(value, minimum=0, what="count")


def parse_positive_int(value: str) -> int:
    """A whole number, one or more."""
    return _int(value, minimum=1, what="value")


def parse_samples(value: str) -> int | str:
    """A whole number, one or more, or ``auto``: sample in rounds until the verdict is clear."""
    if value.strip().lower() == "auto":
        return "auto"
    try:
        return _int(value, minimum=1, what="samples")
    except pytest.UsageError:
        raise pytest.UsageError(
            f"xgen: samples must be a whole number of at least 1, or auto; got {value!r}"
        ) from None


def parse_seconds(value: str) -> float:
    """A positive number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        raise pytest.UsageError(f"xgen: expected seconds as a number; got {value!r}") from None
    if not seconds > 0 or not math.isfinite(seconds):
        raise pytest.UsageError(f"xgen: seconds must be a finite number more than 0; got {value!r}")
    return seconds


def parse_path(value: str) -> str:
    """A non-empty path (relative paths are taken from the rootdir)."""
    if not value.strip():
        raise pytest.UsageError("xgen: expected a path; got an empty value")
    return value.strip()


def _float(value: str, what: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise pytest.UsageError(f"xgen: {what} must be a number; got {value!r}") from None


def parse_fraction(value: str) -> float:
    """A number from 0 to 1 (a consistency threshold)."""
    number = _float(value, "threshold")
    if not 0 <= number <= 1:
        raise pytest.UsageError(f"xgen: expected a number from 0 to 1; got {value!r}")
    return number


def parse_lift(value: str) -> float:
    """A number from -1 to 1 (a lift threshold)."""
    number = _float(value, "lift")
    if not -1 <= number <= 1:
        raise pytest.UsageError(f"xgen: lift must be from -1 to 1; got {value!r}")
    return number


def parse_confidence(value: str) -> float | None:
    """``none`` (decide on point estimates) or a level between 0 and 1, such as 0.9."""
    if value.strip().lower() in ("none", "off", ""):
        return None
    number = _float(value, "confidence")
    if not 0.5 <= number <= 0.999:
        raise pytest.UsageError(
            f"xgen: confidence must be from 0.5 to 0.999 (e.g. 0.95) or none; got {value!r}"
        )
    return number


def parse_temperature(value: str) -> float:
    """A sampling temperature from 0 to 2."""
    number = _float(value, "temperature")
    if not 0 <= number <= 2:
        raise pytest.UsageError(f"xgen: temperature must be from 0 to 2; got {value!r}")
    return number


BASELINES = ("empty", "own", "sampled")


def parse_baseline(value: str) -> str:
    """``empty | own | sampled``: what evaluators get in the baseline condition."""
    text = value.strip().lower()
    if text not in BASELINES:
        raise pytest.UsageError(
            f"xgen: baseline must be one of {', '.join(BASELINES)}; got {value!r}"
        )
    return text


def parse_name(value: str) -> str:
    """A configured model's name."""
    if not value.strip():
        raise pytest.UsageError("xgen: expected a model name; got an empty value")
    return value.strip()


def parse_names(value: str) -> list[str]:
    """Model names separated by commas."""
    names = [part.strip() for part in value.split(",") if part.strip()]
    if not names:
        raise pytest.UsageError(f"xgen: expected model names separated by commas; got {value!r}")
    return names


def parse_optional_path(value: str) -> str | None:
    """A path, or ``none`` / an empty value for none."""
    text = value.strip()
    return None if text.lower() in ("", "none") else text


def parse_run_name(value: str) -> str | None:
    """A saved run's name: letters, digits, ``.``, ``_`` and ``-``, or ``none``. A name is
    a file under ``.xgen/runs``, so ``/`` and ``..`` (which would write elsewhere) are not
    names."""
    name = parse_optional_path(value)
    if name is not None and (not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) or ".." in name):
        raise pytest.UsageError(
            f"xgen: a saved run's name is letters, digits, '.', '_' and '-' (it becomes "
            f".xgen/runs/NAME.json); got {value!r}"
        )
    return name


def parse_model_map(value: str) -> dict[str, str]:
    """``old=new[,old2=new2]``: run the suite with model ``old`` replaced by ``new``."""
    mapping: dict[str, str] = {}
    for part in (p.strip() for p in value.split(",") if p.strip()):
        old, sep, new = part.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise pytest.UsageError(
                f"xgen: a model map is OLD=NEW[,OLD2=NEW2]; got {value!r} "
                "(example: --xgen-model-map qwen=gpt)"
            )
        mapping[old.strip()] = new.strip()
    return mapping


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


def parse_compare_fail(value: str) -> dict[str, float]:
    """``METRIC:DELTA[,...]`` with metrics consistency, lift, accuracy."""
    try:
        return parse_thresholds(value)
    except ValueError as exc:
        raise pytest.UsageError(f"xgen: --xgen-compare-fail: {exc}") from None


def parse_alpha(value: str) -> float:
    """A significance level between 0 and 1, such as 0.05."""
    number = _float(value, "alpha")
    if not 0 < number < 1:
        raise pytest.UsageError(f"xgen: alpha must be between 0 and 1; got {value!r}")
    return number


def parse_adjust(value: str) -> str:
    """``holm | bh | none``: how the comparison corrects for the number of tests."""
    text = value.strip().lower()
    if text not in ("holm", "bh", "none"):
        raise pytest.UsageError(f"xgen: adjust must be one of holm, bh, none; got {value!r}")
    return text


def parse_underpowered(value: str) -> str:
    """``fail | warn``: what an underpowered (inconclusive) gate does to the run."""
    text = value.strip().lower()
    if text not in ("fail", "warn"):
        raise pytest.UsageError(f"xgen: compare_underpowered must be fail or warn; got {value!r}")
    return text


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
    """One setting: its ``[tool.xgen]`` key, ``--xgen-*`` option and ``xgen_*`` ini name."""

    key: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    metavar: str

    @property
    def flag(self) -> str:
        return "--xgen-" + self.key.replace("_", "-")

    @property
    def ini(self) -> str:
        return "xgen_" + self.key

    def parse_as(self, value: str, where: str) -> Any:
        """``parse(value)``, with ``where`` (the option or ini name) in any error."""
        try:
            return self.parse(value)
        except pytest.UsageError as exc:
            message = str(exc).removeprefix("xgen: ")
            raise pytest.UsageError(f"xgen: {where}: {message}") from None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "record_mode",
        parse_record_mode,
        "once",
        "none (replay only) | once | new_episodes | all; default once",
        "MODE",
    ),
    Setting(
        "cache_dir",
        parse_path,
        ".xgen/cache",
        "diskcache directory of recorded calls; default .xgen/cache",
        "DIR",
    ),
    Setting(
        "cassette_dir",
        parse_path,
        "fixtures/cassettes",
        "directory of the committed JSON Lines cassettes; default fixtures/cassettes",
        "DIR",
    ),
    Setting(
        "cassettes",
        parse_bool,
        True,
        "read and write cassette files: on | off; default on",
        "on|off",
    ),
    Setting(
        "models_dir",
        parse_path,
        ".xgen/models",
        "where embedded model files are assembled; default .xgen/models",
        "DIR",
    ),
    Setting("seed", parse_int, 0, "base seed of every call (sample i uses seed+i); default 0", "N"),
    Setting(
        "timeout",
        parse_seconds,
        120.0,
        "seconds to wait for one model answer; default 120",
        "SECONDS",
    ),
    Setting(
        "max_retries",
        parse_count,
        2,
        "retries of a failed call (backoff honours Retry-After); default 2",
        "N",
    ),
    Setting(
        "concurrency",
        parse_positive_int,
        32,
        "independent model calls of one check made at once, per process (calls to the "
        "local server are always made one at a time); default 32",
        "N",
    ),
    Setting(
        "local_n_ctx",
        parse_positive_int,
        2048,
        "context length of the embedded models; default 2048",
        "TOKENS",
    ),
    Setting(
        "local_n_threads",
        parse_positive_int,
        2,
        "threads of the local llama.cpp server; default 2",
        "N",
    ),
    # Defaults of the transfers marker's keywords (a marker or check() argument wins over
    # these, except when the option is given on the command line).
    Setting("generator", parse_name, None, "default generator model of transfer checks", "NAME"),
    Setting(
        "evaluators", parse_names, None, "default evaluator models, comma-separated", "A,B,..."
    ),
    Setting(
        "samples",
        parse_samples,
        "auto",
        "answers per evaluator and condition, or auto (rounds of 5 until the verdict is "
        "clear, at most 20); default auto",
        "N|auto",
    ),
    Setting(
        "confidence",
        parse_confidence,
        0.95,
        "decide on interval bounds at this level; none: on point estimates; default 0.95",
        "LEVEL",
    ),
    Setting(
        "baseline", parse_baseline, "empty", "baseline condition: empty | own | sampled", "KIND"
    ),
    Setting(
        "min_consistency",
        parse_fraction,
        0.8,
        "transfer consistency a check needs; default 0.8",
        "X",
    ),
    Setting("min_lift", parse_lift, 0.0, "lift over the baseline a check needs; default 0", "X"),
    Setting(
        "temperature",
        parse_temperature,
        0.7,
        "sampling temperature of evaluator samples; default 0.7",
        "T",
    ),
    Setting(
        "max_examples",
        parse_positive_int,
        10,
        "Hypothesis examples per xgen test (each one costs model calls); default 10",
        "N",
    ),
    Setting(
        "max_live_calls",
        parse_count,
        None,
        "stop making live calls after N in this run (later ones are errors)",
        "N",
    ),
    # Outputs and the upgrade gate.
    Setting("report", parse_optional_path, None, "write the JSON report to this path", "PATH"),
    Setting("html", parse_optional_path, None, "write the HTML report to this path", "PATH"),
    Setting("save", parse_run_name, None, "save this run as .xgen/runs/NAME.json", "NAME"),
    Setting(
        "model_map",
        parse_model_map,
        None,
        "replace models for this run, e.g. qwen=gpt (a candidate in place of a model)",
        "OLD=NEW,...",
    ),
    Setting(
        "compare",
        parse_optional_path,
        None,
        "compare with a saved run (NAME in .xgen/runs, or a JSON path)",
        "NAME|PATH",
    ),
    Setting(
        "compare_fail",
        parse_compare_fail,
        None,
        "fail when a test drops by more than DELTA and significantly, e.g. consistency:0.05",
        "METRIC:DELTA,...",
    ),
    Setting(
        "compare_alpha",
        parse_alpha,
        0.05,
        "significance level of the comparison; default 0.05",
        "ALPHA",
    ),
    Setting(
        "compare_adjust",
        parse_adjust,
        "holm",
        "correction of the comparison's p-values for their number: holm (any false alarm "
        "at most alpha), bh (false discovery rate) or none; default holm",
        "holm|bh|none",
    ),
    Setting(
        "compare_underpowered",
        parse_underpowered,
        "fail",
        "when the suite cannot decide a gated metric: fail the run, or warn; default fail",
        "fail|warn",
    ),
)

BY_KEY = {s.key: s for s in SETTINGS}
