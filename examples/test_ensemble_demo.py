"""Sentence-level ensembling on the embedded models: Qwen2.5-Coder-0.5B and SmolLM2-135M
propose each next sentence, Gemma-3-270M (a base model) scores them, and the least
surprising one is kept. Then: which sentence is weak, and can it be repaired?

The scorer's taste is visible in the report: a tiny base model finds repetitive, formulaic
sentences unsurprising, so the ensemble sometimes keeps a fluent wrong step. That is what
``weak_steps`` is for. To see every candidate with its score::

    make demo ARGS="-k ensemble --xgen-html=ensemble.html"
"""

from __future__ import annotations

import pytest

from examples import problems as p
from pytest_xgen import TransferFailed

ENSEMBLE = {"generators": ["qwen", "smollm"], "scorer": "gemma", "candidates": 2}


@pytest.mark.transfers(**ENSEMBLE, max_sentences=5)
def test_each_kept_sentence_is_the_least_surprising_candidate(xgen):
    e = xgen.ensemble(p.CANDIES)
    assert e.selection == "nll"
    assert 1 <= len(e.sentences) <= 5
    for step in e.steps:
        scored = [c.score for c in step.candidates if c.eligible]
        assert step.score == min(scored)
        assert len(step.candidates) == 4  # 2 generators x 2 candidates, dropped ones included
    print(e.text)


@pytest.mark.xfail(
    raises=TransferFailed,
    strict=True,
    reason="with these small models the ensemble transfers worse than Qwen's own explanation "
    "(consistency 0.00 against 1.00): SmolLM2 does not follow it",
)
@pytest.mark.transfers(**ENSEMBLE, explanation="ensemble", max_sentences=5, min_consistency=0.5)
def test_candies_ensembled_explanation_transfers(xgen):
    # The ensemble measured with the same protocol as a single explanation; the failure
    # message shows its lift next to each generator's own. Read it with
    #     make demo ARGS="--runxfail -k ensembled"
    xgen.check(p.CANDIES, expected=8)


@pytest.mark.transfers(**ENSEMBLE, max_sentences=5)
def test_weak_step_of_the_ensemble_and_its_repair(xgen):
    e = xgen.ensemble(p.CANDIES)
    w = xgen.weak_steps(e, expected=8)
    print(w.explain())
    assert len(w.sentences) >= 1
    assert w.weakest is not None
    assert all(s.surprisal is not None and s.surprisal > 0 for s in w.sentences)
    r = xgen.repair(e, expected=8)
    print(r.explain())
    assert r.index == w.weakest
    # kept only if agreement did not drop
    assert r.kept == (r.agreement_after is not None and r.agreement_after >= r.agreement_before)
