"""Hosted reasoning APIs, across providers: replay only, recorded against FAKE servers.

The two hosted models here are not Claude or an OpenAI model: they are the scripted
servers of this project's test suite (``tests/anthropic_server.py``, which speaks the
Anthropic Messages API, and ``tests/responses_server.py``, which speaks OpenAI's Responses
API), run on fixed local ports by ``python -m examples.record_hosted``. Their answers are
drawn from seeded dice (``tests.server.noisy_answer``: the model string holds each one's
odds), so what this file shows is the plumbing, not any model's quality:

- a generator whose explanation is its ``thinking`` (Anthropic) or its reasoning summary
  (Responses API), answer removed, handed to evaluators that speak other APIs, the
  embedded Qwen among them (real, recorded from the local llama.cpp server);
- the application's own calls through the recorded ``anthropic`` and ``openai`` clients,
  a streamed Responses call replayed event by event.

Every call is in ``fixtures/cassettes/examples/test_hosted_demo.jsonl``: ``make demo``
replays them with neither server, SDK key nor network.
"""

from __future__ import annotations

import pytest

APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"


@pytest.mark.transfers(
    generator="claude-fake", evaluators=["responses-fake", "qwen"], min_consistency=0.6
)
def test_thinking_transfers_to_models_of_other_apis(xgen):
    r = xgen.check(APPLES, expected=7)
    # The explanation is the Anthropic model's thinking, not its answer text.
    assert r.explanation.source == "thinking"
    assert r.explanation.answer == 7


@pytest.mark.transfers(
    generator="responses-fake", evaluators=["claude-fake", "qwen"], min_consistency=0.6
)
def test_a_reasoning_summary_transfers_too(xgen):
    r = xgen.check(APPLES, expected=7)
    assert r.explanation.source == "reasoning summary"


def test_the_application_s_anthropic_calls_are_recorded(xgen):
    client = xgen.anthropic_client("claude-fake")
    message = client.messages.create(
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": APPLES}],
    )
    kinds = [block.type for block in message.content]
    assert kinds == ["thinking", "text"]
    assert message.content[-1].text.endswith("7")


def test_the_application_s_responses_stream_is_replayed_event_by_event(xgen):
    client = xgen.client("responses-fake")
    with client.responses.create(input=APPLES, stream=True) as stream:
        events = [event.type for event in stream]
    assert events[0] == "response.created" and events[-1] == "response.completed"
    assert "response.output_text.delta" in events
