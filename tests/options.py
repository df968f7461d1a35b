"""Check options and a check's context for unit tests: every keyword of a check at its
default, a generator ``gen`` and evaluators ``a`` and ``b`` at temperature 0.7, then the
changes asked."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from pytest_xgen.checks.context import CheckContext
from pytest_xgen.checks.parallel import serial
from pytest_xgen.settings.marker import KEYWORDS, TransferOptions


def check_options(**changes: Any) -> TransferOptions:
    names = {f.name for f in fields(TransferOptions)} - {"prompts", "extra"}
    values: dict[str, Any] = {n: kw.default for n, kw in KEYWORDS.items() if n in names}
    values.update(generator="gen", evaluators=("a", "b"), temperature=0.7)
    values.update(changes)
    return TransferOptions(**values)


class Progress(list[tuple[int, bool, bool]]):
    """What a check told the progress line: ``(planned, at_most, replan)`` per call."""

    def __call__(self, planned: int, at_most: bool, replan: bool) -> None:
        self.append((planned, at_most, replan))


def check_context(ask: Any, **defaults: Any) -> CheckContext:
    """A :class:`CheckContext` on ``ask``: options are the call's keywords over
    ``defaults`` over :func:`check_options`; ``ctx.progress`` is a :class:`Progress`."""

    def resolve(call: dict[str, Any], needs_generator: bool, method: str) -> TransferOptions:
        return check_options(**{**defaults, **call})

    def complete(model: str, text: str, sample: int, params: dict[str, Any]) -> Any:
        raise AssertionError(f"no completion expected ({model})")

    return CheckContext(
        test="t.py::test",
        ask=ask,
        extract=lambda text, spec: spec.extract(text),
        fan_out=serial,
        complete=complete,
        resolve=resolve,
        progress=Progress(),
    )
