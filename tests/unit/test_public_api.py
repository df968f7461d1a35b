"""What a test suite imports: every public name from ``pytest_xgen``, old paths with a warning."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import pytest_xgen


def test_every_public_name_resolves_to_the_object_its_module_defines() -> None:
    for name in pytest_xgen.__all__:
        if name == "__version__":
            continue
        value = getattr(pytest_xgen, name)
        module = importlib.import_module(pytest_xgen._LAZY[name])
        assert value is getattr(module, name), name
    assert sorted(pytest_xgen.__all__) == sorted([*pytest_xgen._LAZY, "__version__"])


def test_the_fixture_type_and_the_result_types_are_public() -> None:
    from pytest_xgen.fixture import Xgen

    assert pytest_xgen.Xgen is Xgen
    for name in ("TransferResult", "InvariantResult", "ReviewResult", "EnsembleExplanation"):
        assert name in pytest_xgen.__all__
    for name in ("WeakSteps", "AnswerSpec", "PerturbedPrompt", "Transform", "XgenError"):
        assert name in pytest_xgen.__all__


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = pytest_xgen.Nope  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("old", "name"),
    [
        ("metrics", "pairwise_consistency"),
        ("perturb", "PerturbedPrompt"),
        ("answers", "AnswerSpec"),
    ],
)
def test_the_old_import_paths_work_and_say_where_to_import_from(old: str, name: str) -> None:
    sys.modules.pop(f"pytest_xgen.{old}", None)
    with pytest.warns(
        DeprecationWarning, match=f"pytest_xgen.{old} is deprecated; import from pytest_xgen"
    ):
        module = importlib.import_module(f"pytest_xgen.{old}")
    assert getattr(module, name) is getattr(pytest_xgen, name)


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, pytest_xgen; pytest_xgen.__all__; "
        "print(sorted(m for m in ('openai', 'diskcache', 'scipy', 'hypothesis', 'llama_cpp')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
