"""What a test suite imports: every public name from ``pytest_xgen``, old paths with a warning."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import pytest_xgen
from pytest_xgen.fixture import Xgen

API = Path(__file__).resolve().parents[2] / "docs" / "api.md"


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


def _annotation_namespace(module: ModuleType) -> dict[str, Any]:
    """The names a module's annotations may use: its globals and the names it imports under
    ``if TYPE_CHECKING:`` (only those import statements are run)."""
    namespace = dict(vars(module))
    for node in ast.parse(inspect.getsource(module)).body:
        test = node.test if isinstance(node, ast.If) else None
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            assert isinstance(node, ast.If)
            imports: list[ast.stmt] = [
                n for n in node.body if isinstance(n, ast.Import | ast.ImportFrom)
            ]
            exec(
                compile(ast.Module(body=imports, type_ignores=[]), module.__name__, "exec"),
                namespace,
            )
    return namespace


def _returned_types(function: Callable[..., Any]) -> Iterator[type]:
    """The package's classes named in ``function``'s return annotation (``list[X]``,
    ``X | None`` and the like unwrapped)."""
    module = sys.modules[function.__module__]
    hint = typing.get_type_hints(function, _annotation_namespace(module)).get("return")
    stack = [hint]
    while stack:
        current = stack.pop()
        if isinstance(current, type) and current.__module__.startswith("pytest_xgen."):
            yield current
        stack.extend(typing.get_args(current))


def _public_callables(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    """``(name, function)`` of every public method and property of ``cls`` (and ``__call__``)
    that the package defines, inherited ones included."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("pytest_xgen"):
            continue
        for name, raw in vars(klass).items():
            if name in seen or (name.startswith("_") and name != "__call__"):
                continue
            seen.add(name)
            if isinstance(raw, property):
                raw = raw.fget
            elif isinstance(raw, staticmethod | classmethod):
                raw = raw.__func__
            if inspect.isfunction(raw):
                yield name, raw


def returned_by_the_api() -> dict[type, str]:
    """Every class a test can get back from the API, with the call that returns it first:
    the ``xgen`` fixture's public methods and properties, the package's public functions,
    and the public methods of what those return, in turn."""
    starts: list[tuple[str, Callable[..., Any]]] = [
        (f"xgen.{name}", function) for name, function in _public_callables(Xgen)
    ]
    for name in pytest_xgen.__all__:
        value = getattr(pytest_xgen, name)
        if inspect.isfunction(value):
            starts.append((f"pytest_xgen.{name}", value))
    found: dict[type, str] = {}
    todo = starts
    while todo:
        where, function = todo.pop(0)
        for cls in _returned_types(function):
            if cls not in found:
                found[cls] = f"{where}()"
                todo += [(f"{cls.__name__}.{n}", f) for n, f in _public_callables(cls)]
    return found


def test_every_type_the_api_returns_is_exported_and_documented() -> None:
    returned = returned_by_the_api()
    # The walk reads the annotations it should (nothing found would pass vacuously).
    by_name = {cls.__name__: where for cls, where in returned.items()}
    assert by_name["TransferResult"] == "xgen.check()"
    assert by_name["Interventions"] == "xgen.interventions()"
    assert by_name["MirrorResult"] == "xgen.mirror()"
    assert by_name["ChatResult"] == "RecordedModel.__call__()"
    unexported = [
        f"{cls.__module__}.{cls.__name__} (returned by {where})"
        for cls, where in returned.items()
        if cls.__name__ not in pytest_xgen.__all__ or getattr(pytest_xgen, cls.__name__) is not cls
    ]
    assert not unexported, f"add to pytest_xgen.__all__ and _LAZY: {unexported}"
    text = API.read_text(encoding="utf-8")
    undocumented = [
        f"{cls.__name__} (returned by {where})"
        for cls, where in returned.items()
        if f"`{cls.__name__}`" not in text
    ]
    assert not undocumented, f"docs/api.md does not name {undocumented}"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = pytest_xgen.Nope  # type: ignore[attr-defined]


@pytest.mark.parametrize("old", ["metrics", "perturb", "answers"])
def test_the_modules_moved_into_core_have_no_alias_at_the_top(old: str) -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"pytest_xgen.{old}")
    assert importlib.import_module(f"pytest_xgen.core.{old}") is not None


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, pytest_xgen; pytest_xgen.__all__; "
        "print(sorted(m for m in ('openai', 'diskcache', 'scipy', 'hypothesis', 'llama_cpp')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
