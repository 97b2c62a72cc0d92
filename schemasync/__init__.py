"""schemasync: declarative schema migrations for SQLAlchemy models."""

__version__ = "0.1.0"
