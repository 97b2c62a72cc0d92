import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(20), nullable=False),
    sa.Column("note", sa.String(50), nullable=True),
    sa.Column("qty", sa.Integer, server_default="1"),
)
