"""The package's layers, checked for what matters.

Every module of ``pytest_xgen`` is parsed (not imported) and each of its imports of the
package collected, wherever it sits: at the top, inside a function, or under
``if TYPE_CHECKING:`` (an annotation is a dependency too). On that graph:

- a module imports only its own layer or a lower one, between the top-level layers and,
  inside a package, between the package's own layers;
- no two modules depend on each other, through any chain (each exception is listed here
  with its reason);
- an import inside a function keeps something out of start-up: a heavy dependency (the
  ``openai`` client, diskcache, SciPy, Hypothesis, jsonschema, pysbd, llama.cpp), or, in a
  module every pytest run loads, a layer a run that uses no xgen never needs; both are
  measured (what such a run loads; that importing every light module loads nothing
  heavy). The ``xgen`` command imports each subcommand's part when it runs;
- ``core/`` imports neither pytest nor a model client;
- the recording key is built under ``recording/`` only.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import pytest_xgen

PACKAGE = "pytest_xgen"
ROOT = Path(pytest_xgen.__file__).parent

# Lower ranks are lower layers; a module may import its own rank or below, never above.
# The package itself (an ``__init__``) sits above every rank of its own table.
RANKS: dict[str, dict[str, int]] = {
    PACKAGE: {
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
        "hypothesis_glue": 7,
        "strategies": 7,
        "hookspecs": 7,
        "fixture": 8,
        "plugin": 9,
        "cli": 9,
    },
    # Pure functions: answers and numbers first, the prompt text, then what edits it.
    "pytest_xgen.core": {
        "answers": 0,
        "finite": 0,
        "gate_metrics": 0,
        "metrics": 0,
        "printable": 0,
        "schema_check": 0,
        "sequential": 0,
        "significance": 0,
        "stats": 0,
        "prompts": 1,
        "strip": 2,
        "perturb": 3,
        "interventions": 4,
    },
    # Kinds of value, the table of settings, its merging, then the marker's keywords.
    "pytest_xgen.settings": {
        "names": 0,
        "values": 0,
        "options": 1,
        "config": 2,
        "marker": 3,
    },
    # The protocol, then the OpenAI-compatible client, then the embedded models on it.
    "pytest_xgen.models": {
        "base": 0,
        "llama_server": 0,
        "redaction": 0,
        "call_errors": 1,
        "responses_answer": 1,
        "openai_chat": 2,
        "openai_responses": 3,
        "local": 3,
        "anthropic_messages": 3,
    },
    # Keys and entries, what is built on them, the recorder, then what a test is handed.
    "pytest_xgen.recording": {
        "derived": 0,
        "miss": 0,
        "secrets": 0,
        "signing": 0,
        "store": 1,
        "budget": 2,
        "cassettes": 2,
        "client_body": 2,
        "cost": 2,
        "anthropic_body": 3,
        "client_kinds": 3,
        "recorder": 3,
        "model": 4,
        "client": 5,
        "anthropic_client": 6,
        "patch": 7,
    },
    # Plain data and threads, the registry and the sampling engine, what a check is
    # handed, then the kinds, the ones built on other kinds last.
    "pytest_xgen.checks": {
        "data": 0,
        "parallel": 0,
        "units": 0,
        "verdicts": 0,
        "conditions": 1,
        "kinds": 1,
        "arms": 2,
        "confirmation": 2,
        "context": 2,
        "looks": 2,
        "ensemble": 3,
        "transfer_report": 3,
        "interventions": 4,
        "invariance": 4,
        "answer_position": 4,
        "mirror": 4,
        "review": 4,
        "transfer": 4,
        "weak": 5,
    },
    # The statuses and the formats table, the JSON report, its renderings, the gate that
    # compares two, then what writes the files and merges shards.
    "pytest_xgen.report": {
        "formats": 0,
        "groups": 0,
        "markdown_limits": 0,
        "status": 0,
        "build": 1,
        "gate_changes": 2,
        "gate_runs": 2,
        "html": 2,
        "terminal": 2,
        "gate_text": 3,
        "markdown": 3,
        "gate": 4,
        "merge": 5,
        "outputs": 5,
    },
    # Escaping and pooled numbers, the parts every section uses, the sections, the page.
    "pytest_xgen.report.html": {
        "escape": 0,
        "pooled": 0,
        "charts": 1,
        "comparison": 1,
        "parts": 1,
        "weak": 1,
        "agreement": 2,
        "details": 2,
        "interventions": 2,
        "invariance": 2,
        "review": 2,
        "run": 2,
        "transfer": 2,
        "page": 3,
    },
}

# Mutual dependencies kept on purpose: (module, the import that closes the loop) -> why.
MUTUAL = {
    ("pytest_xgen.reporter", "pytest_xgen.session"): (
        "the reporter is the run's terminal half: the session creates it with itself (the "
        "fixture reaches the progress line through the session), and it names XgenSession "
        "in annotations only"
    ),
}

# Imports inside a function that keep no heavy dependency and no layer out of start-up:
# each would close an import cycle at the top. (module, imported module) -> why.
LAZY: dict[tuple[str, str], str] = {}

COMMAND = "pytest_xgen.cli"
"""The ``xgen`` command: each subcommand imports the part of the package it runs."""

HEAVY = (
    "openai",
    "anthropic",
    "diskcache",
    "scipy",
    "hypothesis",
    "jsonschema",
    "pysbd",
    "llama_cpp",
)
"""What start-up must not load: each costs tens to hundreds of milliseconds."""

MODEL_CLIENTS = ("openai", "anthropic", "httpx", "llama_cpp", "requests")
TOP_LEVEL_MODULES = 12


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}
PACKAGES = {m for m, path in MODULES.items() if path.name == "__init__.py"}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as found in ``module``."""

    module: str
    target: str  # a module of the package, or the top name of another distribution
    line: int
    where: str  # "top", "function" or "annotations" (under TYPE_CHECKING)

    def __str__(self) -> str:
        return f"{self.module}:{self.line} -> {self.target} ({self.where})"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if module in PACKAGES else module.rpartition(".")[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """What an import statement loads: a module of the package (a submodule when one is
    named), or the top name of any other distribution."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        source = _resolve(module, node)
        names = [
            f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
            for alias in node.names
        ]
    return [name if name.startswith(PACKAGE) else name.split(".")[0] for name in names]


def imports_of(module: str, source: str | None = None) -> list[Import]:
    """Every import in ``module``'s source (its file, unless ``source`` is given)."""
    text = MODULES[module].read_text(encoding="utf-8") if source is None else source
    found: list[Import] = []

    def visit(node: ast.AST, where: str) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, "annotations")
            for child in node.orelse:
                visit(child, where)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.extend(Import(module, t, node.lineno, where) for t in _targets(module, node))
        inner = "function" if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else where
        for child in ast.iter_child_nodes(node):
            visit(child, inner if where == "top" else where)

    visit(ast.parse(text), "top")
    return [i for i in found if i.target != module and i.target != "__future__"]


