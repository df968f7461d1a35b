"""Deprecated import path: use ``from pytest_xgen import ...`` (or ``pytest_xgen.core.perturb``)."""

import warnings

from pytest_xgen.core import perturb as _moved

globals().update({k: v for k, v in vars(_moved).items() if not k.startswith("__")})
warnings.warn(
    "pytest_xgen.perturb is deprecated; import from pytest_xgen (or pytest_xgen.core.perturb)",
    DeprecationWarning,
    stacklevel=2,
)
