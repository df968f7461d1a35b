"""Numbers from outside: an endpoint's impossible token counts and log-probabilities, prices
that are not finite, and reports whose figures are not finite.

An endpoint's impossible answer is a test *error* naming the endpoint and the field, and
nothing is recorded; a ``-Infinity`` log-probability (a token of probability 0, which JSON
cannot hold) is recorded as -9999 and replays; a price of ``nan`` or ``inf`` stops the run at
start-up naming the key; a report with a ``NaN`` or an infinite figure is refused, naming
the file and the field, by every command that reads one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ONE_CALL, cassette, fake_model, lines
from tests.plugin.test_bad_input import assert_clean, errored, output, pattern, usage_error
from tests.server import OpenAIServer

IMPOSSIBLE = "model 'echo' at {url} answered with a number no answer can have: "
NOTHING_RECORDED = (
    "; nothing was recorded. Check the endpoint (or a proxy in front of it) and its logs"
)

SCORE = """
def test_score(xgen):
    r = xgen.model("echo").complete("one two three", echo=True, logprobs=1, max_tokens=1)
    assert r.token_logprobs == [None, -9999.0, -9999.0]
"""

CLIENT = """
HELLO = [{"role": "user", "content": "hello there"}]

def test_app(xgen):
    r = xgen.client("echo").chat.completions.create(messages=HELLO)
    assert r.choices[0].message.content.endswith("hello there")

