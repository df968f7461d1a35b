"""The managed server's entry point: ``llama_cpp.server`` with fast top log-probabilities.

For every token of a completion with ``logprobs`` (and of the whole prompt with ``echo``),
llama-cpp-python sorts the entire vocabulary in Python to find the top alternatives:
``sorted(zip(logprobs_token, range(n_vocab)), reverse=True)``, of which it keeps the first
``logprobs``. With Gemma's 262,144-token vocabulary that is most of a second per token, so
scoring a 70-token text took 109 s instead of 5 s. Inside ``llama_cpp.llama`` only, this
module gives ``zip`` and ``sorted`` a fast path for exactly that shape (a 1-D array zipped
with ``range(len(array))``, sorted descending): it returns the top 100 pairs in the same
order the full sort gives (value, then index, descending). Every other call goes to the
built-ins unchanged. Run as ``python -m pytest_xgen.models.llama_server --config_file F``.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

TOP = 100  # more than any API allows for logprobs / top_logprobs (5 and 20)


class _Vocabulary:
    """``zip(values, range(len(values)))``, not yet expanded."""

    __slots__ = ("values",)

    def __init__(self, values: Any) -> None:
        self.values = values

    def __iter__(self) -> Any:
        return builtins.zip(self.values, range(len(self.values)), strict=True)


def fast_zip(*args: Any, **kwargs: Any) -> Any:
    import numpy as np

    if (
        len(args) == 2
        and not kwargs
        and isinstance(args[0], np.ndarray)
        and args[0].ndim == 1
        and args[1] == range(len(args[0]))
    ):
        return _Vocabulary(args[0])
    return builtins.zip(*args, **kwargs)  # noqa: B905 (the caller chose)


def fast_sorted(iterable: Iterable[Any], *, key: Any = None, reverse: bool = False) -> Any:
    if isinstance(iterable, _Vocabulary) and key is None and reverse:
        import numpy as np

        values = iterable.values
        k = min(TOP, len(values))
        top = np.argpartition(-values, k - 1)[:k]
        return builtins.sorted(((values[i], int(i)) for i in top), reverse=True)
    return builtins.sorted(iterable, key=key, reverse=reverse)


def patch() -> None:
    """Install the fast path in ``llama_cpp.llama``'s namespace (nowhere else)."""
    import llama_cpp.llama

    module: Any = llama_cpp.llama
    module.zip = fast_zip
    module.sorted = fast_sorted


def main() -> None:
    patch()
    from llama_cpp.server.__main__ import main as serve

    serve()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
