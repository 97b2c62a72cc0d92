"""Tables from empty: types, defaults, comments, unique, index, check, FK with actions.

The check is table-level: MariaDB rejects a named CHECK inside a column definition.
"""
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "authors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False, comment="display name"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("rating", sa.Numeric(5, 2), server_default="0"),
    sa.UniqueConstraint("name", name="uq_authors_name"),
    comment="people who write",
)
sa.Table(
    "books",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("authors.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("pages", sa.Integer),
    sa.Column("published", sa.Date),
    sa.CheckConstraint("pages > 0", name="ck_books_pages"),
    sa.Index("ix_books_author_title", "author_id", "title", unique=True),
)

# In both before and after: models that define no table at all are refused (did you import your model modules?).
sa.Table("anchor", metadata, sa.Column("id", sa.Integer, primary_key=True))
