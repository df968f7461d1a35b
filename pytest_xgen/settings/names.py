"""Messages about model names that are not configured, written once for every place that
meets one: the defaults at start-up, marker keywords, ``check()`` arguments and
``xgen.model()``. Each unknown name gets its closest configured name, or the configured
name that runs it when it is an embedded model's own name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_xgen.errors import did_you_mean

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def hint(name: str, models: Mapping[str, Mapping[str, Any]]) -> str:
    """`` (did you mean 'qwen'?)``, or ``""`` when nothing configured is close."""
    runs_it = [alias for alias, spec in sorted(models.items()) if spec.get("local") == name]
    if runs_it:
        return f" (did you mean {runs_it[0]!r}? it runs the embedded {name})"
    return did_you_mean(name, models)


def listing(names: Iterable[str], models: Mapping[str, Mapping[str, Any]]) -> str:
    """``model 'qwne' (did you mean 'qwen'?)`` or ``models 'a' (...), 'b'``."""
    names = list(dict.fromkeys(names))
    shown = ", ".join(f"{name!r}{hint(name, models)}" for name in names)
    return f"model{'s' if len(names) > 1 else ''} {shown}"


def configured(models: Mapping[str, Any], where: str | None = None) -> str:
    """``configured models: a, b``; with none, says that no xgen settings were found when
    ``where`` (the settings' source) tells none was."""
    if models:
        return "configured models: " + ", ".join(sorted(models))
    if where is None:
        return "configured models: none"
    return f"configured models: none ({where})"


def table(name: str) -> str:
    """The TOML table that defines model ``name`` (quoted when it is not a bare key)."""
    key = name if _BARE_KEY.fullmatch(name) else '"' + name.replace('"', '\\"') + '"'
    return f"[tool.xgen.models.{key}]"
