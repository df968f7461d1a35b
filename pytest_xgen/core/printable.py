"""Model text and recorded strings made safe to print: control characters escaped.

Model output and cassettes are untrusted. A terminal escape sequence in an explanation
(``\\x1b]0;title\\x07``, ``\\x1b[5m``) would otherwise retitle or repaint the reader's
terminal, and bidirectional controls (U+202E) would reorder what is shown. Every such
character is written as its Python escape instead; newlines are kept where asked.
"""

from __future__ import annotations

import math
import unicodedata


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` with control and format characters (Unicode categories Cc, Cf, Cs, Co, Cn,
    Zl, Zp) escaped as ``\\xNN`` / ``\\uNNNN``; with ``newlines``, ``\\n`` is kept."""
    if text.isprintable():  # no control, format or separator character but the space
        return text
    out = []
    for char in text:
        if (char == "\n" and newlines) or unicodedata.category(char) not in _UNSAFE:
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))  # pragma: no mutate
    return "".join(out)


_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def rate(value: float | None, missing: str = "n/a") -> str:
    """A rate or a level as every message and report shows it: two decimals (``0.80``),
    or ``missing`` where there is none (no pairs, no expected answer)."""
    return missing if value is None else f"{value:.2f}"


def signed(value: float | None, missing: str = "n/a") -> str:
    """A difference (a lift, a change) with its sign: ``+0.20``, ``-0.05``."""
    return missing if value is None else f"{value:+.2f}"


def money(amount: float) -> str:
    """A cost as the terminal and reports show it: 0, four significant digits below 1 (in
    plain decimals), else two decimals."""
    if amount == 0:
        return "0"
    if amount >= 1:
        return f"{amount:.2f}"
    digits = 3 - math.floor(math.log10(amount))
    return f"{amount:.{digits}f}".rstrip("0").rstrip(".")


# The parts of a run's tokens that summaries name where not zero, and their words.
TOKEN_PARTS = (
    ("reasoning_tokens", "reasoning"),
    ("cache_read_tokens", "cache read"),
    ("cache_write_tokens", "cache write"),
)


def tokens_of_which(counts: dict[str, object], prefix: str = "") -> str:
    """``of which R reasoning, C cache read, W cache write`` for the parts of a run's
    tokens (``prefix`` + name in ``counts``: ``replayed_`` for the replayed calls') that are
    not zero, or ``""``."""
    parts = [
        f"{counts[prefix + name]} {word}" for name, word in TOKEN_PARTS if counts.get(prefix + name)
    ]
    return f"of which {', '.join(parts)}" if parts else ""
