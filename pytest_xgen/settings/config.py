"""Settings: ``[tool.xgen]`` / ``xgen.toml``, ini values and command line, merged.

Precedence, highest first: the ``--xgen-*`` command line, then ``xgen_*`` ini values
(``pytest.ini``, ``[tool.pytest.ini_options]``), then the xgen file (``xgen.toml`` if
present, else ``[tool.xgen]`` in ``pyproject.toml``), then the built-in defaults. Marker
keywords, where a later feature reads them, sit below all of these as per-test defaults.
"""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pytest_xgen.core import finite, prompts, schema_check
from pytest_xgen.errors import XgenConfigError
from pytest_xgen.settings import names
from pytest_xgen.settings.options import SETTINGS, Setting


def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``pytest_xgen/schemas``."""
    text = (
        resources.files("pytest_xgen")
        .joinpath("schemas")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass(frozen=True)
class Source:
    """Where the xgen file settings came from, for messages."""

    path: Path | None
    table: str  # "[tool.xgen]" or "" for xgen.toml

    def describe(self) -> str:
        if self.path is None:
            return self.table or "(no xgen file)"
        return f"{self.path.name} {self.table}".strip()


def find_file(rootpath: Path, explicit: str | None = None) -> tuple[dict[str, Any], Source]:
    """The raw xgen settings and their source: an explicit file, ``xgen.toml`` or
    ``[tool.xgen]`` of ``pyproject.toml`` in the rootdir (first found wins)."""
    if explicit:
        path = Path(explicit)
        if not path.is_absolute():
            path = rootpath / path
        if not path.is_file():
            raise XgenConfigError(f"--xgen-config: no such file {path}")
        candidates = [path]
    else:
        candidates = [rootpath / "xgen.toml", rootpath / "pyproject.toml"]
    for path in candidates:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if path.name == "pyproject.toml" and "xgen" not in text:
            continue  # no [tool.xgen]: not worth parsing (a suite that does not use xgen)
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise XgenConfigError(f"{path}: not valid TOML: {exc}") from None
        if path.name == "pyproject.toml":
            section = data.get("tool", {}).get("xgen")
            if section is None:
                continue
            return section, Source(path, "[tool.xgen]")
        return data, Source(path, "")
    return {}, Source(None, "")


def validate(data: dict[str, Any], source: Source) -> None:
    """Check ``data`` against ``config.schema.json``; the error names the file, the key
    path and the allowed values."""
    if not data:
        return  # nothing to check, and jsonschema stays unimported for suites without xgen
    unfinite = _unfinite(data)
    check = _config_check()
    if not unfinite and check is not None and schema_check.accepts(check, data):
        return  # exactly what jsonschema accepts, without importing it (~0.2 s)
    import jsonschema

    schema = load_schema("config.schema.json")
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(
        (e for e in validator.iter_errors(data) if tuple(e.absolute_path) not in unfinite),
        key=lambda e: (len(e.path), list(e.path)),
    )
    if not errors and not unfinite:
        return
    problems = [(list(path), text) for path, text in unfinite.items()]
    problems += [(list(e.absolute_path), _explain(e)) for e in errors]
    lines = [f"{source.describe()}: invalid xgen configuration"]
    for path, text in sorted(problems, key=lambda p: (len(p[0]), [str(k) for k in p[0]])):
        lines.append(f"  {_key_path(path)}: {text}")
    lines.append("See docs/configuration.md for every key.")
    raise XgenConfigError("\n".join(lines))


@functools.cache
def _config_check() -> schema_check.Check | None:
    return schema_check.compile_schema(load_schema("config.schema.json"))


def _unfinite(data: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    """The numbers of ``data`` that are ``nan`` or infinite (TOML has both), by key path,
    with what they should be: a JSON Schema's ``minimum`` and ``maximum`` let them pass."""
    found: dict[tuple[str | int, ...], str] = {}
    for path, value in finite.nonfinite(data):
        price = len(path) == 4 and path[0] == "models" and path[2] == "price"
        what = finite.PRICE.describe() if price else "a finite number"
        found[path] = f"{value!r} is not {what}"
    return found


def _key_path(path: Any) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


