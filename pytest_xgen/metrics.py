"""Deprecated import path: use ``from pytest_xgen import ...`` (or ``pytest_xgen.core.metrics``)."""

import warnings

from pytest_xgen.core import metrics as _moved

globals().update({k: v for k, v in vars(_moved).items() if not k.startswith("__")})
warnings.warn(
    "pytest_xgen.metrics is deprecated; import from pytest_xgen (or pytest_xgen.core.metrics)",
    DeprecationWarning,
    stacklevel=2,
)
