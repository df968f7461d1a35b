"""Every example of the README and of docs/*.md runs as written, so a copied example works.

The fenced blocks are read out of the Markdown:

- a ```python block that defines tests runs as an inner pytest session against scripted
  models (``qwen``, ``smollm``, ``gemma``, answering through the plugin's model hook, recorded
  like any endpoint), with the small product modules the examples import (``tutor``,
  ``shop``) on the path; every test it defines must pass. Any other ```python block is
  executed whole;
- a ```toml block is parsed and its ``[tool.xgen]`` settings validated as the plugin
  validates them at start-up;
- a shell block's ``pytest`` and ``xgen`` commands name only options that ``pytest --help``
  and ``xgen SUBCOMMAND --help`` list.

A block that cannot run on its own (a fragment of a larger file) is marked in the Markdown
by ``<!-- fragment -->`` on the line before its fence. Fragments are still compiled, and
``FRAGMENTS`` lists every one, so none is left out silently.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from pytest_xgen.settings.config import Source, resolve
from tests.scripted import conftest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*$")
FRAGMENT = "<!-- fragment -->"
SHELL = {"", "sh", "bash", "shell", "console"}

# Every block marked as a fragment: (page, the block's first line).
FRAGMENTS = {
    # a tutor fixture and PROBLEM as in perturbations.md
    ("docs/api.md", "def test_the_tutors_answer(xgen, tutor):"),
    # needs a backend = "anthropic" model, which the scripted project has not
    ("docs/your-pipeline.md", "import anthropic"),
    # needs a model answering the Responses API, which the scripted project has not
    ("docs/your-pipeline.md", "import json"),
}


@dataclass(frozen=True)
class Block:
    """One fenced block of a Markdown page."""

    page: str  # relative to the repository, e.g. "docs/transfer.md"
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    fragment: bool

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def first_line(self) -> str:
        return next((line for line in self.text.splitlines() if line.strip()), "")


def read_blocks(path: Path) -> list[Block]:
    """The fenced blocks of the Markdown file ``path``, dedented by their fence's indent."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        before = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        body = textwrap.dedent("\n".join(lines[i + 1 : end])) + "\n"
        blocks.append(
            Block(
                page=path.relative_to(ROOT).as_posix(),
                line=i + 1,
                lang=opening["lang"],
                text=body,
                fragment=before == FRAGMENT,
            )
        )
        i = end + 1
    return blocks


BLOCKS = [b for page in PAGES for b in read_blocks(page)]
PYTHON = [b for b in BLOCKS if b.lang == "python"]
TOML = [b for b in BLOCKS if b.lang == "toml"]
COMMANDS = [b for b in BLOCKS if b.lang in SHELL]


def runnable(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if not b.fragment]


def is_test_module(block: Block) -> bool:
    return re.search(r"^(async )?def test_", block.text, re.MULTILINE) is not None


# ---------------------------------------------------------------------------------------
# The README's documentation list


def documentation_list() -> set[str]:
    """The pages the README's "Documentation" section links to."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Documentation\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"\]\((docs/[\w.-]+\.md)\)", section))


def test_the_readme_lists_every_docs_page() -> None:
    pages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")}
    listed = documentation_list()
    assert pages - listed == set(), "docs pages missing from the README's documentation list"
    assert listed - pages == set(), "the README's documentation list names missing pages"


def test_the_readme_describes_every_demo_module() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## What the demo shows\n", 1)[1].split("\n## ", 1)[0]
    demos = {p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").glob("test_*.py")}
    assert {d for d in demos if f"`{d}`" not in section} == set()


# ---------------------------------------------------------------------------------------
# Fragments


def test_the_fragments_are_the_listed_ones_and_compile() -> None:
    marked = [b for b in BLOCKS if b.fragment]
    assert {(b.page, b.first_line) for b in marked} == FRAGMENTS
    for block in marked:
        if block.lang == "python":
            compile(block.text, block.id, "exec")
        elif block.lang == "toml":
            tomllib.loads(block.text)


# ---------------------------------------------------------------------------------------
# Python blocks

SCRIPTED = conftest(
    r"""
