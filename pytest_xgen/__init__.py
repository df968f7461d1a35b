"""pytest-xgen: reasoning regression tests for language models.

Importing this package is cheap: the heavy parts (the ``openai`` client, ``diskcache``,
Hypothesis, llama.cpp) load only when a test first needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

__all__ = [
    "ChatModel",
    "ChatResult",
    "CompletionResult",
    "TransferFailed",
    "TransferResult",
    "XgenError",
    "__version__",
]

if TYPE_CHECKING:
    from pytest_xgen.errors import TransferFailed, XgenError
    from pytest_xgen.models.base import ChatModel, ChatResult, CompletionResult
    from pytest_xgen.transfer import TransferResult

_LAZY = {
    "ChatModel": "pytest_xgen.models.base",
    "ChatResult": "pytest_xgen.models.base",
    "CompletionResult": "pytest_xgen.models.base",
    "XgenError": "pytest_xgen.errors",
    "TransferFailed": "pytest_xgen.errors",
    "TransferResult": "pytest_xgen.transfer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_xgen' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
