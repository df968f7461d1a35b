"""Values sent that may be secret are removed from messages, logs and reports, in every
form an echo may show them in."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from urllib.parse import quote_plus

import pytest

from pytest_xgen.models import redaction


def test_every_form_of_a_remembered_value_is_masked() -> None:
    value = 'tok "quoted" ünï/+=&'
    redaction.remember([{"X-Token": value}])
    for shown in (value, json.dumps(value), repr(value), quote_plus(value)):
        assert "tok" not in redaction.redact(f"echo: {shown} end"), shown
    assert redaction.redact("nothing sent here") == "nothing sent here"


def test_short_values_are_kept_unless_declared() -> None:
    redaction.remember(["eu-west", "EMPTY"])  # a region, a placeholder
    assert redaction.redact("eu-west EMPTY") == "eu-west EMPTY"
    redaction.remember([{"pin": 90413}], declared=True)
    assert redaction.redact("pin 90413") == "pin ***"


def test_a_longer_value_is_masked_before_one_it_contains() -> None:
    redaction.remember(["abcd-efgh-1234", "abcd-efgh-1234-5678"])
    assert redaction.redact("[abcd-efgh-1234-5678]") == "[***]"


def test_the_http_client_log_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    redaction.remember(["sig-7c1d22e9f0"])
    redaction.guard_logs()
    with caplog.at_level(logging.INFO, logger="httpx2"):
        logging.getLogger("httpx2").info("HTTP Request: %s %s", "POST", "/v1?sig=sig-7c1d22e9f0")
    assert caplog.messages == ["HTTP Request: POST /v1?sig=***"]


def test_a_report_is_scrubbed() -> None:
    redaction.remember(["rep-3b9e0f1a22"])
    report = SimpleNamespace(
        longrepr="E   ModelCallError: ... rep-3b9e0f1a22 ...",
        sections=[("Captured log call", "GET /v1?k=rep-3b9e0f1a22")],
    )
    redaction.scrub_report(report)
    assert report.longrepr == "E   ModelCallError: ... *** ..."
    assert report.sections == [("Captured log call", "GET /v1?k=***")]
    skipped = SimpleNamespace(longrepr=("f.py", 3, "Skipped: rep-3b9e0f1a22"), sections=[])
    redaction.scrub_report(skipped)
    assert skipped.longrepr == ("f.py", 3, "Skipped: ***")


def test_many_values_are_found_through_the_index() -> None:
    # An application that sends a fresh request id with every call.
    ids = [f"rid-{i:06d}-f00d" for i in range(500)]
    redaction.remember([{"X-Request-Id": value} for value in ids])
    redaction.remember(["rid-000007-f00d-and-more"])
    text = "a rid-000499-f00d b rid-000007-f00d-and-more c rid-000007-f00d d rid-9"
    assert redaction.redact(text) == "a *** b *** c *** d rid-9"