def _explain(error: Any) -> str:
    schema = error.schema
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in schema["enum"])
        return f"{error.instance!r} is not allowed; use one of {allowed}"
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {})))
        extra = sorted(set(error.instance) - set(schema.get("properties", {})))
        return f"unknown key(s) {', '.join(map(repr, extra))}; allowed keys: {allowed}"
    if error.validator == "oneOf" and "local" in schema.get("properties", {}):
        return (
            'a model needs either local = "<embedded name>" (one of '
            + ", ".join(schema["properties"]["local"]["enum"])
            + ") or base_url and model (with optional api_key_env), not both"
        )
    if error.validator in ("anyOf", "oneOf") and "description" in schema:
        return f"{error.instance!r} is not allowed; use {schema['description']}"
    if error.validator == "propertyNames":
        return f"model name {error.instance!r} must use letters, digits, '.', '_' or '-'"
    return str(error.message)


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one run (paths still as written; see :meth:`path`)."""

    record_mode: str = "once"
    cache_dir: str = ".xgen/cache"
    cassette_dir: str = "fixtures/cassettes"
    cassettes: bool = True
    models_dir: str = ".xgen/models"
    seed: int = 0
    timeout: float = 120.0
    max_retries: int = 2
    concurrency: int = 32
    local_n_ctx: int = 2048
    local_n_threads: int = 2
    generator: str | None = None
    evaluators: list[str] | None = None
    samples: int | str = "auto"  # or a count
    confidence: float | None = 0.95
    baseline: str = "empty"
    min_consistency: float = 0.8
    min_lift: float = 0.0
    temperature: float = 0.7
    max_examples: int = 10
    max_live_calls: int | None = None
    max_cost: float | None = None
    report: str | None = None
    html: str | None = None
    markdown: str | None = None
    markdown_limit: int = 65536
    save: str | None = None
    model_map: dict[str, str] | None = None
    compare: str | None = None
    compare_fail: dict[str, float] | None = None
    compare_alpha: float = 0.05
    compare_adjust: str = "holm"
    compare_underpowered: str = "warn"
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)
    rootpath: Path = Path(".")
    source: Source = Source(None, "")
    origin: dict[str, str] = field(default_factory=dict)

    def none_found(self) -> str | None:
        """Says that no xgen settings were found, when none were (else None)."""
        if self.source.path is not None:
            return None
        return f"no xgen.toml and no [tool.xgen] in pyproject.toml under {self.rootpath}"

    def path(self, key: str) -> Path:
        """The absolute path of a path setting, relative ones taken from the rootdir."""
        value = Path(getattr(self, key)).expanduser()
        return value if value.is_absolute() else self.rootpath / value


def _checked(setting: Setting, value: Any, source: Source) -> Any:
    """A file value as the setting's kind reads it (``confidence = "none"`` is None: TOML
    has no null); what the schema lets through but the kind does not is an error too."""
    try:
        return setting.check(value)
    except (TypeError, ValueError) as exc:
        raise XgenConfigError(
            f"{source.describe()}: {setting.key} = {value!r} is not valid: expected {exc}"
        ) from None


def _checked_prompts(texts: dict[str, Any], source: Source) -> dict[str, str]:
    """``[tool.xgen.prompts]``: the schema knows the names; the templates' placeholders are
    checked here."""
    try:
        return prompts.check(texts)
    except ValueError as exc:
        raise XgenConfigError(f"{source.describe()}: [prompts] {exc}") from None


def resolve(
    *,
    rootpath: Path,
    cli: dict[str, Any],
    ini: dict[str, str],
    file_data: dict[str, Any],
    source: Source,
    cli_models: list[tuple[str, dict[str, Any]]],
    ini_models: list[tuple[str, dict[str, Any]]],
) -> Settings:
    """Merge the layers (command line > ini > xgen file > defaults) and validate the result.

    ``cli`` holds already-parsed command-line values (``None`` where not given); ``ini``
    holds raw ini strings (empty where not set).
    """
    validate(file_data, source)
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for setting in SETTINGS:
        key = setting.key
        if cli.get(key) is not None:
            values[key], origin[key] = cli[key], "command line"
        elif ini.get(key):
            values[key] = setting.parse_as(ini[key], f"ini {setting.ini}")
            origin[key] = f"ini {setting.ini}"
        elif key in file_data:
            values[key], origin[key] = _checked(setting, file_data[key], source), source.describe()
        else:
            values[key], origin[key] = setting.default, "default"
    models = {name: dict(spec) for name, spec in file_data.get("models", {}).items()}
    overrides = [*ini_models, *cli_models]
    for name, spec in overrides:
        models[name] = spec
    if overrides:
        validate({"models": dict(overrides)}, Source(None, "--xgen-model / xgen_models"))
    prompts = _checked_prompts(file_data.get("prompts", {}), source)
    settings = Settings(
        **values, models=models, prompts=prompts, rootpath=rootpath, source=source, origin=origin
    )
    _check_model_names(settings)
    return settings


def _check_model_names(settings: Settings) -> None:
    """Every model a default or the model map names is configured: found now, once, rather
    than inside each test that would use it."""
    problems = []
    for key in ("generator", "evaluators"):
        value = getattr(settings, key)
        wanted = [value] if isinstance(value, str) else list(value or ())
        unknown = [name for name in wanted if name not in settings.models]
        if unknown:
            problems.append(
                f"{key} = {value!r} ({settings.origin[key]}) names unknown "
                f"{names.listing(unknown, settings.models)}"
            )
    for old, new in (settings.model_map or {}).items():
        unknown = [n for n in (old, new) if n not in settings.models]
        if unknown:
            problems.append(
                f"model map {old}={new} names unknown {names.listing(unknown, settings.models)}"
            )
    if problems:
        raise XgenConfigError(
            "; ".join(problems) + "; " + names.configured(settings.models, settings.none_found())
        )
