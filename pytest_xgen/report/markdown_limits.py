"""The size limits of the Markdown summary, apart from its renderer so that the ``xgen``
commands can read ``--markdown-limit`` without importing it.

GitHub holds 65,536 characters in a comment and 1 MiB in a job summary (per step). The
summary is measured in UTF-8 bytes, never fewer than the characters GitHub counts, so a
limit in bytes holds for either.
"""

from __future__ import annotations

import argparse

COMMENT_LIMIT = 65_536
JOB_SUMMARY_LIMIT = 1_048_576
# The smallest limit (below it a summary would say little but that it was cut).
MIN_LIMIT = 1_024

LIMIT_HELP = (
    f"the most bytes of the Markdown summary (default {COMMENT_LIMIT}, a GitHub comment; "
    f"{JOB_SUMMARY_LIMIT} fits a job summary); past it long lists are cut with a note"
)


def limit_argument(value: str) -> int:
    """``--markdown-limit BYTES`` of the ``xgen`` commands: a whole number of at least
    :data:`MIN_LIMIT`, else an ``argparse`` error saying so."""
    try:
        limit = int(value)
    except ValueError:
        limit = -1
    if limit < MIN_LIMIT:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of bytes of at least {MIN_LIMIT}; got {value!r}"
        )
    return limit
