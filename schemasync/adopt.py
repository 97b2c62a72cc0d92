"""Adopting a database schemasync did not create (managed by Alembic, or by hand): a baseline row.

The differences between the live schema and the models are the steps of the ordinary plan
(`workflow.plan_on`): adopt adds no comparison of its own. When there are none, a baseline is
recorded in schema_state (kind `adopt`): an empty plan whose recorded schema is the live schema of
the models' tables, so `check` exits 0 and drift is detected from it like from any apply.

When they differ, nothing is recorded unless the user accepts the listed differences. Accepting
records the LIVE schema as the baseline (kind `baseline`), never the models: what schema_state
says was applied is what the database holds, so there is no false drift, and the differences stay
what they are, pending changes that the next `plan` shows and `apply` makes (destructive ones
still need --allow-destructive).

Tables the models do not name, `alembic_version` among them, are not managed: listed, never
dropped (scope.TOOL_TABLES), left for the user to remove.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from schemasync import state
from schemasync.alembic_setup import database_heads, script_heads
from schemasync.apply import ApplyResult, apply_plan
from schemasync.config import Settings
from schemasync.database import database_errors, load_models, open_target
from schemasync.errors import RefusedError
from schemasync.plan import BOOKKEEPING, Plan
from schemasync.scope import parse_table_key
from schemasync.snapshot import Snapshot
from schemasync.workflow import plan_on

# schema_state kinds: the database matched the models / the live schema was accepted as it is.
ADOPT, BASELINE = "adopt", "baseline"


@dataclass(frozen=True)
class AdoptReport:
    """What differs (the plan's steps), and the baseline row when one was recorded."""

    differences: Plan
    other_objects: tuple[str, ...] = ()
    result: ApplyResult | None = None
    kind: str = ADOPT
    # How many of the models' tables exist in the database.
    existing: int = 0
    # The revisions in alembic_version (None: no such table) and the heads of the Alembic scripts.
    alembic_revisions: tuple[str, ...] | None = None
    alembic_heads: tuple[str, ...] = ()

    @property
    def alembic_behind(self) -> bool:
        """alembic_version does not name the scripts' heads: Alembic itself says the database is not up to date."""
        return bool(self.alembic_heads) and self.alembic_revisions is not None and self.alembic_revisions != self.alembic_heads


def adopt(settings: Settings, accept: Callable[[Plan], bool]) -> AdoptReport:
    """Compare the database with the models; record a baseline when they match or `accept(differences)`."""
    metadata = load_models(settings)
    with open_target(settings) as opened, database_errors(opened):
        target = opened.for_models(metadata)
        with target.engine.connect() as connection:
            last = state.last_applied(connection)
            revisions = database_heads(connection)
        # Where Alembic's scripts end, for a database Alembic has recorded a revision in.
        heads = script_heads(settings.alembic) if settings.alembic and revisions is not None else ()
        if last is not None:
            raise RefusedError(f"this database is already managed by schemasync (schema_state #{last.id}, {last.kind}): "
                               "use `schemasync plan` and `schemasync check`")
        found = plan_on(target, metadata)
        differences = found.plan
        assert found.live is not None, "plan_on always reports the live schema it read"
        existing = sum(1 for name in differences.target_tables if found.live.table(parse_table_key(name)) is not None)
        report = AdoptReport(differences, found.other_objects, existing=existing, alembic_revisions=revisions, alembic_heads=heads)
        if differences.steps and not accept(differences):
            return report
        kind = BASELINE if differences.steps else ADOPT
        result = apply_plan(target.engine, target.dialect, baseline(found.live, differences), target.read_live, settings.lock_timeout, kind=kind)
        return replace(report, result=result, kind=kind)


def baseline(live: Snapshot, differences: Plan) -> Plan:
    """The empty plan that records the live schema of the models' tables as what was applied. Pure."""
    source = live.only({parse_table_key(name) for name in differences.managed_tables})
    recorded = live.only({parse_table_key(name) for name in differences.target_tables})
    return Plan(differences.dialect, source.fingerprint(), recorded.fingerprint(), (), differences.managed_tables,
                differences.target_tables, differences.unmanaged, target=recorded.to_dict())


def not_adopted(report: AdoptReport) -> str:
    """Why nothing was recorded, and what to do about it (one line)."""
    count = sum(step.op not in BOOKKEEPING for step in report.differences.steps)
    if report.existing == 0:
        return "nothing to adopt: none of the models' tables exist in this database; `schemasync apply` creates them"
    return (f"not adopted: the database differs from the models ({count} change{'s' if count != 1 else ''} to make them match, listed above); "
            "nothing was recorded. Change the models or the database until they match, or pass --accept-differences "
            "to record the live schema as the baseline and leave the differences pending for `schemasync apply`")
