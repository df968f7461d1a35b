"""A value outside each setting's range, for every setting: the start-up guards of
tests/plugin/test_settings_table.py feed them to the plugin, tests/unit/test_settings_table.py
checks that every setting has one."""

from __future__ import annotations

# A value outside each setting's range, as the command line or an ini file gives it.
BAD_TEXT: dict[str, str | None] = {
    "record_mode": "sometimes",
    "cache_dir": "",
    "cassette_dir": " ",
    "cassettes": "maybe",
    "models_dir": "",
    "seed": "1.5",
    "timeout": "0",
    "max_retries": "-1",
    "concurrency": "0",
    "local_n_ctx": "100",
    "local_n_threads": "0",
    "generator": " ",
    "evaluators": ",",
    "samples": "0",
    "confidence": "0.3",
    "baseline": "nothing",
    "min_consistency": "1.5",
    "min_lift": "-2",
    "temperature": "3",
    "max_examples": "0",
    "max_live_calls": "-1",
    "max_cost": "-0.5",
    "report": None,  # any text is a path; none or empty is no report
    "html": None,  # any text is a path; none or empty is no html
    "markdown": None,
    "markdown_limit": "1000",
    "save": "../elsewhere",
    "model_map": "qwen",
    "compare": None,  # any text is a path; none or empty is no compare
    "compare_fail": "speed:0.1",
    "compare_alpha": "1",
    "compare_adjust": "bonferroni",
    "compare_underpowered": "ignore",
}

# The same as TOML values (types TOML has).
BAD_TOML = {
    "record_mode": '"sometimes"',
    "cache_dir": '""',
    "cassette_dir": '""',
    "cassettes": '"yes"',
    "models_dir": "1",
    "seed": "1.5",
    "timeout": "0",
    "max_retries": "-1",
    "concurrency": "0",
    "local_n_ctx": "100",
    "local_n_threads": "0",
    "generator": '""',
    "evaluators": "[]",
    "samples": "0",
    "confidence": "0.3",
    "baseline": '"nothing"',
    "min_consistency": "1.5",
    "min_lift": "-2",
    "temperature": "3",
    "max_examples": "0",
    "max_live_calls": "-1",
    "max_cost": '"ten"',
    "report": '""',
    "html": "false",
    "markdown": "3",
    "markdown_limit": '"large"',
    "save": '"../elsewhere"',
    "model_map": '"qwen"',
    "compare": '""',
    "compare_fail": "{ speed = 0.1 }",
    "compare_alpha": "1",
    "compare_adjust": '"bonferroni"',
    "compare_underpowered": '"ignore"',
}