IMPORTS = {module: imports_of(module) for module in MODULES}
INTERNAL = [i for found in IMPORTS.values() for i in found if i.target.startswith(PACKAGE)]


def _layer_of(module: str) -> tuple[str, str]:
    """The table ``module`` is ranked in and its name there (its first part below the
    deepest package that has a table)."""
    parts = module.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        table = ".".join(parts[:depth])
        if table in RANKS:
            return table, parts[depth]
    raise AssertionError(f"{module} is in no table")


def order(module: str, target: str) -> tuple[int, int] | None:
    """``(rank of module, rank of target)`` in the table of the deepest package both are
    in (the package itself above its own modules); None for the package's root and for
    a module with no layer yet."""
    a, b = module.split("."), target.split(".")
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    table = ".".join(a[:common])
    while table and table not in RANKS:
        table = table.rpartition(".")[0]
    if not table:
        return None
    depth = len(table.split("."))
    ranks = RANKS[table]
    # A sub-package's ``__init__`` is above its modules; the root's imports them lazily
    # (its public names) and ranks with the entry points.
    top = max(ranks.values()) + (table != PACKAGE)
    mine = ranks.get(a[depth], -1) if len(a) > depth else top
    theirs = ranks.get(b[depth], -1) if len(b) > depth else top
    return None if -1 in (mine, theirs) else (mine, theirs)  # unranked: reported above


