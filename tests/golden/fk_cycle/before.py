import sqlalchemy as sa

metadata = sa.MetaData()

# In both before and after: models that define no table at all are refused (did you import your model modules?).
sa.Table("anchor", metadata, sa.Column("id", sa.Integer, primary_key=True))
