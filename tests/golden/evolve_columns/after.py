"""Widen a type, relax and tighten NULL, change and drop a default, add columns and an index."""
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=True),
    sa.Column("note", sa.Text, nullable=True, comment="free text"),
    sa.Column("qty", sa.BigInteger, server_default="5"),
    sa.Column("sku", sa.String(12), nullable=True),
    sa.Column("price", sa.Numeric(10, 2), nullable=False, server_default="0"),
    sa.Index("ix_items_sku", "sku"),
)