def test_every_module_has_a_layer() -> None:
    unranked = []
    for module in MODULES:
        if module == PACKAGE:
            continue
        table, name = _layer_of(module)
        if name not in RANKS[table]:
            unranked.append(f"{module} (add {name!r} to RANKS[{table!r}])")
    assert not unranked, "modules with no layer:\n" + "\n".join(unranked)
    stale = sorted(
        f"{table}.{name}"
        for table, ranks in RANKS.items()
        for name in ranks
        if f"{table}.{name}" not in MODULES
    )
    assert not stale, f"layers of modules that do not exist: {stale}"


def test_imports_resolve_to_modules_of_the_package() -> None:
    unknown = sorted(str(i) for i in INTERNAL if i.target not in MODULES)
    assert not unknown, "imports of modules that do not exist:\n" + "\n".join(unknown)


def test_no_module_imports_a_higher_layer() -> None:
    upward = []
    for i in INTERNAL:
        ranks = order(i.module, i.target)
        if ranks is not None and ranks[1] > ranks[0]:
            upward.append(f"{i} (rank {ranks[0]} imports rank {ranks[1]})")
    assert not upward, "imports of a higher layer:\n" + "\n".join(sorted(upward))


def _graph(imports: list[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for i in imports:
        graph.setdefault(i.module, set()).add(i.target)
    return graph


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


def test_no_two_modules_depend_on_each_other() -> None:
    kept = [i for i in INTERNAL if (i.module, i.target) not in MUTUAL]
    cycle = _find_cycle(_graph(kept))
    assert cycle is None, "modules that depend on each other: " + " -> ".join(cycle or [])
    edges = {(i.module, i.target) for i in INTERNAL}
    stale = sorted(f"{a} -> {b}" for a, b in MUTUAL if (a, b) not in edges)
    assert not stale, f"MUTUAL lists imports that are gone: {stale}"


def _heavy_modules() -> dict[str, str]:
    """The modules whose import loads a heavy dependency, each with the one it loads: a
    top-level import of one, or of such a module (its parent packages included)."""
    heavy: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for module, found in IMPORTS.items():
            if module in heavy:
                continue
            for i in found:
                if i.where != "top":
                    continue
                loaded = [i.target]
                if i.target.startswith(PACKAGE):
                    parts = i.target.split(".")
                    loaded += [".".join(parts[:n]) for n in range(1, len(parts))]
                reason = next(
                    (t if t in HEAVY else heavy[t] for t in loaded if t in HEAVY or t in heavy),
                    None,
                )
                if reason:
                    heavy[module] = reason
                    changed = True
                    break
    return heavy


HEAVY_MODULES = _heavy_modules()
LIGHT = sorted(set(MODULES) - set(HEAVY_MODULES))


def _run_pytest(where: Path, *args: str) -> dict[str, Any]:
    """What an inner ``pytest`` run in ``where`` loads: its exit code, the package's modules
    and the heavy dependencies (Hypothesis's own pytest plugin, which loads Hypothesis,
    left out)."""
    code = (
        "import json, sys, pytest\n"
        "code = pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'no:randomly', "
        "'-p', 'no:hypothesispytest', *sys.argv[1:]])\n"
        "print(json.dumps({'exit': int(code), "
        "'package': sorted(m for m in sys.modules if m.startswith('pytest_xgen')), "
        f"'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=where
    )
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["exit"] == 0, out.stdout
    return found


@pytest.fixture(scope="module")
def start_up(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """What a pytest run that uses no xgen loads (the plugin is loaded by every run in an
    environment that has it installed)."""
    where = tmp_path_factory.mktemp("start_up")
    (where / "test_plain.py").write_text("def test_plain():\n    pass\n", encoding="utf-8")
    return _run_pytest(where, str(where))


_REPLAYED_MODEL = """\
from pytest_xgen.models.base import ChatResult


class Echo:
    name = "echo"
    identity = {"endpoint": "memory", "model": "echo"}
    params = {}

    def chat(self, messages, **params):
        return ChatResult(text="7")

    def complete(self, prompt, **params):
        raise NotImplementedError


def pytest_xgen_make_model(name, spec, session):
    return Echo() if spec.get("backend") == "memory" else None
"""


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """What a run whose tests call a model and run no check loads, replaying its calls
    from a cassette (``--xgen-record-mode=none``): the run a suite of recorded calls
    makes on every CI push."""
    where = tmp_path_factory.mktemp("replay")
    (where / "pyproject.toml").write_text(
        '[tool.xgen]\ncassette_dir = "cassettes"\ncache_dir = ".xgen/cache"\n'
        '[tool.xgen.models.echo]\nbackend = "memory"\n',
        encoding="utf-8",
    )
    (where / "conftest.py").write_text(_REPLAYED_MODEL, encoding="utf-8")
    (where / "test_calls.py").write_text(
        "def test_calls(xgen):\n    assert xgen.model('echo')('3 + 4?').text == '7'\n",
        encoding="utf-8",
    )
    _run_pytest(where, str(where))  # records the cassette
    return _run_pytest(where, str(where), "--xgen-record-mode=none")


def test_an_import_inside_a_function_keeps_something_out_of_start_up(
    start_up: dict[str, list[str]], replay: dict[str, list[str]]
) -> None:
    # Kept out: a heavy dependency; the layers a run that uses no xgen, or one that only
    # replays model calls, never needs (from a module that run loads); the parts of the
    # package an xgen command does not run.
    runs = [set(start_up["package"]), set(replay["package"])]
    needless = sorted(
        str(i)
        for i in INTERNAL
        if i.where == "function"
        and i.target not in HEAVY_MODULES
        and not any(i.module in loaded and i.target not in loaded for loaded in runs)
        and i.module != COMMAND
        and (i.module, i.target) not in LAZY
    )
    assert not needless, (
        "imports inside functions that keep nothing out of start-up (move them to the "
        "top, or list them in LAZY with the cycle they avoid):\n" + "\n".join(needless)
    )
    lazy = {(i.module, i.target) for i in INTERNAL if i.where == "function"}
    stale = sorted(f"{a} -> {b}" for a, b in LAZY if (a, b) not in lazy)
    assert not stale, f"LAZY lists imports that are gone: {stale}"


def test_a_run_that_uses_no_xgen_loads_no_check_and_no_heavy_dependency(
    start_up: dict[str, list[str]],
) -> None:
    assert start_up["heavy"] == []
    loaded = set(start_up["package"])
    assert "pytest_xgen.plugin" in loaded and "pytest_xgen.session" in loaded
    not_needed = {"pytest_xgen.fixture", "pytest_xgen.models.base", "pytest_xgen.report.build"}
    not_needed |= {m for m in MODULES if m.startswith("pytest_xgen.checks.")} - {
        "pytest_xgen.checks.kinds"  # the registry: plugins add kinds when the run starts
    }
    # The recording layer (recorder, store, cassettes, cost) waits for the first call.
    not_needed |= {m for m in MODULES if m.startswith("pytest_xgen.recording")}
    assert sorted(loaded & not_needed) == []


def test_a_replay_of_model_calls_loads_no_check_no_client_and_no_heavy_dependency(
    replay: dict[str, list[str]],
) -> None:
    # Replaying recorded calls is what most CI runs do: the check engine, the recorded
    # application clients and every heavy dependency wait until a test uses them.
    assert replay["heavy"] == []
    loaded = set(replay["package"])
    assert {"pytest_xgen.fixture", "pytest_xgen.recording.recorder"} <= loaded
    not_needed = {m for m in MODULES if m.startswith("pytest_xgen.checks.")} - {
        "pytest_xgen.checks.kinds",  # the registry
        "pytest_xgen.checks.data",  # the explanation digests every report row holds
    }
    not_needed |= {
        "pytest_xgen.models.local",
        "pytest_xgen.recording.client",
        "pytest_xgen.recording.patch",
        "pytest_xgen.recording.anthropic_client",
        "pytest_xgen.hypothesis_glue",
        "pytest_xgen.strategies",
    }
    assert sorted(loaded & not_needed) == []


def _loaded(modules: list[str]) -> list[str]:
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    loaded: list[str] = json.loads(out.stdout.replace("'", '"'))
    return loaded


def test_importing_every_light_module_loads_no_heavy_dependency() -> None:
    # The fixture, the session, every check, report and recording module (the recorded
    # clients included) are light; importing them all loads nothing heavy, which also
    # proves the graph's account of what is heavy.
    must_be_light = {"pytest_xgen.plugin", "pytest_xgen.fixture", "pytest_xgen.session"} | {
        m
        for m in MODULES
        if m.startswith(("pytest_xgen.checks", "pytest_xgen.report", "pytest_xgen.recording"))
    }
    assert sorted(must_be_light & set(HEAVY_MODULES)) == []
    assert _loaded(["pytest_xgen.plugin"]) == []
    assert _loaded(LIGHT) == []


def test_the_heavy_modules_are_the_ones_expected() -> None:
    # Hypothesis is the strategies' and its glue's whole point; nothing else is heavy.
    assert HEAVY_MODULES == {
        "pytest_xgen.hypothesis_glue": "hypothesis",
        "pytest_xgen.strategies": "hypothesis",
    }


def test_core_imports_neither_pytest_nor_a_model_client() -> None:
    core = [m for m in MODULES if m == "pytest_xgen.core" or m.startswith("pytest_xgen.core.")]
    outside = sorted(
        str(i)
        for m in core
        for i in IMPORTS[m]
        if i.target.split(".")[0] in ("pytest", "_pytest", "pluggy", *MODEL_CLIENTS)
        or (
            i.target.startswith(PACKAGE)
            and i.target not in (PACKAGE, "pytest_xgen.errors")
            and not i.target.startswith("pytest_xgen.core")
        )
    )
    assert not outside, "core/ reaches outside pure functions:\n" + "\n".join(outside)
    code = (
        "import importlib, sys\n"
        f"for name in {core!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in ('pytest', '_pytest', 'pluggy', "
        f"*{MODEL_CLIENTS!r}) if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_recording_key_is_built_under_recording_only() -> None:
    builders = {"build_request", "request_key", "KEY_FORMAT"}
    found = sorted(
        f"{module}:{node.lineno} uses {name}"
        for module, path in MODULES.items()
        if not module.startswith("pytest_xgen.recording")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        for name in (getattr(node, "id", None), getattr(node, "attr", None))
        if name in builders
    )
    assert not found, "recording keys built outside recording/:\n" + "\n".join(found)


def test_at_most_twelve_modules_sit_at_the_top_of_the_package() -> None:
    loose = sorted(path.name for path in ROOT.glob("*.py"))
    assert len(loose) <= TOP_LEVEL_MODULES, loose


# -- the checker itself --------------------------------------------------------------------


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


def test_every_kind_of_import_is_found_where_it_sits() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import errors\n"
        "import openai.types\n"
        "if TYPE_CHECKING:\n"
        "    from pytest_xgen.plugin import X\n"
        "def f():\n"
        "    from .core import metrics\n"
        "    import pytest_xgen.session\n"
        "    class Inner:\n"
        "        import scipy\n"
    )
    found = {(i.target, i.where) for i in imports_of("pytest_xgen.fixture", source)}
    assert found == {
        ("typing", "top"),
        ("pytest_xgen.errors", "top"),
        ("openai", "top"),
        ("pytest_xgen.plugin", "annotations"),
        ("pytest_xgen.core.metrics", "function"),
        ("pytest_xgen.session", "function"),
        ("scipy", "function"),
    }


def test_layers_are_compared_in_the_deepest_shared_package() -> None:
    assert order("pytest_xgen.checks.transfer", "pytest_xgen.checks.conditions") == (4, 1)
    assert order("pytest_xgen.checks.transfer", "pytest_xgen.core.answers") == (5, 1)
    assert order("pytest_xgen.report.html.page", "pytest_xgen.report.status") == (2, 0)
    assert order("pytest_xgen.report.html", "pytest_xgen.report.html.page") == (4, 3)
    assert order("pytest_xgen.report.html.page", "pytest_xgen.report.html") == (3, 4)