# Scripted models for the documentation's examples: each knows the answers of the problems
# the docs ask, baselines that disagree, and evaluators that follow the last number of the
# explanation they are handed.

import json
import re

from pytest_xgen.core import prompts
from pytest_xgen.core.perturb import find_numbers
from pytest_xgen.models.base import CompletionResult, Usage

SUMS = re.compile(r"has ([^.?!]+?) \w+ and buys ([^.?!]+?) more")
LARGER = re.compile(r"Is (\d+) larger than (\d+)\?")
THIRD = re.compile(r"(\d+) candies and gives away one third")


def truth(problem):
    found = SUMS.search(problem)
    if found:
        a, b = (find_numbers(found[i]) for i in (1, 2))
        if a and b:
            return int(a[0].value + b[0].value)
    found = THIRD.search(problem)
    if found:
        return int(found[1]) * 2 // 3
    numbers = [n.value for n in find_numbers(problem)]
    return int(sum(numbers[:2])) if numbers else 0


def last_number(text):
    numbers = find_numbers(text)
    return int(numbers[-1].value) if numbers else 0


def reply(call):
    system, user = call.system, call.user
    if system == prompts.STRIP_SYSTEM:
        return json.dumps({"remove": []})
    if system == prompts.REVIEW_SYSTEM:
        steps = len(re.findall(r"^\d+\. ", user.split("Proposed solution:")[-1], re.M))
        verdicts = [f"Step {i}: agree" for i in range(1, max(steps, 1) + 1)]
        return "\n".join([*verdicts, "First error: none"])
    if "Explanation:" in user or "Plan:" in user:
        given = user.split("Explanation:" if "Explanation:" in user else "Plan:", 1)[1]
        given = given.split("Task:", 1)[0]
        return f"Following the explanation.\nAnswer: {last_number(given)}"
    if system == prompts.ELICIT_SYSTEM or "numbered steps" in system:
        n = truth(user)
        return f"1. Read the problem.\n2. Work it out: the result is {n}.\nAnswer: {n}"
    if system.startswith("Reword the explanation"):
        return user  # a paraphrase that keeps every word
    if LARGER.search(user):
        a, b = map(int, LARGER.search(user).groups())
        return f"Answer: {'yes' if a > b else 'no'}"
    if system == prompts.ANSWER_ONLY_SYSTEM:
        # Without an explanation the models guess apart.
        return f"Answer: {truth(user) + (call.sample + len(call.model)) % 3}"
    return f"Answer: {truth(user)}"


def complete(model, prompt, params):
    words = prompt.split()
    return CompletionResult(
        text=" ok",
        tokens=words,
        token_logprobs=[None] + [-1.0] * (len(words) - 1),
        finish_reason="length",
        usage=Usage(len(words), 1, len(words) + 1),
    )
""",
    complete=True,
)

PROJECT = """
[tool.xgen]
record_mode = "once"
generator = "qwen"
evaluators = ["qwen", "smollm"]
""" + "".join(
    f'\n[tool.xgen.models.{name}]\nbase_url = "http://scripted.invalid/v1"\nmodel = "{name}"\n'
    for name in ("qwen", "smollm", "gemma", "smollm-short")
)

# The product the examples import: the demo's tutor (examples/tutor/app.py) as the package
# ``tutor``, with a model-free explain() defined in tutor/app.py and re-exported by the
# package, and a solve() that asks the client it was given; and a shop that builds its own
# openai client.
TUTOR_EXTRA = """

def explain(problem):
    from pytest_xgen.core.perturb import find_numbers

    a, b = (int(n.value) for n in find_numbers(problem)[:2])
    return f"1. Start from {a}.\\n2. Add the {b} he buys: {a} + {b} = {a + b}.\\nAnswer: {a + b}"


def _solve(self, problem):
    r = self.client.chat.completions.create(messages=[{"role": "user", "content": problem}])
    return r.choices[0].message.content


