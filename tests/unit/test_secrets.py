"""A model's ``secret_params`` (pytest_xgen.recording.secrets): recorded as ``"<secret>"``,
sent as they are, and kept out of every message from then on."""

from __future__ import annotations

from pytest_xgen.models.redaction import redact
from pytest_xgen.recording.secrets import SECRET, masked


def test_a_short_declared_secret_is_redacted_once_masked() -> None:
    # Five characters: too short to be redacted unless declared secret.
    out = masked({"extra_body": {"pin": "w7x9q"}}, ("extra_body.pin",))
    assert out == {"extra_body": {"pin": SECRET}}
    assert redact("the server echoed w7x9q") == "the server echoed ***"


def test_a_path_through_a_value_that_is_not_an_object_masks_nothing() -> None:
    params = {"stop": ["a", "b"], "n": 2}
    assert masked(params, ("stop.0", "n.x", "stop.0.deeper")) == params
