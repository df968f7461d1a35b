"""What a check kind's ``run`` receives: one :class:`CheckContext` per test.

The fixture builds it once per test from the session (models, progress line, markers); a
check reaches models only through its callables (``ask``, ``complete``), so no check
imports the recorder, the session or the fixture. The answer spec, the expected answer and
the options are read here the same way for every kind, with the method called named in
every message about its own arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pytest_xgen.core.answers import AnswerSpec, answer_spec
from pytest_xgen.errors import XgenConfigError, hide_frame

if TYPE_CHECKING:
    from pytest_xgen.checks.kinds import CheckResult
    from pytest_xgen.checks.parallel import FanOut
    from pytest_xgen.models.base import ChatResult, CompletionResult, Message
    from pytest_xgen.settings.marker import TransferOptions

__tracebackhide__ = hide_frame


@dataclass
class CheckContext:
    """One test's access to its models, options and progress line, for any check kind.

    ``ask(model, messages, sample, params)`` is a recorded chat call, ``complete(model,
    text, sample, params)`` a recorded raw completion, ``extract(text, spec)`` reads an
    answer (the ``pytest_xgen_extract_answer`` hook first), ``fan_out`` runs independent
    calls at once, ``resolve(call, needs_generator, method)`` gives the check's options
    (its arguments over markers over settings), ``progress(planned, at_most, replan)``
    tells the progress line what a check will call. ``search_size`` is how many examples
    the running Hypothesis search may try (1 outside one); ``search_budget`` is what a
    kind keeps for the whole search (invariance's confirmations)."""

    test: str
    ask: Callable[[str, list[Message], int, dict[str, Any]], ChatResult]
    extract: Callable[[str, AnswerSpec], Any]
    fan_out: FanOut
    complete: Callable[[str, str, int, dict[str, Any]], CompletionResult]
    resolve: Callable[[dict[str, Any], bool, str], TransferOptions]
    progress: Callable[[int, bool, bool], None]
    search_size: int = 1
    search_budget: Any = None

    def begin(self, planned: int, *, at_most: bool = False) -> None:
        """A check is about to make ``planned`` calls (``at_most``: up to that many)."""
        self.progress(planned, at_most, False)

    def replan(self, remaining: int, *, at_most: bool = False) -> None:
        """The check under way now knows its plan: ``remaining`` more calls."""
        self.progress(remaining, at_most, True)

    def options(
        self, call: dict[str, Any], *, needs_generator: bool = True, method: str = "xgen.check()"
    ) -> TransferOptions:
        """The check's keywords: its own arguments over markers over settings (an error
        names ``method``, the one called)."""
        return self.resolve(call, needs_generator, method)

    @staticmethod
    def spec(
        answer: Any,
        tolerance: float | None = None,
        rel_tolerance: float | None = None,
        choices: Sequence[str] | None = None,
        fallback: bool = True,
        *,
        method: str = "xgen.check()",
    ) -> AnswerSpec:
        """How answers are read and compared; a bad ``answer`` argument is an error that
        names ``method``."""
        try:
            return answer_spec(
                answer,
                tolerance=tolerance,
                rel_tolerance=rel_tolerance,
                choices=choices,
                fallback=fallback,
            )
        except ValueError as exc:
            raise XgenConfigError(f"{method}: {exc}") from None

    @staticmethod
    def expected(expected: Any, spec: AnswerSpec, *, method: str = "xgen.check()") -> Any:
        """``expected`` read as ``spec`` reads answers (None stays None); one it cannot
        read is an error that names ``method``."""
        if expected is None:
            return None
        value = spec.normalize(expected)
        if value is None:
            raise XgenConfigError(
                f"{method}: expected={expected!r} cannot be read as {spec.describe()}"
            )
        return value


SHOWN: Literal["shown"] = "shown"
"""A check whose verdict a marked test shows as its own but that fails nothing (an
intervention nothing is asserted about: it passes, or is inconclusive when its reference
answer is in doubt)."""


@dataclass
class Ran:
    """What a kind's ``run`` gives back: ``value`` for the user, and the ``checks`` to
    keep for the reports, each with whether a marked test asserts it: ``True``, its
    verdict decides the test; ``False``, it is only measured (a diagnosis); or
    :data:`SHOWN`. A run with no check (``xgen.ensemble()``) still counts as a use of the
    marker."""

    value: Any
    checks: Sequence[tuple[CheckResult, bool | Literal["shown"]]] = ()