Tutor.solve = _solve
"""
PRODUCT = {
    "tutor/__init__.py": "from tutor.app import CHECKER_PROMPTS, Tutor, explain\n",
    "tutor/app.py": (ROOT / "examples" / "tutor" / "app.py").read_text(encoding="utf-8")
    + TUTOR_EXTRA,
    "shop.py": """
        import openai


        def greet(name):
            client = openai.OpenAI()
            r = client.chat.completions.create(
                model="shop", messages=[{"role": "user", "content": f"Greet {name}."}]
            )
            return r.choices[0].message.content
        """,
}


# Examples the docs say fail on evaluators that follow the numbers of an explanation, as
# the scripted ones do: the failure each shows.
EXPECTED_TO_FAIL = {
    "test_no_slip_moves_an_answer": "TransferFailed: invariance FAIL: qwen changed its answer",
}


def defined_tests(text: str) -> list[str]:
    return re.findall(r"^(?:async )?def (test_\w+)", text, re.MULTILINE)


@pytest.mark.parametrize(
    "block", [b for b in runnable(PYTHON) if is_test_module(b)], ids=lambda b: b.id
)
def test_a_python_example_passes(pytester: pytest.Pytester, block: Block) -> None:
    pytester.makeconftest(SCRIPTED)
    pytester.makepyprojecttoml(PROJECT)
    for name, text in PRODUCT.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    pytester.syspathinsert()
    pytester.makepyfile(test_example=block.text)
    result = pytester.runpytest("-p", "no:randomly")
    outcomes = result.parseoutcomes()
    failing = [EXPECTED_TO_FAIL[t] for t in defined_tests(block.text) if t in EXPECTED_TO_FAIL]
    if failing:
        result.stdout.fnmatch_lines([f"*{line}*" for line in failing])
        assert outcomes.get("failed", 0) == len(failing), result.stdout.str()
        outcomes["failed"] = 0
        outcomes["passed"] = outcomes.get("passed", 0) + len(failing)
    ran = outcomes.get("passed", 0) + outcomes.get("xfailed", 0)
    assert (outcomes.get("failed", 0), outcomes.get("errors", 0)) == (0, 0), result.stdout.str()
    assert ran >= len(set(defined_tests(block.text))), result.stdout.str()


@pytest.mark.parametrize(
    "block", [b for b in runnable(PYTHON) if not is_test_module(b)], ids=lambda b: b.id
)
def test_a_python_snippet_runs(block: Block) -> None:
    exec(compile(block.text, block.id, "exec"), {"__name__": "doc_example"})


# ---------------------------------------------------------------------------------------
# TOML blocks


@pytest.mark.parametrize("block", runnable(TOML), ids=lambda b: b.id)
def test_a_toml_example_is_valid_configuration(block: Block) -> None:
    data = tomllib.loads(block.text)
    settings = data["tool"]["xgen"] if "tool" in data else data
    assert settings, f"{block.id}: no xgen settings"
    # As at start-up: the schema, each setting's value, the prompts' templates and the
    # model names the defaults use.
    resolve(
        rootpath=ROOT,
        cli={},
        ini={},
        file_data=settings,
        source=Source(None, block.id),
        cli_models=[],
        ini_models=[],
    )


# ---------------------------------------------------------------------------------------
# JSON blocks


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "json"], ids=lambda b: b.id)
def test_a_json_example_parses_and_a_cassette_line_is_valid(block: Block) -> None:
    import jsonschema

    from pytest_xgen.settings.config import load_schema

    text = re.sub(r"\s+//[^\n]*", "", block.text)  # the annotations of a key's request
    data = json.loads(text)
    if "response" in data:  # a cassette line, its digests elided as "…"
        for name in ("key", "digest"):
            assert data[name] == "…"
            data[name] = "0" * 64
        schema = load_schema("recording.schema.json")
        jsonschema.validate(data, schema)


# ---------------------------------------------------------------------------------------
# Shell blocks


@cache
def help_options(*command: str) -> frozenset[str]:
    """The options ``command --help`` lists."""
    out = subprocess.run(
        [*command, "--help"], capture_output=True, text=True, cwd=ROOT, check=True, timeout=120
    ).stdout
    return frozenset(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", out))


# The subcommands of ``xgen``: a line "xgen dry run: ..." is output, not a command.
XGEN = ("models", "check", "sign", "report", "merge", "compare")


def commands(block: Block) -> list[list[str]]:
    """The ``pytest`` and ``xgen`` command lines of a shell block, continuation lines
    joined and comments dropped."""
    joined = block.text.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip()
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        while words and "=" in words[0] and not words[0].startswith("-"):
            words = words[1:]  # VAR=value before the command
        program = Path(words[0]).name if words else ""
        if program == "pytest" or (program == "xgen" and words[1:2] and words[1] in XGEN):
            found.append([program, *words[1:]])
    return found


def options(words: list[str]) -> list[str]:
    return [w.split("=", 1)[0] for w in words if re.match(r"--?[A-Za-z]", w)]


COMMAND_BLOCKS = [b for b in COMMANDS if commands(b)]


@pytest.mark.parametrize("block", COMMAND_BLOCKS, ids=lambda b: b.id)
def test_a_shell_example_names_real_options(block: Block) -> None:
    bin_dir = Path(sys.executable).parent
    unknown = []
    for words in commands(block):
        if words[0] == "pytest":
            known = help_options(str(bin_dir / "pytest"), "-p", "no:randomly")
            used = options(words[1:])
        else:
            sub = words[1]
            known = help_options(str(bin_dir / "xgen"), sub)
            used = options(words[2:])
        unknown += [f"{' '.join(words[:2])}: {o}" for o in used if o not in known]
    assert unknown == []


def test_every_xgen_option_the_docs_name_exists() -> None:
    """In prose and tables too, e.g. `--xgen-compare-underpowered`, links' anchors aside."""
    known = help_options(str(Path(sys.executable).parent / "pytest"), "-p", "no:randomly")
    unknown = [
        f"{page.relative_to(ROOT)}: {option}"
        for page in PAGES
        for option in sorted(set(re.findall(r"(?<![#\w-])--xgen-[a-z][\w-]*", page.read_text())))
        if option not in known
    ]
    assert unknown == []


