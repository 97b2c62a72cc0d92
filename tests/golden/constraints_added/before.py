import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table("teams", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(8)))
sa.Table(
    "players",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer),
    sa.Column("number", sa.Integer),
)
