"""A mood stored as text."""
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table("people", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(40)))
