"""Two new tables that reference each other: the cycle is broken by adding one key afterwards."""
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "departments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("head_id", sa.Integer, sa.ForeignKey("employees.id", name="fk_departments_head", use_alter=True)),
)
sa.Table(
    "employees",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("department_id", sa.Integer, sa.ForeignKey("departments.id", name="fk_employees_department")),
)

# In both before and after: models that define no table at all are refused (did you import your model modules?).
sa.Table("anchor", metadata, sa.Column("id", sa.Integer, primary_key=True))
