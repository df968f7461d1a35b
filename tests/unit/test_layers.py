"""The package's layers: no module imports a module of a higher layer, and no import cycles.

Every module of ``pytest_xgen`` is parsed (not imported) and its runtime imports of the
package collected: module-level ones and the lazy ones inside functions, but not those
under ``if TYPE_CHECKING:`` (annotations only, never executed).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_xgen

PACKAGE = "pytest_xgen"
ROOT = Path(pytest_xgen.__file__).parent

# Lower ranks are lower layers; a module may import its own rank or below, never above.
PACKAGE_RANKS = {
    "errors": 0,
    "files": 0,
    "core": 1,
    "settings": 2,
    "models": 3,
    "recording": 4,
    "checks": 5,
    "report": 6,
    "stash": 7,
    "session": 7,
    "reporter": 7,
    "outputs": 7,
    "hypothesis_glue": 7,
    "strategies": 7,
    "hookspecs": 7,
    "fixture": 8,
    "client": 8,
    "plugin": 9,
    "cli": 9,
}
TOP_RANK = 9


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def rank(module: str) -> int:
    parts = module.split(".")
    if parts == [PACKAGE]:
        return TOP_RANK
    return PACKAGE_RANKS[parts[1]]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package modules an import statement loads (a submodule when one is named)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        source = _resolve(module, node)
        names = []
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            names.append(submodule if submodule in MODULES else source)
    return [name for name in names if name == PACKAGE or name.startswith(PACKAGE + ".")]


def runtime_imports(module: str) -> set[str]:
    """Package modules ``module`` imports at run time, anywhere in its body."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"), str(MODULES[module]))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.update(_targets(module, node))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(module)
    return found


GRAPH = {module: runtime_imports(module) for module in MODULES}


def test_every_module_has_a_layer() -> None:
    unranked = []
    for module in MODULES:
        try:
            rank(module)
        except KeyError:
            unranked.append(module)
    assert not unranked, f"modules with no layer in PACKAGE_RANKS: {unranked}"


def test_imports_resolve_to_modules_of_the_package() -> None:
    unknown = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if target not in MODULES
    )
    assert not unknown, "imports of modules that do not exist:\n" + "\n".join(unknown)


def test_no_module_imports_a_higher_layer() -> None:
    upward = sorted(
        f"{module} (rank {rank(module)}) -> {target} (rank {rank(target)})"
        for module, targets in GRAPH.items()
        for target in targets
        if rank(target) > rank(module)
    )
    assert not upward, "imports of a higher layer:\n" + "\n".join(upward)


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def walk(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return path[path.index(target) :] + [target]
            if target not in done:
                cycle = walk(target)
                if cycle:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for node in sorted(graph):
        if node not in done:
            cycle = walk(node)
            if cycle:
                return cycle
    return None


def test_the_import_graph_has_no_cycle() -> None:
    cycle = _find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("graph", "has_cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, False),
    ],
)
def test_find_cycle(graph: dict[str, set[str]], has_cycle: bool) -> None:
    assert (_find_cycle(graph) is not None) is has_cycle


def test_type_checking_and_relative_imports_are_handled(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import errors\n"
        "if TYPE_CHECKING:\n"
        "    from pytest_xgen.plugin import X\n"
        "def f():\n"
        "    from .core import metrics\n"
        "    import pytest_xgen.session\n"
    )
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.update(_targets("pytest_xgen.fixture", node))
    assert found == {"pytest_xgen.errors", "pytest_xgen.core.metrics", "pytest_xgen.session"}