def test_the_shell_examples_are_found() -> None:
    # The README's quick start and gate recipe among them: the reader is not broken.
    assert {b.page for b in COMMAND_BLOCKS} >= {"README.md", "docs/upgrades.md", "docs/ci.md"}
    usage = subprocess.run(
        [str(Path(sys.executable).parent / "xgen"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "{" + ",".join(XGEN) + "}" in usage  # every subcommand is recognised as one


# ---------------------------------------------------------------------------------------
# Facts the docs state about the plugin


def test_models_md_names_the_module_the_managed_server_runs() -> None:
    source = (ROOT / "pytest_xgen" / "models" / "local.py").read_text(encoding="utf-8")
    [module] = re.findall(r'"(pytest_xgen\.models\.\w+)"', source)
    text = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    assert f"python -m {module} --config_file" in text
    assert "python -m llama_cpp.server" not in text


def test_reports_md_says_what_script_the_html_report_has() -> None:
    from pytest_xgen.report.html import render_html

    page = render_html(json.loads((ROOT / "fixtures/reports/demo.json").read_text()))
    text = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    assert page.count("<script>") == 1 and "<script src" not in page
    assert "one inline\n`<script>`" in text or "one inline `<script>`" in text
    assert "no scripts" not in text


def test_the_demo_report_fixture_is_one_the_current_xgen_compare_reads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """fixtures/reports/demo.json is the report of a replay of the demo
    (``pytest examples/test_demo.py examples/test_perturbation_demo.py
    examples/test_transfer_demo.py --xgen-record-mode=none --xgen-report=...``)."""
    from pytest_xgen.cli import main as xgen

    demo = str(ROOT / "fixtures" / "reports" / "demo.json")
    assert xgen(["compare", demo, demo]) == 0
    out = capsys.readouterr().out
    assert "0 regressed, 0 improved, 20 unchanged, 0 new, 0 missing" in out
