"""Drop a column, an index, a foreign key, a unique, a check and a table (destructive ones marked)."""
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table("owners", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(60)))
sa.Table(
    "pets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer),
    sa.Column("name", sa.String(30)),
    sa.Column("legs", sa.Integer),
)
