"""Calibrated invariance on the embedded models, at the plugin's defaults: a screen of 10
base samples against 5 perturbed ones (10 when the first 5 suggest a drop) at temperature
0.7, and a drop that passes the screen confirmed on 40 fresh samples of each prompt at 95%
confidence. The demo project decides its transfer checks on point estimates, so the
defaults are restated here.

Sampled answers differ from sample to sample, so whitespace that changes nothing must not
fail a check: the perturbed prompt's answers are tested against the base prompt's as two
samples, and a drop must reproduce on fresh samples. A real sensitivity still fails: the
bus timetable that turns Qwen's 7 apples into something else.
"""

from __future__ import annotations

import pytest

from examples import problems as p
from pytest_xgen import TransferFailed

DEFAULTS = {"samples": "auto", "temperature": 0.7, "confidence": 0.95}
EGGS = "A box holds 6 eggs. How many eggs are in 4 boxes?"
PROBLEMS = [p.APPLES, p.BAT, p.CENTIMETRES, p.DISTANCE, p.MINUTES, p.DISCOUNT, p.CANDIES, EGGS]
WHITESPACE = [" ", "  ", "\n", " \n", "\t", "  \n", "\n\n", " \t"]
BUS = "The bus to the harbour leaves every 20 minutes. "


@pytest.mark.transfers(evaluators=["smollm"], **DEFAULTS)
@pytest.mark.parametrize(
    ("problem", "space"),
    list(zip(PROBLEMS, WHITESPACE, strict=True)),
    ids=[f"problem{i}" for i in range(len(PROBLEMS))],
)
def test_whitespace_changes_no_verdict(xgen, problem, space):
    # A/A: the same question with trailing whitespace, SmolLM's answers on both compared
    # as two samples (the rate of the base's most common answer). SmolLM answers in a
    # second where Qwen takes ten, so eight problems record quickly.
    xgen.invariant(problem, problem + space)


@pytest.mark.xfail(
    raises=TransferFailed,
    strict=True,
    reason="the bus timetable changes Qwen's answer to the apples, and reproducibly so",
)
@pytest.mark.transfers(evaluators=["qwen"], **DEFAULTS)
def test_qwen_ignores_the_bus_timetable(xgen):
    xgen.invariant(p.APPLES, BUS + p.APPLES, expected=7)
