"""Hypothesis settings for tests that call models: slow examples, shared fixtures, replay.

Imported only when a collected test uses Hypothesis, so plain runs never load Hypothesis.

Determinism: every xgen test draws its examples from a random generator seeded by the
test function's digest, the same seed ``derandomize=True`` uses. The CI profile
``xgen-ci`` (selected by ``--xgen-record-mode=none`` unless a profile was chosen) is
derandomized, so a replay-only run draws exactly the examples the recording run drew and
every model call is a replay. Recording runs also keep Hypothesis' example database beside
the xgen cache, so a failing perturbation found once is tried first the next time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.internal.compat import int_from_bytes
from hypothesis.internal.reflection import function_digest

if TYPE_CHECKING:
    import pytest

    from pytest_xgen.config import Settings

CI_PROFILE = "xgen-ci"

settings.register_profile(
    CI_PROFILE,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Model calls are slow, and the xgen fixture is safe to share between examples.
_SUPPRESS = (HealthCheck.function_scoped_fixture, HealthCheck.too_slow)


def select_ci_profile(config: pytest.Config) -> bool:
    """Load ``xgen-ci`` unless the user chose a Hypothesis profile; return whether it did."""
    import os

    if config.getoption("hypothesis_profile", None) or os.environ.get("HYPOTHESIS_PROFILE"):
        return False
    settings.load_profile(CI_PROFILE)
    return True


def is_hypothesis_test(item: pytest.Item) -> bool:
    return bool(getattr(getattr(item, "obj", None), "is_hypothesis_test", False))


def configure(item: pytest.Item, xgen: Settings, max_examples: int | None) -> None:
    """Give one xgen Hypothesis test settings fit for model calls, keeping what the user
    set explicitly with ``@settings``."""
    obj: Any = item.obj  # type: ignore[attr-defined]
    test: Any = getattr(obj, "__func__", obj)  # a method's settings live on its function
    current: settings = test._hypothesis_internal_use_settings
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
    }
    if current.deadline == default.deadline:
        changes["deadline"] = None
    if max_examples is not None:
        changes["max_examples"] = max_examples
    elif current.max_examples == default.max_examples:
        changes["max_examples"] = xgen.max_examples
    if xgen.record_mode == "none":
        changes["derandomize"] = True
        changes["database"] = None
    elif not current.derandomize:
        if current.database is not None and current.database is default.database:
            directory = xgen.path("cache_dir").parent / "hypothesis"
            changes["database"] = DirectoryBasedExampleDatabase(str(Path(directory)))
        if test._hypothesis_internal_use_seed is None:
            # The seed derandomize=True would use: recording and replay draw alike.
            test._hypothesis_internal_use_seed = int_from_bytes(
                function_digest(test.hypothesis.inner_test)
            )
    test._hypothesis_internal_use_settings = settings(current, **changes)
