"""Add a foreign key, a unique constraint and a check to existing tables."""
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(8)),
    sa.UniqueConstraint("code", name="uq_teams_code"),
)
sa.Table(
    "players",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_players_team", ondelete="SET NULL")),
    sa.Column("number", sa.Integer),
    sa.CheckConstraint("number BETWEEN 0 AND 99", name="ck_players_number"),
)