def test_app_stream(xgen):
    stream = xgen.client("echo").chat.completions.create(
        messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
"""

CLIENT_SCORE = """
def test_app_score(xgen):
    r = xgen.client("echo").completions.create(prompt="one two three", logprobs=1, echo=True)
    assert r.choices[0].logprobs.token_logprobs == [None, -9999.0, -9999.0]
"""


@pytest.mark.parametrize(
    ("usage", "field"),
    [
        (
            {"prompt_tokens": -1000000, "completion_tokens": 5, "total_tokens": 12},
            "usage.prompt_tokens is -1000000",
        ),
        (
            {"prompt_tokens": 7, "completion_tokens": 2.5, "total_tokens": 12},
            "usage.completion_tokens is 2.5",
        ),
        (
            {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": float("inf")},
            "usage.total_tokens is Infinity",
        ),
        (
            {"prompt_tokens": float("nan"), "completion_tokens": 5, "total_tokens": 12},
            "usage.prompt_tokens is NaN",
        ),
        (
            {"prompt_tokens": 10**12, "completion_tokens": 5, "total_tokens": 12},
            "usage.prompt_tokens is 1000000000000",
        ),
    ],
    ids=["negative", "fraction", "infinite", "nan", "beyond-any-context"],
)
def test_an_impossible_token_count_is_an_error_naming_the_endpoint(
    project: pytest.Pytester, fake: OpenAIServer, usage: dict[str, float], field: str
) -> None:
    fake.usage = usage
    project.makepyfile(test_calls=ONE_CALL)
    result = project.runpytest("--xgen-report=run.json")
    errored(
        result,
        "E …ModelCallError: "
        + IMPOSSIBLE.format(url=fake.base_url)
        + f"{field}, not a token count (a whole number from 0 to 1000000000)"
        + NOTHING_RECORDED,
    )
    assert fake.calls == 1  # not retried: the endpoint would say the same again
    assert not cassette(project).exists()
    calls = json.loads((project.path / "run.json").read_text())["run"]["calls"]
    assert (calls["live"], calls["tokens"]) == (0, 0)  # the report is written, nothing counted

    # The endpoint fixed, the same test records and replays.
    fake.usage = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
    project.runpytest().assert_outcomes(passed=1)
    project.runpytest("--xgen-record-mode=none").assert_outcomes(passed=1)
    assert fake.calls == 2


def test_an_impossible_token_count_of_the_applications_client_is_an_error(
    project: pytest.Pytester, fake: OpenAIServer
) -> None:
    fake.usage = {"prompt_tokens": -1000000, "completion_tokens": 5, "total_tokens": 12}
    project.makepyfile(test_calls=CLIENT)
    result = project.runpytest()
    output(result)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            pattern(
                "E …ModelCallError: "
                + IMPOSSIBLE.format(url=fake.base_url)
                + "usage.prompt_tokens is -1000000, not a token count (a whole number from 0 "
                "to 1000000000)" + NOTHING_RECORDED
            )
        ]
    )
    assert not cassette(project).exists()


@pytest.mark.parametrize("app", [False, True], ids=["plugin", "application"])
def test_a_minus_infinity_logprob_is_recorded_as_the_floor_and_replays(
    project: pytest.Pytester, fake: OpenAIServer, app: bool
) -> None:
    fake.logprob = float("-inf")  # JSON's -Infinity, as some servers send it
    project.makepyfile(test_calls=CLIENT_SCORE if app else SCORE)
    project.runpytest().assert_outcomes(passed=1)
    (entry,) = lines(cassette(project))
    if app:
        logprobs = entry["response"]["raw"]["choices"][0]["logprobs"]["token_logprobs"]
    else:
        logprobs = entry["response"]["token_logprobs"]
    assert logprobs == [None, -9999.0, -9999.0]
    replay = project.runpytest("--xgen-record-mode=none")
    replay.assert_outcomes(passed=1)
    assert fake.calls == 1


@pytest.mark.parametrize("app", [False, True], ids=["plugin", "application"])
@pytest.mark.parametrize(
    ("value", "shown"), [(float("nan"), "NaN"), (float("inf"), "Infinity"), (0.5, "0.5")]
)
def test_an_impossible_logprob_is_an_error_naming_the_field(
    project: pytest.Pytester, fake: OpenAIServer, app: bool, value: float, shown: str
) -> None:
    fake.logprob = value
    project.makepyfile(test_calls=CLIENT_SCORE if app else SCORE)
    field = "raw.choices[0]" if app else "choices[0]"
    errored(
        project.runpytest(),
        "E …ModelCallError: "
        + IMPOSSIBLE.format(url=fake.base_url)
        + f"{field}.logprobs.token_logprobs[1] is {shown}, not a log-probability (a finite "
        "number from -9999 to 0)" + NOTHING_RECORDED,
    )
    assert fake.calls == 1
    assert not cassette(project).exists()


# --- prices ----------------------------------------------------------------------------------


PRICE = "is not a price per million tokens (a finite number from 0 to 1000000000000)"


@pytest.mark.parametrize(
    ("price", "problem"),
    [
        ("{ input = nan, output = 1 }", f"models.echo.price.input: nan {PRICE}"),
        ("{ input = 1, output = inf }", f"models.echo.price.output: inf {PRICE}"),
        ("{ input = 1, output = -inf }", f"models.echo.price.output: -inf {PRICE}"),
        (
            "{ input = 1e13, output = 1 }",
            "models.echo.price.input: 10000000000000.0 is greater than the maximum of "
            "1000000000000",
        ),
    ],
    ids=["nan", "inf", "minus-inf", "too-large"],
)
def test_a_price_that_is_not_a_finite_amount_stops_the_run_naming_the_key(
    pytester: pytest.Pytester, fake: OpenAIServer, price: str, problem: str
) -> None:
    pytester.makepyprojecttoml(
        f"""
        [tool.xgen.models.echo]
        {fake_model(fake)}
        price = {price}
        """
    )
    pytester.makepyfile(test_calls=ONE_CALL)
    result = pytester.runpytest("--xgen-report=run.json")
    usage_error(
        result,
        "ERROR: xgen: pyproject.toml [tool.xgen]: invalid xgen configuration",
        f"  {problem}",
        "See docs/configuration.md for every key.",
    )
    assert fake.calls == 0
    assert not (pytester.path / "run.json").exists()


def test_a_setting_that_is_not_finite_names_its_key(
    pytester: pytest.Pytester, fake: OpenAIServer
) -> None:
    pytester.makepyprojecttoml(
        f"""
        [tool.xgen]
        compare_fail = {{ consistency = nan }}

        [tool.xgen.models.echo]
        {fake_model(fake)}
        params = {{ temperature = nan }}
        """
    )
    pytester.makepyfile(test_calls=ONE_CALL)
    usage_error(
        pytester.runpytest(),
        "ERROR: xgen: pyproject.toml [tool.xgen]: invalid xgen configuration",
        "  compare_fail.consistency: nan is not a finite number",
        "  models.echo.params.temperature: nan is not a finite number",
    )


# --- reports read back -----------------------------------------------------------------------


def _reports(project: pytest.Pytester) -> tuple[Path, Path]:
    """Two shard reports of one priced run: ``test_a.py`` and ``test_b.py``."""
    with (project.path / "pyproject.toml").open("a") as toml:
        toml.write("\nprice = { input = 1000, output = 2000 }\n")
    project.makepyfile(test_a=ONE_CALL, test_b=ONE_CALL)
    project.runpytest("test_a.py", "--xgen-report=a.json").assert_outcomes(passed=1)
    project.runpytest("test_b.py", "--xgen-report=b.json").assert_outcomes(passed=1)
    return project.path / "a.json", project.path / "b.json"


@pytest.mark.parametrize(
    ("field", "shown"),
    [
        (("run", "calls", "cost"), "NaN"),
        (("run", "calls", "cost"), "Infinity"),
        (("run", "calls", "replayed_cost"), "-Infinity"),
        (("run", "calls", "cost"), "1e999"),
        (("tests", 0, "cost"), "NaN"),
    ],
    ids=["nan", "inf", "minus-inf", "overflow", "test-cost"],
)
def test_a_report_with_a_figure_that_is_not_finite_is_refused_by_every_reader(
    project: pytest.Pytester,
    fake: OpenAIServer,
    capsys: pytest.CaptureFixture[str],
    field: tuple[str | int, ...],
    shown: str,
) -> None:
    from pytest_xgen.cli import main

    good, other = _reports(project)
    doc = json.loads(good.read_text())
    *parents, last = field
    holder = doc
    for part in parents:
        holder = holder[part]
    holder[last] = "@number@"
    bad = project.path / "bad.json"
    bad.write_text(json.dumps(doc, indent=2).replace('"@number@"', shown))
    capsys.readouterr()
    where = "/".join(map(str, field))
    shown_as = "Infinity" if shown == "1e999" else shown
    problem = f"is not a valid pytest-xgen report: at {where}: {shown_as} is not a finite number"

    merged = project.path / "merged.json"
    assert main(["merge", str(bad), str(other), "-o", str(merged)]) == 2
    captured = capsys.readouterr()
    assert_clean(captured.out + captured.err)
    assert captured.err.startswith(f"xgen merge: {bad} {problem}")
    assert not merged.exists()

    out = project.path / "report.out"
    for form in ("html", "markdown"):
        assert main(["report", str(bad), "--format", form, "-o", str(out)]) == 2
        captured = capsys.readouterr()
        assert_clean(captured.out + captured.err)
        assert captured.err.startswith(f"xgen report: {bad} {problem}")
        assert not out.exists()

    for argv in ([str(bad), str(other)], [str(other), str(bad)]):
        assert main(["compare", *argv]) == 2
        captured = capsys.readouterr()
        assert_clean(captured.out + captured.err)
        assert captured.err.startswith(f"xgen compare: {bad} {problem}")

    # And as the baseline of a run.
    result = project.runpytest("--xgen-compare=bad.json", "--xgen-record-mode=none")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert_clean(result.stdout.str() + result.stderr.str())
    result.stderr.fnmatch_lines([pattern(f"ERROR: xgen: --xgen-compare: …bad.json {problem}…")])


def test_a_report_with_a_negative_cost_is_refused(
    project: pytest.Pytester, fake: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_xgen.cli import main

    good, other = _reports(project)
    doc = json.loads(good.read_text())
    doc["run"]["calls"]["cost"] = -1000.0
    bad = project.path / "bad.json"
    bad.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["merge", str(bad), str(other), "-o", str(project.path / "m.json")]) == 2
    captured = capsys.readouterr()
    assert_clean(captured.out + captured.err)
    assert captured.err.startswith(
        f"xgen merge: {bad} is not a valid pytest-xgen report: at run/calls/cost: -1000.0 is "
        "less than the minimum of 0"
    )


def test_merged_shards_write_only_finite_json(
    project: pytest.Pytester, fake: OpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_xgen.cli import main

    good, other = _reports(project)
    merged = project.path / "merged.json"
    assert main(["merge", str(good), str(other), "-o", str(merged)]) == 0
    json.loads(merged.read_text(), parse_constant=lambda name: pytest.fail(name))
