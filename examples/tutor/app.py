"""A small product, not part of the plugin: a maths tutor.

It explains a worked solution with its own system prompt, through its own OpenAI client
(built the way an application builds it: ``openai.OpenAI()``, a key from the environment,
its own model name). Its explanation is shown to a student, or handed to a checker model
that must follow it. The tests in ``examples/test_tutor_demo.py`` ask whether that
hand-over works, on the embedded models, with every call recorded.
"""

from __future__ import annotations

from typing import Any

import openai

TUTOR_SYSTEM = (
    "You are a maths tutor. Solve the problem step by step for a student: numbered steps, "
    "one calculation per step. Then give the final answer on its own last line as "
    "`Answer: <number>`."
)

# How the product hands the tutor's steps to its checker model.
CHECKER_PROMPTS = {
    "transfer_system": (
        "You check a student's homework. Follow the tutor's steps exactly, redoing each "
        "calculation, and end with the final answer on its own last line as "
        "`Answer: <number>`."
    ),
    "transfer_template": "Homework:\n{problem}\n\nThe tutor's steps:\n{explanation}",
}


class Tutor:
    """Explains problems with the product's prompt and model."""

    def __init__(self, client: Any = None, model: str = "tutor-v1") -> None:
        self.client = client if client is not None else openai.OpenAI(api_key="unused")
        self.model = model

    def explain(self, problem: str) -> str:
        reply = self.client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": TUTOR_SYSTEM},
                {"role": "user", "content": problem},
            ],
            temperature=0,
            max_tokens=300,
        )
        return reply.choices[0].message.content or ""
