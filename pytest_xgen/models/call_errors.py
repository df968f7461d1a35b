"""What every hosted backend says when a call goes wrong, and how it reads its key.

The hosted backends (an OpenAI-compatible endpoint, the Anthropic Messages API) reach
different SDKs with different exception classes, but a user reads one kind of message for
each fault: the endpoint named (without credentials), what happened, how many retries were
made, and what to do. The texts here are those of the OpenAI-compatible path
(:mod:`pytest_xgen.models.openai_chat`), so that a fault reads the same whatever the API.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import TypeVar
from urllib.parse import urlsplit

from pytest_xgen.core import finite
from pytest_xgen.errors import ModelCallError, XgenConfigError, hide_frame
from pytest_xgen.models.redaction import MIN_LENGTH, redact, remember

__tracebackhide__ = hide_frame

_R = TypeVar("_R")
_FIRST_BACKOFF = 0.5
_MAX_BACKOFF = 8.0


class MalformedResponse(Exception):
    """The endpoint answered, but not with a usable answer (retried, then reported)."""


@contextlib.contextmanager
def malformed_on_error() -> Iterator[None]:
    """Reading an answer: a missing or mistyped part of it is a :class:`MalformedResponse`."""
    try:
        yield
    except (MalformedResponse, finite.NumberError, ModelCallError):
        raise
    except (AttributeError, TypeError, IndexError, KeyError, ValueError) as exc:
        raise MalformedResponse(f"{type(exc).__name__}: {short(str(exc))}") from None


def endpoint_identity(base_url: str) -> str:
    """``host[:port]/path`` of ``base_url`` with scheme, credentials and query removed."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{host}{parts.path.rstrip('/')}"


def redact_url(base_url: str) -> str:
    """``base_url`` safe to print: user info and query string dropped."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{endpoint_identity(base_url)}" if parts.scheme else base_url


def check_base_url(model: str, base_url: str) -> None:
    """A ``base_url`` with credentials or a query string is a clear
    :class:`XgenConfigError`: either would be echoed in errors (and credentials would
    replace the key)."""
    parts = urlsplit(base_url)
    if parts.username is not None or parts.password is not None:
        raise XgenConfigError(
            f"model {model!r}: base_url {redact_url(base_url)} carries credentials "
            "(user:password@); they would replace the API key and be echoed in errors. "
            "Put the key in an environment variable named by api_key_env"
        )
    if parts.query or parts.fragment:
        raise XgenConfigError(
            f"model {model!r}: base_url {redact_url(base_url)} has a query string or "
            "fragment, which the client would join into every request path (and echo in "
            "errors); give the endpoint without it, and the key through api_key_env"
        )


def read_secret(model: str, env: str) -> str:
    """The value of the environment variable ``env`` holding a key or header of ``model``,
    remembered for redaction; a missing value, or one an HTTP header cannot carry, is a
    clear :class:`XgenConfigError` that never shows the value."""
    value = os.environ.get(env)
    if not value:
        raise XgenConfigError(
            f"model {model!r}: the environment variable {env} is not set; "
            f"export {env}=<your key> (or replay the recording with "
            "--xgen-record-mode=none)"
        )
    if value != value.strip() or not value.isascii() or not value.isprintable():
        problem = (
            "begins or ends with whitespace (a trailing newline?)"
            if value != value.strip()
            else "has characters an HTTP header cannot carry (non-ASCII or control)"
        )
        raise XgenConfigError(
            f"model {model!r}: the key in {env} {problem}; set the variable to the key alone"
        )
    if len(value) >= MIN_LENGTH:  # a placeholder ("EMPTY") is no secret
        remember([value], declared=True)
    return value


def short(text: str, limit: int = 200) -> str:
    """``text`` on one line and at most ``limit`` characters, every value that may be
    secret removed first (cut first, half a key would be left)."""
    text = " ".join(redact(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def cause(exc: BaseException) -> str:
    """The short text of what lies under ``exc`` (a connection error's socket error)."""
    under = exc.__cause__ or exc.__context__
    return short(str(under) if under else str(exc))


def timed_out(where: str, timeout: float, retries: int) -> str:
    return (
        f"{where} did not answer within {timeout:g}s after {retries} retries; "
        "raise --xgen-timeout or check that the server is up"
    )


def unreachable(where: str, retries: int, why: str) -> str:
    return (
        f"{where} is unreachable after {retries} retries ({why}); check base_url and that "
        "the server is running, or replay with --xgen-record-mode=none"
    )


def rate_limited(where: str, retries: int, status: int = 429, what: str = "rate limiting") -> str:
    return (
        f"{where} is {what} (HTTP {status}) after {retries} retries; raise "
        "--xgen-max-retries, lower the concurrency, or try again later"
    )


def rejected_credentials(where: str, env: str | None) -> str:
    return f"{where} rejected the credentials (HTTP 401); check the key in {env or 'api_key_env'}"


def answered(where: str, status: int, retries: int, detail: str) -> str:
    return (
        f"{where} answered HTTP {status} after {retries} retries: {short(detail)}; "
        "check the model name and parameters, or the endpoint's status"
    )


def retrying(
    call: Callable[[], _R], where: str, max_retries: int, clean: Callable[[str], str]
) -> _R:
    """``call()``, again after a :class:`MalformedResponse` (a cut-off body or stream, an
    answer without its parts: as transient as a 503, and the SDKs retry only HTTP and
    connection errors), up to ``max_retries`` times; then, and at once for an impossible
    number, a :class:`ModelCallError` naming ``where``. ``clean`` redacts the message."""
    for attempt in range(max_retries + 1):
        try:
            return call()
        except MalformedResponse as exc:
            if attempt == max_retries:
                raise ModelCallError(
                    clean(
                        f"{where} sent a malformed response ({exc}) after {max_retries} "
                        "retries; nothing was recorded. Check the endpoint and its logs"
                    )
                ) from None
            time.sleep(min(_MAX_BACKOFF, _FIRST_BACKOFF * 2**attempt))
        except finite.NumberError as exc:
            # Not retried: an endpoint that counts tokens wrong does it every time.
            raise ModelCallError(
                clean(
                    f"{where} answered with a number no answer can have: {exc}; nothing was "
                    "recorded. Check the endpoint (or a proxy in front of it) and its logs"
                )
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover
