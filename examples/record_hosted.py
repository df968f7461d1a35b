"""Record ``examples/test_hosted_demo.py`` anew against the fake hosted-API servers.

``python -m examples.record_hosted`` starts the Anthropic Messages fake
(``tests/anthropic_server.py``) on 127.0.0.1:8751 and the OpenAI-compatible fake with its
Responses API (``tests/server.py``) on 127.0.0.1:8752, the ports the ``claude-fake`` and
``responses-fake`` tables of ``pyproject.toml`` name, and runs the demo with
``--xgen-record-mode=all``. The embedded Qwen evaluator is called live too (the ``local``
extra). The servers accept any key; placeholder keys are set for the run.
"""

from __future__ import annotations

import os
import sys

import pytest

from tests.anthropic_server import AnthropicServer
from tests.server import OpenAIServer

ANTHROPIC_PORT, RESPONSES_PORT = 8751, 8752


def main() -> int:
    os.environ.setdefault("ANTHROPIC_API_KEY", "placeholder-anthropic-key")
    with (
        AnthropicServer(answers="noisy", port=ANTHROPIC_PORT),
        OpenAIServer(answers="noisy", port=RESPONSES_PORT),
    ):
        return int(
            pytest.main(
                [
                    "examples/test_hosted_demo.py",
                    "--xgen-record-mode=all",
                    *("-p", "no:randomly"),
                    # The servers' module imported the package before pytest could.
                    *("-W", "ignore::pytest.PytestAssertRewriteWarning"),
                ]
                + sys.argv[1:]
            )
        )


if __name__ == "__main__":
    sys.exit(main())
