"""pytest-xgen: reasoning regression tests for language models.

Everything a test suite uses is importable from here (``from pytest_xgen import Xgen,
TransferResult, AnswerSpec``); the sub-packages are the implementation and may change.

Importing this package is cheap: each name loads its module (and with it the ``openai``
client, ``diskcache``, Hypothesis or llama.cpp) only when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

# name -> the module that defines it
_LAZY = {
    # the fixture and the models a test sees
    "Xgen": "pytest_xgen.fixture",
    "RecordedModel": "pytest_xgen.recording.model",
    "Patched": "pytest_xgen.recording.patch",
    "RecordedClient": "pytest_xgen.recording.client",
    "AsyncRecordedClient": "pytest_xgen.recording.client",
    "RecordedAnthropic": "pytest_xgen.recording.anthropic_client",
    "AsyncRecordedAnthropic": "pytest_xgen.recording.anthropic_client",
    "Prompts": "pytest_xgen.core.prompts",
    "ChatModel": "pytest_xgen.models.base",
    "ChatResult": "pytest_xgen.models.base",
    "CompletionResult": "pytest_xgen.models.base",
    "Usage": "pytest_xgen.models.base",
    # results of the checks
    "TransferResult": "pytest_xgen.checks.transfer_report",
    "Condition": "pytest_xgen.checks.conditions",
    "Explanation": "pytest_xgen.checks.conditions",
    "InvariantResult": "pytest_xgen.checks.invariance",
    "Interventions": "pytest_xgen.checks.interventions",
    "Intervention": "pytest_xgen.checks.interventions",
    "MirrorResult": "pytest_xgen.checks.mirror",
    "ReviewResult": "pytest_xgen.checks.review",
    "StepReview": "pytest_xgen.checks.review",
    "EnsembleExplanation": "pytest_xgen.checks.ensemble",
    "WeakSteps": "pytest_xgen.checks.weak",
    "SentenceScore": "pytest_xgen.checks.weak",
    "Repair": "pytest_xgen.checks.weak",
    "AnswerPosition": "pytest_xgen.checks.answer_position",
    # writing a check kind of your own (the pytest_xgen_check_kinds hook)
    "CheckKind": "pytest_xgen.checks.kinds",
    "CheckContext": "pytest_xgen.checks.context",
    "Ran": "pytest_xgen.checks.context",
    # answers and metrics
    "AnswerSpec": "pytest_xgen.core.answers",
    "answer_spec": "pytest_xgen.core.answers",
    "extract_answer": "pytest_xgen.core.answers",
    "Consistency": "pytest_xgen.core.metrics",
    "PairAgreement": "pytest_xgen.core.metrics",
    "Breakdown": "pytest_xgen.core.metrics",
    "pairwise_consistency": "pytest_xgen.core.metrics",
    "agreement_with": "pytest_xgen.core.metrics",
    "breakdown": "pytest_xgen.core.metrics",
    "accuracy": "pytest_xgen.core.metrics",
    "sample_agreement": "pytest_xgen.core.metrics",
    # perturbations
    "PerturbedPrompt": "pytest_xgen.core.perturb",
    "Edit": "pytest_xgen.core.perturb",
    "Transform": "pytest_xgen.strategies",
    # errors
    "XgenError": "pytest_xgen.errors",
    "XgenConfigError": "pytest_xgen.errors",
    "XgenInfraError": "pytest_xgen.errors",
    "ModelCallError": "pytest_xgen.errors",
    "RecordingMissError": "pytest_xgen.errors",
    "CassetteError": "pytest_xgen.errors",
    "StoreError": "pytest_xgen.errors",
    "BudgetExhaustedError": "pytest_xgen.errors",
    "LocalModelError": "pytest_xgen.errors",
    "TransferFailed": "pytest_xgen.errors",
}

__all__ = [
    "AnswerPosition",
    "AnswerSpec",
    "Breakdown",
    "BudgetExhaustedError",
    "CassetteError",
    "ChatModel",
    "ChatResult",
    "CheckContext",
    "CheckKind",
    "CompletionResult",
    "Condition",
    "Consistency",
    "Edit",
    "EnsembleExplanation",
    "Explanation",
    "Intervention",
    "Interventions",
    "InvariantResult",
    "LocalModelError",
    "MirrorResult",
    "ModelCallError",
    "PairAgreement",
    "Patched",
    "PerturbedPrompt",
    "Ran",
    "RecordedModel",
    "RecordedClient",
    "AsyncRecordedClient",
    "RecordedAnthropic",
    "AsyncRecordedAnthropic",
    "Prompts",
    "RecordingMissError",
    "Repair",
    "ReviewResult",
    "SentenceScore",
    "StepReview",
    "StoreError",
    "TransferFailed",
    "TransferResult",
    "Transform",
    "Usage",
    "WeakSteps",
    "Xgen",
    "XgenConfigError",
    "XgenError",
    "XgenInfraError",
    "accuracy",
    "agreement_with",
    "answer_spec",
    "breakdown",
    "extract_answer",
    "pairwise_consistency",
    "sample_agreement",
    "__version__",
]

if TYPE_CHECKING:
    from pytest_xgen.checks.answer_position import AnswerPosition
    from pytest_xgen.checks.conditions import Condition, Explanation
    from pytest_xgen.checks.context import CheckContext, Ran
    from pytest_xgen.checks.ensemble import EnsembleExplanation
    from pytest_xgen.checks.interventions import Intervention, Interventions
    from pytest_xgen.checks.invariance import InvariantResult
    from pytest_xgen.checks.kinds import CheckKind
    from pytest_xgen.checks.mirror import MirrorResult
    from pytest_xgen.checks.review import ReviewResult, StepReview
    from pytest_xgen.checks.transfer_report import TransferResult
    from pytest_xgen.checks.weak import Repair, SentenceScore, WeakSteps
    from pytest_xgen.core.answers import AnswerSpec, answer_spec, extract_answer
    from pytest_xgen.core.metrics import (
        Breakdown,
        Consistency,
        PairAgreement,
        accuracy,
        agreement_with,
        breakdown,
        pairwise_consistency,
        sample_agreement,
    )
    from pytest_xgen.core.perturb import Edit, PerturbedPrompt
    from pytest_xgen.core.prompts import Prompts
    from pytest_xgen.errors import (
        BudgetExhaustedError,
        CassetteError,
        LocalModelError,
        ModelCallError,
        RecordingMissError,
        StoreError,
        TransferFailed,
        XgenConfigError,
        XgenError,
        XgenInfraError,
    )
    from pytest_xgen.fixture import Xgen
    from pytest_xgen.models.base import ChatModel, ChatResult, CompletionResult, Usage
    from pytest_xgen.recording.anthropic_client import AsyncRecordedAnthropic, RecordedAnthropic
    from pytest_xgen.recording.client import AsyncRecordedClient, RecordedClient
    from pytest_xgen.recording.model import RecordedModel
    from pytest_xgen.recording.patch import Patched
    from pytest_xgen.strategies import Transform


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_xgen' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
