"""schemasync: declarative schema migrations for SQLAlchemy models.

The Python API (`plan`, `check`, `apply`: api.py, docs/api.md) is imported on first use, so that
`import schemasync` and every CLI run stay light.
"""

import sys
import types
from typing import TYPE_CHECKING, Any

from schemasync.view import View

if TYPE_CHECKING:
    from schemasync.api import (
        ApplyReport,
        CheckReport,
        Plan,
        SchemasyncError,
        apply,
        check,
        plan,
    )

__all__ = ["ApplyReport", "CheckReport", "Plan", "SchemasyncError", "View", "apply", "check", "plan"]
__version__ = "0.2.0"

_API = frozenset(__all__) - {"View"}


def __getattr__(name: str) -> Any:
    """`schemasync.plan(...)` and the API's other names, imported when first asked for."""
    if name in _API:
        from schemasync import api

        return getattr(api, name)
    raise AttributeError(f"module 'schemasync' has no attribute '{name}'")


class _Package(types.ModuleType):
    """The submodules plan.py and apply.py share their names with API functions: importing them
    must not replace `schemasync.plan` and `schemasync.apply` (the functions) on the package."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
