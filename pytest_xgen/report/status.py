"""What a summary says of a test, so that it never contradicts pytest: the verdict of the
checks that decided the test, shown beside pytest's own outcome.

A check is *asserted* when its verdict decided the test (``asserted`` in the report: a check
in a test marked ``@pytest.mark.transfers``, a review given ``min_step_agreement``). A check
nothing asserted was only *measured*: its numbers are shown, and no pass or fail, since it
passed or failed nothing. A test that stopped on an error (a replay miss, an endpoint that
did not answer) has no verdict: it is an ``error``, whatever the checks that finished before
said. The terminal table, the Markdown summary and the HTML report all read a test's status
here, so they count alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Statuses, in the order summaries list them: what needs a look first.
STATUSES = ("fail", "error", "inconclusive", "measured", "pass")
# How a status reads in a row, and in a tally.
LABELS = {"measured": "measured, not asserted"}
TALLY_LABELS = {"measured": "measured (not asserted)"}
# pytest outcomes that need a look whatever the checks said.
BAD_OUTCOMES = ("failed", "error")


def asserted(check: Mapping[str, Any]) -> bool:
    """Whether ``check``'s verdict decided its test. A report written before checks said so
    holds only verdicts that were shown as such: read as asserted."""
    return bool(check.get("asserted", True))


def worst(verdicts: Iterable[object]) -> str:
    """The worst of ``verdicts``: fail, then inconclusive, else pass."""
    found = set(verdicts)
    return next((v for v in ("fail", "inconclusive") if v in found), "pass")


def check_status(check: Mapping[str, Any], outcome: str | None) -> str:
    """One check's status in a test whose pytest outcome is ``outcome``: ``error`` if the
    test stopped on one, ``measured`` if nothing asserted it, else its verdict."""
    if outcome == "error":
        return "error"
    return str(check["verdict"]) if asserted(check) else "measured"


def row_status(test: Mapping[str, Any], checks: Sequence[Mapping[str, Any]] | None = None) -> str:
    """A test's status over its ``checks`` (by default all of them): ``error`` if the test
    stopped on one, else the worst verdict of the asserted checks, else ``measured`` (no
    check decided the test). A test with no checks reads ``pass`` (nothing failed)."""
    chosen = test.get("checks", []) if checks is None else checks
    if test.get("outcome") == "error":
        return "error"
    decided = [c["verdict"] for c in chosen if asserted(c)]
    if chosen and not decided:
        return "measured"
    return worst(decided)


def label(status: str) -> str:
    """``status`` as a row shows it."""
    return LABELS.get(status, status)


def needs_look(status: str, outcome: str | None) -> bool:
    """Whether a row belongs with the ones that did not pass: a failed, errored or
    inconclusive status, or a test pytest failed or errored (a passing check in a test
    that failed for another reason is no pass of the test)."""
    return status in ("fail", "error", "inconclusive") or outcome in BAD_OUTCOMES


def rank(status: str, outcome: str | None) -> tuple[int, int]:
    """Sort key of a row: the ones that need a look first, then by status."""
    return (0 if needs_look(status, outcome) else 1, STATUSES.index(status))


def counts(statuses: Iterable[str]) -> list[tuple[str, int]]:
    """``(status, count)`` as a tally shows them: pass, fail and inconclusive always, then
    measured and error when there are any."""
    found = dict.fromkeys(STATUSES, 0)
    for status in statuses:
        found[status] += 1
    always = [(s, found[s]) for s in ("pass", "fail", "inconclusive")]
    return always + [(s, found[s]) for s in ("measured", "error") if found[s]]


def tally(statuses: Iterable[str]) -> str:
    """``"N pass, N fail, N inconclusive"``, then ``N measured (not asserted)`` and
    ``N error`` when there are any."""
    return ", ".join(f"{n} {TALLY_LABELS.get(s, s)}" for s, n in counts(statuses))
