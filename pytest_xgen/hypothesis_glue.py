"""Hypothesis settings for tests that call models: slow examples, shared fixtures, replay.

Imported only when a collected test uses Hypothesis, so plain runs never load Hypothesis.

Determinism: every xgen test is derandomized (its examples come from a generator seeded by
the test function's digest) and runs without an example database, in every record mode.
A replay-only run therefore draws exactly the examples the recording run drew, shrinks
along the same path, and every model call is a replay. An example database would break
that: its reuse phase makes a local run skip the generation that a fresh clone, which has
no database, goes through, and those calls were never recorded. A failing perturbation is
still tried again first thing next time, because the same seed finds it at the same point.
The profile ``xgen-ci`` (selected by ``--xgen-record-mode=none`` unless a profile was
chosen) applies the same to the whole suite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import HypothesisException

if TYPE_CHECKING:
    import pytest

    from pytest_xgen.settings.config import Settings

CI_PROFILE = "xgen-ci"

# Built on Hypothesis's own defaults, whatever is loaded when this module is first imported
# (inside a running example, ``settings.default`` is that test's settings).
settings.register_profile(
    CI_PROFILE,
    parent=settings.get_profile("default"),
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Model calls are slow, and the xgen fixture is safe to share between examples.
_SUPPRESS = (HealthCheck.function_scoped_fixture, HealthCheck.too_slow)

# Hypothesis has no public way to read or replace the settings of a test it already wraps
# (applying ``@settings`` twice is refused), nor to tell whether ``@seed`` chose its seed:
# these two attributes of the wrapped function are where it keeps both. They are named
# here only; tests/unit/test_hypothesis_glue.py fails if an upgrade moves them.
_SETTINGS = "_hypothesis_internal_use_settings"
_SEED = "_hypothesis_internal_use_seed"


def _function(item: pytest.Item) -> Any:
    """The function Hypothesis wrapped for ``item`` (a method's settings live on it)."""
    obj: Any = item.obj  # type: ignore[attr-defined]
    return getattr(obj, "__func__", obj)


def settings_of(test: Any) -> settings:
    """The settings the ``@given`` test ``test`` runs with."""
    found: settings = getattr(test, _SETTINGS)
    return found


def set_settings_of(test: Any, chosen: settings) -> None:
    """Make the ``@given`` test ``test`` run with ``chosen``."""
    setattr(test, _SETTINGS, chosen)


def seeded(test: Any) -> bool:
    """Whether the user chose the seed of the ``@given`` test ``test`` (``@seed``)."""
    return getattr(test, _SEED, None) is not None


def search_size(item: pytest.Item) -> int:
    """How many examples the ``@given`` test of ``item`` may try: its settings, as
    :func:`configure` left them (the marker's, the user's or the run's ``max_examples``)."""
    return max(1, int(settings_of(_function(item)).max_examples))


def select_ci_profile(config: pytest.Config) -> bool:
    """Load ``xgen-ci`` unless the user chose a Hypothesis profile; return whether it did."""
    import os

    if config.getoption("hypothesis_profile", None) or os.environ.get("HYPOTHESIS_PROFILE"):
        return False
    settings.load_profile(CI_PROFILE)
    return True


def configure(item: pytest.Item, xgen: Settings, max_examples: int | None) -> None:
    """Give one xgen Hypothesis test settings fit for model calls, keeping what the user
    set explicitly with ``@settings``."""
    test = _function(item)
    current = settings_of(test)
    default = settings.default
    assert default is not None
    changes: dict[str, Any] = {
        "suppress_health_check": sorted(
            set(current.suppress_health_check) | set(_SUPPRESS), key=lambda h: h.value
        ),
        "print_blob": True,
        # The explain phase reports which lines of the plugin ran for failing examples:
        # noise about our internals, not about the prompt.
        "phases": [p for p in current.phases if p is not Phase.explain],
        # After a first failure Hypothesis keeps hunting for other bugs for a while, and
        # "a while" is measured in seconds: slow live calls and fast replays would then
        # draw different examples. Stopping at the first bug keeps the two runs alike.
        "report_multiple_bugs": False,
    }
    # A deadline the user did not choose is Hypothesis's own (200 ms) or the loaded
    # profile's. Both count: in replay mode the xgen-ci profile is loaded after the test
    # module was imported, so the test still carries the built-in default.
    if current.deadline in (default.deadline, settings.get_profile("default").deadline):
        changes["deadline"] = None
    if max_examples is not None:
        changes["max_examples"] = max_examples
    elif current.max_examples == default.max_examples:
        changes["max_examples"] = xgen.max_examples
    if not seeded(test):
        changes["derandomize"] = True
        changes["database"] = None
    set_settings_of(test, settings(current, **changes))


def dry_run(
    item: pytest.Item,
    planned: Callable[[], int],
    examples: dict[str, dict[str, int]],
    stopped: set[str],
) -> None:
    """Make a dry run of one Hypothesis test count every example it would draw.

    Its answers are blanks, so an example would fail and Hypothesis would stop drawing and
    shrink instead: the estimate would miss the examples a real run draws before its first
    failure. Here an example's failure is set aside (Hypothesis's own signals, such as
    ``assume``, still count), shrinking and targeting are off, and ``examples`` keeps, under
    the test's id, the examples run and the most calls one of them planned (``"per"``): what
    one shrink step may make. An example stopped by its blank answers puts the test's id in
    ``stopped``: it may make calls after that point, which are not counted.
    """
    obj: Any = item.obj  # type: ignore[attr-defined]
    test = _function(item)
    current = settings_of(test)
    phases = [p for p in current.phases if p in (Phase.explicit, Phase.generate)]
    set_settings_of(test, settings(current, phases=phases))
    inner = obj.hypothesis.inner_test
    counts = examples.setdefault(item.nodeid, {"examples": 0, "per": 0})

    def every_example(*args: Any, **kwargs: Any) -> None:
        before = planned()
        try:
            inner(*args, **kwargs)
        except HypothesisException:
            raise
        except Exception:  # blank answers: the example's verdict means nothing
            stopped.add(item.nodeid)
        finally:
            counts["examples"] += 1
            counts["per"] = max(counts["per"], planned() - before)

    obj.hypothesis.inner_test = every_example
