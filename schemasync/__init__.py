"""schemasync: declarative schema migrations for SQLAlchemy models."""

from schemasync.view import View

__all__ = ["View"]
__version__ = "0.2.0"
