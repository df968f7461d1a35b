"""Values the plugin sends that may be secret, kept out of every message it shows.

An endpoint may echo a request in an error (some gateways return it whole on a 400), and
the HTTP client logs each URL with its query. So every value that may be secret is
remembered as it is sent: the API key and the ``headers_env`` headers, the ``secret_params``
of a call, and the header and query values the application passes (``extra_headers``,
``extra_query``, ``with_options(default_headers=..., default_query=...)``). :func:`redact`
replaces each with ``***``; it runs on the plugin's error messages, on the records of the
``openai`` and HTTP clients' loggers (:func:`guard_logs`) and on every test report
(:func:`scrub_report`: failure text, ``-l`` locals, captured output and logs, so the
terminal and the JUnit XML).

The values are held in this process only, for the length of the run, and never written.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"

MIN_LENGTH = 8
"""A value the application passes (a header, a query value) shorter than this is not taken
for a secret: a placeholder (``EMPTY``), a content type or a region would only garble the
messages it were removed from, and a real key is longer."""

MIN_DECLARED = 4
"""The shortest ``secret_params`` value that is redacted: those are declared secret."""

# The loggers that may print a request: the openai and anthropic clients' (request
# options, retries) and the HTTP client's (each URL, query included, at INFO).
_LOGGERS = (
    "openai",
    "openai._base_client",
    "openai._response",
    "openai._legacy_response",
    "anthropic",
    "anthropic._base_client",
    "httpx",
    "httpx2",
)


def _longest_first(value: str) -> tuple[int, str]:
    return (-len(value), value)


_PREFIX = MIN_DECLARED  # every value is at least this long
_FEW = 64  # up to this many values, a scan per value is quicker than the index


class _Sent:
    """The set of remembered values. :meth:`redact` replaces the longest first (a value
    inside another is replaced after it); with many values (an application that sends a
    fresh request id with every call) it finds them through an index of their first
    characters, in one pass over the text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._ordered: list[str] = []
        self._index: dict[str, list[str]] = {}

    def add(self, values: Iterable[str]) -> None:
        new = {v for v in values if len(v) >= _PREFIX} - self._values
        if not new:
            return
        with self._lock:
            # A reader keeps iterating the list it has: it is replaced, not changed. The
            # index's entries only grow (a reader that misses the newest value was
            # redacting before it was sent).
            ordered = list(self._ordered)
            for value in new - self._values:
                bisect.insort(ordered, value, key=_longest_first)
                self._index.setdefault(value[:_PREFIX], []).append(value)
            self._values |= new
            self._ordered = ordered

    def redact(self, text: str) -> str:
        ordered = self._ordered
        if len(ordered) <= _FEW:
            found: Iterable[str] = [value for value in ordered if value in text]
        else:
            index = self._index
            found = {
                value
                for at in range(len(text) - _PREFIX + 1)
                for value in index.get(text[at : at + _PREFIX], ())
                if text.startswith(value, at)
            }
            found = sorted(found, key=_longest_first)
        for value in found:
            text = text.replace(value, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._ordered)


_SENT = _Sent()


def leaves(value: Any) -> Iterator[str]:
    """The text of every string or number in a JSON-like ``value`` (a header's value, a
    secret parameter that is itself an object)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item)
    elif isinstance(value, str):
        yield value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def _forms(value: str) -> Iterator[str]:
    """``value`` and the forms an echo may show it in: escaped in JSON or in a Python
    ``repr`` (the ``openai`` client's error text), quoted in a URL."""
    yield value
    yield json.dumps(value)[1:-1]
    yield json.dumps(value, ensure_ascii=False)[1:-1]
    yield repr(value)[1:-1]
    yield quote(value, safe="")
    yield quote_plus(value, safe="")


def remember(values: Iterable[Any], *, declared: bool = False) -> None:
    """Redact every string and number in ``values`` from now on: those of at least
    :data:`MIN_LENGTH` characters, or :data:`MIN_DECLARED` when they are ``declared``
    secret (``secret_params``, a key)."""
    shortest = MIN_DECLARED if declared else MIN_LENGTH
    found = [text for value in values for text in leaves(value) if len(text) >= shortest]
    if found:
        _SENT.add(form for text in found for form in _forms(text))


def redact(text: str) -> str:
    """``text`` with every remembered value replaced by ``***``."""
    return _SENT.redact(text) if _SENT else text


class _RedactingFilter(logging.Filter):
    """Rewrites a log record whose message holds a remembered value."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _SENT:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = _RedactingFilter()


def guard_logs() -> None:
    """Redact the records of the loggers that may print a request (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def scrub_report(report: Any) -> None:
    """Remove remembered values from a test report: its failure text (tracebacks, ``-l``
    locals, messages) and its captured output and logs. A failure text that held one is
    kept as plain text; any other report is left as it was."""
    if not _SENT:
        return
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        report.longrepr = (longrepr[0], longrepr[1], redact(str(longrepr[2])))
    elif longrepr is not None:
        text = str(longrepr)
        clean = redact(text)
        if clean != text:
            report.longrepr = clean
    sections = getattr(report, "sections", None)
    if sections:
        report.sections = [(title, redact(content)) for title, content in sections]
