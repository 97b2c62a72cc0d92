"""Exceptions with one-line messages, and the exit codes the CLI maps them to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The contract's exit codes: 0 ok, 1 error or refused, 2 pending changes or drift, 3 an apply is in
    progress (`plan`/`check` ran while another session held the migration lock: try again later)."""

    OK = 0
    ERROR = 1
    PENDING = 2
    BUSY = 3


class SchemasyncError(Exception):
    """Base of every error the CLI prints as one line (no traceback unless --debug)."""


class ConfigError(SchemasyncError):
    """The configuration (flags, env, YAML) is unusable."""


class ModelsError(SchemasyncError):
    """The models module could not be imported or holds no MetaData."""


class DatabaseError(SchemasyncError):
    """The database could not be reached or answered with an error."""


class PlanError(SchemasyncError):
    """A plan could not be made, or a saved plan does not fit the live schema."""


class PrivilegeError(PlanError):
    """Building the models in the scratch place needs a privilege the role lacks (see --dev-url)."""


class RefusedError(SchemasyncError):
    """The user (or the absence of one) did not allow the operation."""


class LockError(SchemasyncError):
    """Another schemasync run holds the database's migration lock."""


class InProgressError(SchemasyncError):
    """`plan` or `check` found an apply in progress: what they would read is changing under them."""

    exit_code = ExitCode.BUSY


class ApplyError(SchemasyncError):
    """A statement failed while applying a plan; the message says where the database is left."""


class InternalError(SchemasyncError):
    """schemasync broke one of its own rules (a bug to report); nothing was changed."""


def first_line(error: BaseException) -> str:
    """The driver's own message, first line only (SQLAlchemy appends SQL and a help link)."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__
