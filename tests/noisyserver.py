"""A noisy OpenAI-compatible HTTP server on 127.0.0.1: models that sample their answers.

Every distinct request gets a fresh draw: the random generator is seeded with a digest of
the request body, so the same request (same prompt, same sample seed) always gets the same
answer, and the record/replay machinery sees an ordinary deterministic endpoint, while
another sample index or another prompt draws anew.

The problem is "... has X things and buys Y more ...": the right answer is X + Y; any other
number in the prompt (a distractor's) is one a distractible model may add. A model is a ``model`` string of ``;``-separated
settings, e.g. ``"baseline=0.5;transfer=0.9;distract=0.9"``:

- ``baseline``: the probability of the right answer without an explanation (default 0.6);
- ``transfer``: the same with an explanation (default 0.9);
- ``distract``: the probability of adding a third number of the problem (a distractor's)
  to the answer, when there is one (default 0);
- ``wrong``: how far a wrong answer is off, at most (default 2; one of ``+-1..wrong``);
- ``follow``: the probability that an evaluator given an explanation copies the sum it
  states (a wrong one included) instead of answering on its own (default 0: it answers
  right with ``transfer``, whatever the explanation says);
- ``right``: for the generator (asked with the elicitation prompt), the probability that
  its explanation is right (default 1). A wrong explanation adds up to a wrong sum, off by
  ``+-1..wrong``, and states it as its answer.

The generator samples too: its explanation is drawn from the request body, which holds the
sample seed (the run's ``--xgen-seed``), so another seed draws another explanation, and a
replayed recording replays the same one.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from pytest_xgen.core import prompts
from tests.fakeserver import _Server

NUMBER = re.compile(r"\d+")
PROBLEM = re.compile(r"has (\d+) \w+ and buys (\d+) more")
STATED = re.compile(r"= (-?\d+)")


def _off(rng: random.Random, settings: dict[str, str]) -> int:
    off = rng.randint(1, int(settings.get("wrong", 2)))
    return off if rng.random() < 0.5 else -off


def stated_sum(explanation: str) -> int | None:
    """The sum an explanation states (its last ``= N``), or None."""
    found = STATED.findall(explanation)
    return int(found[-1]) if found else None


def answer(model: str, messages: list[dict[str, str]], body: bytes) -> str:
    """The text a noisy ``model`` answers ``messages`` with."""
    settings = dict(part.split("=", 1) for part in model.split(";") if "=" in part)
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    user = messages[-1]["content"] if messages else ""
    if system == prompts.STRIP_SYSTEM:
        return "{}"
    problem, explanation = user, ""
    if system == prompts.TRANSFER_SYSTEM:
        problem, _, explanation = user.partition("\n\nExplanation:\n")
        problem = problem.removeprefix("Problem:\n")
    numbers = [int(n) for n in NUMBER.findall(problem)]
    found = PROBLEM.search(problem)
    a, b = (int(found[1]), int(found[2])) if found else tuple((numbers + [0, 0])[:2])
    truth = a + b
    others = list(numbers)
    for n in (a, b):
        if n in others:
            others.remove(n)
    rng = random.Random(hashlib.sha256(body).digest())
    if system == prompts.ELICIT_SYSTEM:
        said = truth
        right = float(settings.get("right", 1))
        if right < 1 and rng.random() >= right:
            said += _off(rng, settings)
        return f"1. Start with {a}.\n2. Add {b}: {a} + {b} = {said}.\nAnswer: {said}"
    key = "transfer" if system == prompts.TRANSFER_SYSTEM else "baseline"
    follow = float(settings.get("follow", 0)) if key == "transfer" else 0.0
    stated = stated_sum(explanation)
    if follow > 0 and stated is not None and rng.random() < follow:
        return f"Following the explanation.\nAnswer: {stated}"
    right = float(settings.get(key, 0.9 if key == "transfer" else 0.6))
    value = truth
    if others and rng.random() < float(settings.get("distract", 0)):
        value += others[0]
    elif rng.random() >= right:
        value += _off(rng, settings)
    return f"Let me think.\nAnswer: {value}"


class NoisyOpenAI:
    """``with NoisyOpenAI() as server: server.base_url``."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> NoisyOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = json.loads(body)
                with server.lock:
                    server.calls += 1
                text = answer(request["model"], request.get("messages", []), body)
                data = json.dumps(
                    {
                        "id": "noisy",
                        "object": "chat.completion",
                        "created": 0,
                        "model": request["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
