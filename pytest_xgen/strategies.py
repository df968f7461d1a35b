"""Hypothesis strategies for perturbed prompts: ``from pytest_xgen import strategies as xst``.

A transform (``xst.distractors()``, ``xst.renamed()``, ...) looks at a prompt and draws
meaning-preserving :class:`~pytest_xgen.core.perturb.Edit` s for it; :func:`perturbed` applies
transforms to a base prompt in turn and yields a
:class:`~pytest_xgen.core.perturb.PerturbedPrompt`::

    @pytest.mark.transfers
    @given(prompt=xst.perturbed(BAT, xst.distractors(), xst.reformat_numbers()))
    def test_robust(xgen, prompt):
        xgen.invariant(BAT, prompt, expected=0.05)

Every transform can draw no edit at all and shrinks toward that, so a failing example
shrinks to the fewest, simplest edits that still fail, and ``prompt.describe()`` and
``prompt.diff()`` show them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from pytest_xgen.core import interventions, perturb
from pytest_xgen.core.perturb import Edit, PerturbedPrompt
from pytest_xgen.core.strip import split_sentences

__all__ = [
    "Transform",
    "corrupt_step",
    "distractors",
    "drop_step",
    "mirrored",
    "noise",
    "padding",
    "paraphrase",
    "perturbed",
    "renamed",
    "reformat_numbers",
    "reorder",
    "reword",
    "swap_steps",
    "templated",
    "truncate",
]

T = TypeVar("T")

_TOKEN = re.compile(r"\S+")
_NOISE_LABELS = {
    "space": "double the space before",
    "case": "flip the case of a letter in",
    "typo": "swap two letters in",
    "punct": "drop the comma in",
}


@dataclass(frozen=True)
class Transform:
    """A meaning-preserving perturbation: ``edits_for(text)`` is a strategy of the edits to
    make to ``text``, in order, each applying to the text the previous one left.

    The built-in transforms come from this module's functions; a custom one needs only a
    name and such a function.
    """

    name: str
    edits_for: Callable[[str], SearchStrategy[list[Edit]]] = field(repr=False)


def distractors(pool: Iterable[str] | None = None, max_count: int = 2) -> Transform:
    """Insert up to ``max_count`` irrelevant sentences at sentence boundaries.

    The sentences come from :data:`~pytest_xgen.core.perturb.DISTRACTORS`, extended by
    ``pool``; only those :func:`~pytest_xgen.core.perturb.usable_distractors` allows are used
    (none naming a person of the prompt, none with a person at all if the prompt uses
    he/she). Meaning-preserving: every original sentence is kept verbatim and in order, a
    sentence goes only before an existing one so the last sentence stays last, and only
    numbers are added, none removed. Shrinks to no insertion, then to the first usable
    sentence before sentence 0.
    """
    if max_count < 0:
        raise ValueError(f"max_count must be >= 0, not {max_count}")
    sentences = (*perturb.DISTRACTORS, *(pool or ()))

    def edits_for(text: str) -> SearchStrategy[list[Edit]]:
        count = len(split_sentences(text))
        usable = perturb.usable_distractors(text, sentences)
        if not (count and usable and max_count):
            return st.builds(list)
        picks = st.lists(
            st.tuples(st.integers(0, count - 1), st.sampled_from(usable)),
            max_size=max_count,
            unique_by=lambda pick: pick[1],
        )
        return picks.map(_insertions)

    return Transform(f"distractors(max_count={max_count})", edits_for)


def _insertions(picks: list[tuple[int, str]]) -> list[Edit]:
    # The latest position first: an insertion then never shifts the sentences the next
    # one counts.
    return [
        Edit(
            "distractor",
            f"insert {sentence!r} before sentence {index}",
            partial(perturb.insert_sentence, index=index, sentence=sentence),
        )
        for index, sentence in sorted(picks, key=lambda pick: -pick[0])
    ]


def renamed(names: Iterable[str] | None = None, pool: Iterable[str] | None = None) -> Transform:
    """Consistently rename the people of the prompt.

    The people are ``names``, or else those :func:`~pytest_xgen.core.perturb.detect_names`
    finds; new names come from :data:`~pytest_xgen.core.perturb.NAMES` (or ``pool``), never
    one already in the prompt, each used once, and of the same kind (female or male first
    name) where the built-in lists know both, so pronouns still fit. Meaning-preserving:
    only whole-word names change, every occurrence the same way; numbers and everything
    else are untouched. Shrinks to no renaming, then to the first fitting new name.
    """
    wanted = None if names is None else tuple(names)
    replacements = perturb.NAMES if pool is None else tuple(pool)

    def edits_for(text: str) -> SearchStrategy[list[Edit]]:
        people = perturb.detect_names(text, known=wanted)
        if wanted is not None:
            people = [name for name in people if name in wanted]
        taken = set(perturb.detect_names(text, known=replacements))
        return _renames(people, [name for name in replacements if name not in taken])

    return Transform("renamed()", edits_for)


@st.composite
def _renames(draw: st.DrawFn, people: list[str], candidates: list[str]) -> list[Edit]:
    edits: list[Edit] = []
    used: set[str] = set()
    for name in people:
        options = [c for c in perturb.matching_names(name, candidates) if c not in used]
        # The keep-or-rename flag comes first so each rename can shrink away on its own.
        if not options or not draw(st.booleans()):
            continue
        new = draw(st.sampled_from(options))
        used.add(new)
        rename = partial(perturb.rename, mapping={name: new})
        edits.append(Edit("rename", f"rename {name} to {new}", rename))
    return edits


def reformat_numbers() -> Transform:
    """Respell numbers: for each number of the prompt, one of
    :func:`~pytest_xgen.core.perturb.number_styles` ("1000", "1,000", "one thousand", "$5" or
    "5 dollars"). Meaning-preserving: the multiset of numeric values is unchanged and
    nothing but the numbers is touched. Shrinks to style 0, the original spelling, for
    every number.
    """
    return Transform("reformat_numbers()", _number_edits)


def _number_edits(text: str) -> SearchStrategy[list[Edit]]:
    spans = perturb.find_numbers(text)
    styles = [perturb.number_styles(span) for span in spans]

    def edits(picks: tuple[int, ...]) -> list[Edit]:
        # The last number first, so a new spelling never moves the ones still to come.
        return [
            Edit(
                "number",
                f"write {spans[i].text!r} as {styles[i][k]!r}",
                partial(perturb.replace_number, index=i, style=styles[i][k]),
            )
            for i, k in reversed(list(enumerate(picks)))
            if k
        ]

    return st.tuples(*(st.integers(0, len(options) - 1) for options in styles)).map(edits)


def reorder(independent: Sequence[int]) -> Transform:
    """Permute the sentences at positions ``independent`` (0-based, as ``split_sentences``
    counts them) among those positions.

    You declare which sentences are independent; the transform keeps every sentence
    verbatim, moves only those, and leaves every other sentence (normally including the
    question, so do not list it) in place, so the numbers and the question are unchanged.
    Shrinks toward the original order.
    """
    slots = tuple(independent)
    if len(set(slots)) != len(slots) or any(i < 0 for i in slots):
        raise ValueError(f"reorder needs distinct sentence indices >= 0, not {list(slots)}")

    def edits_for(text: str) -> SearchStrategy[list[Edit]]:
        count = len(split_sentences(text))
        if any(i >= count for i in slots):
            raise ValueError(f"reorder({list(slots)}): the prompt has {count} sentences")
        return st.permutations(slots).map(partial(_reordering, slots, count))

    return Transform(f"reorder({list(slots)})", edits_for)


def _reordering(slots: tuple[int, ...], count: int, moved: list[int]) -> list[Edit]:
    if list(moved) == list(slots):
        return []
    order = list(range(count))
    for slot, sentence in zip(slots, moved, strict=True):
        order[slot] = sentence
    return [
        Edit(
            "reorder",
            f"put sentences {list(moved)} at positions {list(slots)}",
            partial(perturb.reorder_sentences, order=order),
        )
    ]


def padding(max_chars: int = 2000, where: str | Sequence[str] = perturb.PLACES) -> Transform:
    """Add 0..``max_chars`` characters of neutral filler (:func:`~pytest_xgen.core.perturb.pad`)
    before the prompt or after its context (``where``: "before", "after" or both).

    Meaning-preserving: the filler has no digits, number words, names or pronouns, every
    original sentence is kept verbatim and in order, and the last sentence stays last.
    Shrinks to no filler.
    """
    places = (where,) if isinstance(where, str) else tuple(where)
    if max_chars < 0 or not places or any(p not in perturb.PLACES for p in places):
        raise ValueError(f"padding needs max_chars >= 0 and where in {perturb.PLACES}")
    drawn = st.tuples(st.integers(0, max_chars), st.sampled_from(places)).map(_padding)
    return Transform(f"padding(max_chars={max_chars})", lambda text: drawn)


def _padding(pick: tuple[int, str]) -> list[Edit]:
    chars, where = pick
    if not chars:
        return []
    place = "before the prompt" if where == "before" else "before its last sentence"
    return [
        Edit(
            "padding",
            f"add about {chars} characters of filler {place}",
            partial(perturb.pad, chars=chars, where=where),
        )
    ]


def noise(rate: float = 0.05, protect: Iterable[str] = ()) -> Transform:
    """Add surface noise: up to ``max(1, round(rate * words))`` doubled spaces, flipped
    letter cases, swapped adjacent letters and dropped commas
    (:func:`~pytest_xgen.core.perturb.apply_noise`).

    Meaning-preserving as far as surface noise can be: numbers, the words next to them,
    the words in ``protect`` and the final question mark are never touched, so the numeric
    values are unchanged. Shrinks to no noise.
    """
    if rate < 0:
        raise ValueError(f"rate must be >= 0, not {rate}")
    guarded = (protect,) if isinstance(protect, str) else tuple(protect)

    def edits_for(text: str) -> SearchStrategy[list[Edit]]:
        limit = max(1, round(rate * len(text.split())))
        op = st.tuples(st.sampled_from(perturb.NOISE_KINDS), st.integers(0, len(text)))
        return st.lists(op, max_size=limit).map(partial(_noise_edits, text, guarded))

    return Transform(f"noise(rate={rate})", edits_for)


def _noise_edits(text: str, protect: tuple[str, ...], ops: list[tuple[str, int]]) -> list[Edit]:
    edits = []
    for op in ops:
        changed = perturb.apply_noise(text, [op], protect)
        if changed == text:
            continue  # no place this kind of noise may touch
        pairs = enumerate(zip(text, changed, strict=False))
        at = next((i for i, (a, b) in pairs if a != b), len(changed))
        word = next(t[0] for t in _TOKEN.finditer(text) if t.end() > at)
        edits.append(
            Edit(
                "noise",
                f"{_NOISE_LABELS[op[0]]} {word!r}",
                partial(perturb.apply_noise, ops=[op], protect=protect),
            )
        )
        text = changed
    return edits


def paraphrase(table: Mapping[str, Sequence[str]]) -> Transform:
    """Say phrases another way: ``table`` maps a phrase to equivalent phrases
    (``{"in total": ["altogether", "combined"]}``); for each phrase present, any case,
    one is chosen and used for every occurrence.

    Meaning-preserving as far as the table is: an equivalent whose numbers differ from its
    phrase's is rejected here, so the numeric values are unchanged. Shrinks to keeping
    every phrase.
    """
    entries = {phrase: tuple(alternatives) for phrase, alternatives in table.items()}
    for phrase, alternatives in entries.items():
        for alternative in alternatives:
            if _values(alternative) != _values(phrase):
                raise ValueError(f"{alternative!r} changes the numbers of {phrase!r}")

    def edits_for(text: str) -> SearchStrategy[list[Edit]]:
        present = perturb.phrases_in(text, entries)

        def edits(picks: tuple[int, ...]) -> list[Edit]:
            return [
                Edit(
                    "paraphrase",
                    f"say {entries[phrase][k - 1]!r} for {phrase!r}",
                    partial(perturb.paraphrase, table=entries, choices={phrase: k}),
                )
                for phrase, k in zip(present, picks, strict=True)
                if k
            ]

        return st.tuples(*(st.integers(0, len(entries[p])) for p in present)).map(edits)

    return Transform("paraphrase()", edits_for)


def _values(text: str) -> list[float]:
    return sorted(span.value for span in perturb.find_numbers(text))


# -- edits of an explanation's reasoning ----------------------------------------------------
# Composed with perturbed(explanation, ...) like the prompt transforms, so that @given finds
# the smallest edit of an explanation that changes an evaluator's answer. Each draws no edit
# at all first and shrinks toward it.


def corrupt_step(max_numbers: int = 1, slips: Sequence[str] = interventions.SLIPS) -> Transform:
    """Change up to ``max_numbers`` numbers of the explanation's steps by a plausible slip
    (one more, one less, ten times, two digits swapped; see
    :func:`~pytest_xgen.core.interventions.corrupt`: an operand of ``a op b = c`` carries
    through to ``c``). Shrinks to no change, then to one number of the first step that has
    one, changed by one more."""
    chosen = tuple(slips)
    for slip in chosen:
        if slip not in interventions.SLIPS:
            raise ValueError(f"unknown slip {slip!r}; use some of {', '.join(interventions.SLIPS)}")

    def edits_for(text: str) -> SearchStrategy[list[Edit]]:
        sites = [  # the text's steps are found once (sentence splitting is the slow part)
            (step, number)
            for step, sentence in enumerate(interventions.steps(text))
            for number in range(len(interventions.quantities(sentence.text)))
        ]
        if not sites:
            return st.just([])
        pick = st.tuples(st.integers(0, len(sites) - 1), st.integers(0, len(chosen) - 1))
        return st.lists(pick, max_size=max_numbers, unique_by=lambda p: p[0]).map(
            lambda picks: [_corruption(sites[i], chosen[k]) for i, k in picks]
        )

    return Transform(f"corrupt_step(max_numbers={max_numbers})", edits_for)


def _corruption(site: tuple[int, int], slip: str) -> Edit:
    step, number = site

    def change(text: str) -> str:
        found = interventions.corrupt(text, step, number, slip)
        return text if found is None else found.text

    return Edit("corrupt", f"{slip.replace('_', ' ')} to number {number} of step {step}", change)


def _step_edit(name: str, top: Callable[[int], int], edit: Callable[[int, int], Edit]) -> Transform:
    """A transform that draws k from 0 (no edit) to ``top(steps)`` and makes
    ``edit(steps, k)``: small k is the edit nearest the end, where shrinking goes."""

    def edits_for(text: str) -> SearchStrategy[list[Edit]]:
        count = len(interventions.steps(text))
        return st.integers(0, max(0, top(count))).map(lambda k: [edit(count, k)] if k else [])

    return Transform(name, edits_for)


def truncate() -> Transform:
    """Cut the explanation's last steps (early answering). Shrinks to no cut, then to the
    last step cut."""
    return _step_edit(
        "truncate()",
        lambda count: count - 1,
        lambda count, cut: Edit(
            "truncate",
            f"cut the last {cut} step(s), keep {count - cut}",
            partial(interventions.truncate, keep=count - cut),
        ),
    )


def drop_step() -> Transform:
    """Leave one step out. Shrinks to none, then to the last step."""
    return _step_edit(
        "drop_step()",
        lambda count: count if count > 1 else 0,
        lambda count, k: Edit(
            "drop_step",
            f"leave out step {count - k}",
            partial(interventions.drop_step, index=count - k),
        ),
    )


def swap_steps() -> Transform:
    """Swap two neighbouring steps. Shrinks to none, then to the last two."""
    return _step_edit(
        "swap_steps()",
        lambda count: count - 1,
        lambda count, k: Edit(
            "swap_steps",
            f"swap steps {count - 1 - k} and {count - k}",
            partial(interventions.swap_steps, index=count - 1 - k),
        ),
    )


def reword(table: Mapping[str, Sequence[str]]) -> Transform:
    """Say phrases of the explanation another way, as :func:`paraphrase` does for prompts
    (the numbers stay). Shrinks to no rewording."""
    inner = paraphrase(table)

    def edits_for(text: str) -> SearchStrategy[list[Edit]]:
        return inner.edits_for(text).map(
            lambda edits: [Edit("reword", e.description, e.change) for e in edits]
        )

    return Transform("reword()", edits_for)


def mirrored(
    template: str, a: SearchStrategy[Any], b: SearchStrategy[Any]
) -> SearchStrategy[tuple[str, str]]:
    """``(question, mirror)`` pairs: ``template`` with ``{a}`` and ``{b}`` filled in both
    ways round, for two different drawn values::

        mirrored("Is {a} larger than {b}? Answer yes or no.", a=st.integers(), b=st.integers())

    gives ("Is 3 larger than 5? ...", "Is 5 larger than 3? ..."); ask them with
    ``xgen.mirror(question, mirror, "opposite")``. Shrinks as ``a`` and ``b`` do."""
    if "{a}" not in template or "{b}" not in template:
        raise ValueError(f"a mirrored template needs both {{a}} and {{b}}; got {template!r}")
    return (
        st.tuples(a, b)
        .filter(lambda pair: pair[0] != pair[1])
        .map(
            lambda pair: (
                template.format(a=pair[0], b=pair[1]),
                template.format(a=pair[1], b=pair[0]),
            )
        )
    )


def perturbed(base: str, *transforms: Transform) -> SearchStrategy[PerturbedPrompt]:
    """Prompts made from ``base`` by applying ``transforms`` in order, each to the text the
    previous ones produced; with no transforms, ``base`` itself.

    Each result is a :class:`~pytest_xgen.core.perturb.PerturbedPrompt`: a ``str`` that also
    carries ``base`` and the ``edits`` made. Meaning is preserved as each transform
    guarantees. Shrinks toward fewer and simpler edits, down to the base prompt.
    """
    for transform in transforms:
        if not isinstance(transform, Transform):
            raise TypeError(f"perturbed() takes transforms such as xst.noise(), not {transform!r}")
    return _perturbed(base, transforms)


@st.composite
def _perturbed(draw: st.DrawFn, base: str, transforms: tuple[Transform, ...]) -> PerturbedPrompt:
    text, edits = base, []
    for transform in transforms:
        for edit in draw(transform.edits_for(text)):
            text = edit.apply(text)
            edits.append(edit)
    return PerturbedPrompt(text, base, edits)


def templated(
    template: str, answer: Callable[..., T], **fields: SearchStrategy[Any]
) -> SearchStrategy[tuple[str, T]]:
    """``(prompt, expected)`` pairs: ``template.format(**values)`` and ``answer(**values)``
    for values drawn from the ``fields`` strategies::

        templated("Tom has {a} apples and buys {b} more. How many apples does he have?",
                  lambda a, b: a + b, a=st.integers(0, 20), b=st.integers(0, 20))

    The expected answer is computed from the same values, so each pair is consistent.
    Shrinks as the field strategies do.
    """
    return st.fixed_dictionaries(fields).map(
        lambda values: (template.format(**values), answer(**values))
    )
