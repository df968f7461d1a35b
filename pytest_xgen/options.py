"""Every pytest-xgen setting, once: its command-line option, ini twin and parser.

This table is the single source for ``--xgen-*`` options, ``xgen_*`` ini values and the
``[tool.xgen]`` keys, so the three cannot drift apart. Parsers turn a string (from the
command line or an ini file) into a value and raise ``pytest.UsageError`` saying what is
wrong and what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

RECORD_MODES = ("none", "once", "new_episodes", "all")


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


def parse_seconds(value: str) -> float:
    """A positive number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        raise pytest.UsageError(f"xgen: expected seconds as a number; got {value!r}") from None
    if not seconds > 0:
        raise pytest.UsageError(f"xgen: seconds must be more than 0; got {value!r}")
    return seconds


def parse_path(value: str) -> str:
    """A non-empty path (relative paths are taken from the rootdir)."""
    if not value.strip():
        raise pytest.UsageError("xgen: expected a path; got an empty value")
    return value.strip()


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
)

BY_KEY = {s.key: s for s in SETTINGS}
