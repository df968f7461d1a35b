"""Every prompt pytest-xgen writes, in one place.

Prompts are part of each request, so they are part of every recording key: changing a word
here re-records the calls that use it. Keep them stable; change them on purpose.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from pytest_xgen.core.printable import printable
from pytest_xgen.errors import did_you_mean

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


# The templates among the prompts, with the fields each fills in.
_PLACEHOLDERS = {"transfer_template": ("problem", "explanation")}


@dataclass(frozen=True)
class Prompts:
    """The prompts of the transfer protocol that a project may replace
    (``[tool.xgen.prompts]``, the marker's or ``check()``'s ``prompts={...}``). The defaults
    are the texts above, so recordings made with them keep their keys."""

    elicit_system: str = ELICIT_SYSTEM
    """The generator's system prompt: solve and explain."""
    baseline_system: str = ANSWER_ONLY_SYSTEM
    """The evaluators' system prompt in the ``empty`` baseline: answer only."""
    own_system: str = OWN_SYSTEM
    """The evaluators' system prompt in the ``own`` and ``sampled`` baselines and with
    ``delivery="prefill"``: reason, then answer."""
    transfer_system: str = TRANSFER_SYSTEM
    """The evaluators' system prompt when they are given the explanation."""
    transfer_template: str = TRANSFER_USER
    """The evaluators' user message with the explanation: ``{problem}`` and
    ``{explanation}`` are filled in (write a literal brace as ``{{`` or ``}}``)."""

    def __post_init__(self) -> None:
        # Also when built directly: a template that formats its fields is refused here, not
        # when the first request is made.
        for name, wanted in _PLACEHOLDERS.items():
            _check_template(name, getattr(self, name), wanted)

    def changed(self) -> dict[str, str]:
        """The prompts that differ from the defaults, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(DEFAULT, f.name)
        }

    def updated(self, texts: Mapping[str, str]) -> Prompts:
        return replace(self, **check(texts))


def check(texts: Mapping[str, Any]) -> dict[str, str]:
    """``texts`` if every name is a prompt and every text is usable; else ``ValueError``
    saying what is wrong (an unknown name, an empty text, a template without one of its
    placeholders, with another one, or with a conversion or format spec)."""
    checked: dict[str, str] = {}
    for name, text in texts.items():
        if name not in NAMES:
            raise ValueError(
                f"unknown prompt {name!r}{did_you_mean(str(name), NAMES, n=1)}; the prompts "
                f"are {', '.join(NAMES)}"
            )
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"prompt {name} must be a non-empty text; got {text!r}")
        wanted = _PLACEHOLDERS.get(name)
        if wanted is not None:
            _check_template(name, text, wanted)
        checked[name] = text
    return checked


def _check_template(name: str, text: str, wanted: tuple[str, ...]) -> None:
    """Raises ``ValueError`` unless ``text`` fills in exactly the placeholders ``wanted``,
    each as it is: ``{problem}``, not ``{problem!r}`` or ``{problem:.0}`` (a conversion or
    a format spec could drop, reshape or blow up the text sent); ``{{`` and ``}}`` are
    literal braces."""
    allowed = " and ".join("{" + w + "}" for w in wanted)
    try:
        parsed = [
            (field, spec or "", conversion)
            for _, field, spec, conversion in string.Formatter().parse(text)
            if field is not None
        ]
    except ValueError as exc:
        raise ValueError(
            f"prompt {name} is not a valid template ({exc}); write a literal brace as {{{{ or }}}}"
        ) from None
    found = [field for field, _, _ in parsed]
    other = sorted({f for f in found if f not in wanted})
    if other:
        shown = ", ".join(_shown("{" + f + "}") for f in other)
        raise ValueError(
            f"prompt {name} has the placeholder(s) {shown}; it may use only {allowed} (write "
            "a literal brace as {{ or }})"
        )
    for field, spec, conversion in parsed:
        if spec or conversion:
            bang = f"!{conversion}" if conversion else ""
            colon = f":{spec}" if spec else ""
            kind = " and ".join(k for k, v in (("conversion", bang), ("format spec", colon)) if v)
            raise ValueError(
                f"prompt {name} has {_shown('{' + field + bang + colon + '}')}, a placeholder "
                f"with the {kind} {_shown(bang + colon)}; it may use only {allowed} as they "
                "are, with no conversion (!r) or format spec (:...) (write a literal brace as "
                "{{ or }})"
            )
    missing = [w for w in wanted if w not in found]
    if missing:
        shown = " and ".join("{" + m + "}" for m in missing)
        raise ValueError(f"prompt {name} must contain {shown}: it needs {allowed}")


def _shown(part: str, width: int = 60) -> str:
    """A piece of a template as a message quotes it: control characters escaped, at most
    ``width`` characters."""
    part = printable(part)
    return part if len(part) <= width else part[: width - 1] + "\u2026"


# Built once the templates can be checked (above).
DEFAULT = Prompts()
NAMES = tuple(f.name for f in fields(Prompts))


def elicit(problem: str, p: Prompts = DEFAULT) -> list[Message]:
    return [{"role": "system", "content": p.elicit_system}, {"role": "user", "content": problem}]


def baseline(problem: str, kind: str, p: Prompts = DEFAULT) -> list[Message]:
    system = p.baseline_system if kind == "empty" else p.own_system
    return [{"role": "system", "content": system}, {"role": "user", "content": problem}]


def transfer(problem: str, explanation: str, delivery: str, p: Prompts = DEFAULT) -> list[Message]:
    if delivery == "prefill":
        # The explanation becomes the start of the evaluator's own answer, which it continues.
        return [
            {"role": "system", "content": p.own_system},
            {"role": "user", "content": problem},
            {"role": "assistant", "content": explanation.rstrip() + "\n"},
        ]
    user = p.transfer_template.format(problem=problem, explanation=explanation.strip())
    return [{"role": "system", "content": p.transfer_system}, {"role": "user", "content": user}]


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
