"""Every prompt pytest-xgen writes, in one place.

Prompts are part of each request, so they are part of every recording key: changing a word
here re-records the calls that use it. Keep them stable; change them on purpose.
"""

from __future__ import annotations

from typing import Any

# One chat message, as the OpenAI chat API takes it: {"role": ..., "content": ...}.
Message = dict[str, Any]

ELICIT_SYSTEM = (
    "Solve the problem. Explain your reasoning as short numbered steps, one idea per "
    "sentence. Then give the final answer on its own last line as `Answer: <answer>`."
)

ANSWER_ONLY_SYSTEM = (
    "Answer the problem. Reply with only the final answer on one line as `Answer: <answer>`."
)

OWN_SYSTEM = (
    "Solve the problem step by step. End with the final answer on its own last line as "
    "`Answer: <answer>`."
)

TRANSFER_SYSTEM = (
    "You are given a problem and an explanation of how to solve it. Use the explanation. "
    "First restate the problem's constraints in one sentence, then work through the steps, "
    "and end with the final answer on its own last line as `Answer: <answer>`."
)

TRANSFER_USER = "Problem:\n{problem}\n\nExplanation:\n{explanation}"

STRIP_SYSTEM = (
    "You edit explanations. Below is an explanation split into numbered sentences. List the "
    "numbers of the sentences that state, reveal or restate the final answer (for example "
    "'Answer: ...', a boxed result, 'the answer is ...', or a closing sentence that announces "
    "the result). Do not list sentences that only compute intermediate values. Reply with "
    'JSON only: {"remove": [numbers]}.'
)

REVIEW_SYSTEM = (
    "You are a picky colleague reviewing a proposed solution. The solution is split into "
    "numbered steps. For every step write one line: `Step N: agree` or "
    "`Step N: disagree - <why>`. If you disagree, name the exact step that breaks. "
    "End with one line: `First error: <step number or none>`."
)


def elicit(problem: str) -> list[Message]:
    return [{"role": "system", "content": ELICIT_SYSTEM}, {"role": "user", "content": problem}]


def baseline(problem: str, kind: str) -> list[Message]:
    system = ANSWER_ONLY_SYSTEM if kind == "empty" else OWN_SYSTEM
    return [{"role": "system", "content": system}, {"role": "user", "content": problem}]


def transfer(problem: str, explanation: str, delivery: str) -> list[Message]:
    if delivery == "prefill":
        # The explanation becomes the start of the evaluator's own answer, which it continues.
        return [
            {"role": "system", "content": OWN_SYSTEM},
            {"role": "user", "content": problem},
            {"role": "assistant", "content": explanation.rstrip() + "\n"},
        ]
    user = TRANSFER_USER.format(problem=problem, explanation=explanation.strip())
    return [{"role": "system", "content": TRANSFER_SYSTEM}, {"role": "user", "content": user}]


def strip(sentences: list[str]) -> list[Message]:
    numbered = "\n".join(f"{i}. {s.strip()}" for i, s in enumerate(sentences, start=1))
    return [{"role": "system", "content": STRIP_SYSTEM}, {"role": "user", "content": numbered}]


def review(problem: str, steps: list[str]) -> list[Message]:
    numbered = "\n".join(f"Step {i}: {s.strip()}" for i, s in enumerate(steps, start=1))
    # Small models copy a filled-in template far more reliably than they follow a rule.
    template = "\n".join(
        f"Step {i}: agree" if i % 2 else f"Step {i}: disagree - <why>"
        for i in range(1, len(steps) + 1)
    )
    user = (
        f"Problem:\n{problem}\n\nProposed solution:\n{numbered}\n\n"
        f"Reply in exactly this format, one line per step, choosing agree or disagree for "
        f"each:\n{template}\nFirst error: <step number or none>"
    )
    return [{"role": "system", "content": REVIEW_SYSTEM}, {"role": "user", "content": user}]


ENSEMBLE_HEADER = (
    "Problem: {problem}\n"
    "Solution, as short numbered steps, one idea per sentence, ending with "
    "`Answer: <answer>`:\n"
)


def continuation(problem: str, sentences: list[str]) -> str:
    """The raw text a generator continues and a scorer reads, in sentence-level ensembling:
    the problem, then the explanation so far, one sentence per line."""
    return ENSEMBLE_HEADER.format(problem=problem.strip()) + "".join(
        s.strip() + "\n" for s in sentences
    )
