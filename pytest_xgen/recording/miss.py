"""Why a call has no recording: the closest recorded request and how this one differs.

A replay miss names the recording nearest to the call that missed (the same test and model
first, then the same model, then any call of the module) and shows a unified diff of the
two requests, field by field, so a changed prompt, a dropped parameter or another sample
index is seen at once. The diff is of request data only (never credentials, which are not
part of a request) and every line is escaped: a cassette is untrusted text.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

from pytest_xgen.core.printable import printable

# Lines of diff shown at most; the rest is counted.
MAX_LINES = 40
# Candidates compared in full after a quick ranking.
_SHORTLIST = 8


def _lines(request: dict[str, Any]) -> list[str]:
    """A request as diffable lines: one field per line, message texts split on newlines."""
    out = []
    for field in sorted(request):
        value = request[field]
        if field == "messages" and isinstance(value, list):
            for number, message in enumerate(value):
                if not isinstance(message, dict):
                    out.append(f"messages[{number}]: {json.dumps(message, sort_keys=True)}")
                    continue
                role = message.get("role")
                for key in sorted(k for k in message if k != "content"):
                    if key != "role":
                        out.append(f"messages[{number}].{key}: {json.dumps(message[key])}")
                content = message.get("content")
                if isinstance(content, str):
                    for line in content.split("\n"):
                        out.append(f"messages[{number}] {role}: {line}")
                else:
                    out.append(f"messages[{number}] {role}: {json.dumps(content)}")
        elif field == "prompt" and isinstance(value, str):
            out += [f"prompt: {line}" for line in value.split("\n")]
        elif isinstance(value, dict):
            out += [f"{field}.{k}: {json.dumps(value[k], sort_keys=True)}" for k in sorted(value)]
        else:
            out.append(f"{field}: {json.dumps(value, sort_keys=True)}")
    return [printable(line) for line in out]


def closest(
    request: dict[str, Any], entries: Iterable[dict[str, Any]], test: str
) -> dict[str, Any] | None:
    """The recorded entry nearest to ``request``: of the same test and endpoint if any, else
    the same endpoint, else any; nearest by the similarity of their requests' text."""
    pool = [e for e in entries if isinstance(e.get("request"), dict)]
    endpoint = request.get("endpoint")
    tiers = (
        [e for e in pool if e.get("test") == test and e["request"].get("endpoint") == endpoint],
        [e for e in pool if e["request"].get("endpoint") == endpoint],
        pool,
    )
    candidates = next((tier for tier in tiers if tier), None)
    if candidates is None:
        return None
    # (The separator and autojunk only shade the similarity ranking: no test tells them apart.)
    mine = "\n".join(_lines(request))  # pragma: no mutate

    def matcher(entry: dict[str, Any]) -> difflib.SequenceMatcher[str]:
        theirs = "\n".join(_lines(entry["request"]))  # pragma: no mutate
        return difflib.SequenceMatcher(None, mine, theirs, autojunk=False)  # pragma: no mutate

    shortlist = sorted(candidates, key=lambda e: -matcher(e).quick_ratio())[:_SHORTLIST]
    return max(shortlist, key=lambda e: (matcher(e).ratio(), -shortlist.index(e)))


def describe(request: dict[str, Any], entry: dict[str, Any], test: str, where: str) -> str:
    """What to append to a miss: which recording is closest, and the diff from it."""
    recorded = entry["request"]
    whose = "this test" if entry.get("test") == test else f"test {entry.get('test', '?')}"
    same_model = recorded.get("endpoint") == request.get("endpoint")
    model = "this model" if same_model else f"endpoint {json.dumps(recorded.get('endpoint'))}"
    differs = sorted(
        field for field in set(recorded) | set(request) if recorded.get(field) != request.get(field)
    )
    diff = list(
        difflib.unified_diff(
            _lines(recorded), _lines(request), "recorded", "this call", n=1, lineterm=""
        )
    )
    shown = diff[:MAX_LINES]
    if len(diff) > MAX_LINES:
        shown.append(f"... {len(diff) - MAX_LINES} more line(s)")
    body = "\n".join(f"    {line}" for line in shown)
    return (
        f"\nThe closest recording ({whose}, {model}, in {where}) differs in "
        f"{', '.join(differs) or 'nothing but its key'}:\n{body}"
    )
