"""The ``secret_params`` of a model: sent with each call, recorded as ``"<secret>"``."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from pytest_xgen.models.redaction import remember

SECRET = "<secret>"
"""What a ``secret_params`` value is recorded as."""


def masked(params: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """``params`` as recorded (key, store, cassette): the value at each dotted path of
    ``paths`` that is present becomes :data:`SECRET`, so a change of a secret's value does
    not change the key. ``params`` itself is left whole (the call gets the real values);
    each masked value is remembered, so it is kept out of every message should the
    endpoint echo it."""
    if not paths:
        return params
    recorded = copy.deepcopy(params)
    for path in paths:
        node: Any = recorded
        *parents, last = path.split(".")
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and last in node:
            remember([node[last]], declared=True)
            node[last] = SECRET
    return recorded
