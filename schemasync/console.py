"""Render reports for people (rich) and for scripts (JSON, YAML). Knows nothing of databases."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Self

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from schemasync.plan import Plan, Step

# Reports of the commands, for annotations only: rendering one never loads another command's code.
if TYPE_CHECKING:
    from schemasync.adopt import AdoptReport
    from schemasync.alembic_export import ExportReport
    from schemasync.history import HistoryReport, KeptBackup, RollbackReport
    from schemasync.workflow import CheckReport, InspectReport

_MARKS = {"create": "+", "add": "+", "drop": "-", "alter": "~", "rebuild": "~", "set": "~", "rename": ">"}


def make_console(stderr: bool = False, quiet: bool = False) -> Console:
    """rich turns colour off by itself when not on a terminal or when NO_COLOR is set."""
    console = Console(stderr=stderr, quiet=quiet, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = 500  # piped: tables keep whole rows (full hash prefix, one-line dates), not 80 columns
    return console


# user:password@ in anything URL-shaped; SQLAlchemy's own hidden form (***) passes through unchanged.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@")


def redact(text: str) -> str:
    """Hide the password of any URL in `text`: a second guard behind render_as_string(hide_password=True)."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***@", text)


def one_line(text: str) -> str:
    """Join a message's lines: the CLI promises one line per error."""
    return re.sub(r"\s*\n\s*", " ", text.strip())


def print_traceback(console: Console, error: BaseException) -> None:
    """The --debug traceback: never with local variables (they hold URLs), passwords hidden in messages."""
    from rich.traceback import Traceback

    trace = Traceback.from_exception(type(error), error, error.__traceback__, show_locals=False)
    with console.capture() as captured:
        console.print(trace)
    console.file.write(redact(captured.get()))


class StatementProgress:
    """A progress bar over the statements apply runs, drawn on a terminal only.

    Pass it as `on_statement` (apply calls it before each statement; an update is a counter and a
    label, the drawing happens ten times a second on rich's own thread). `expect(total)` starts a
    bar once a plan is confirmed, so a question is never drawn over; leaving the block stops it.
    """

    def __init__(self, console: Console) -> None:
        self._console = console
        self._bar: Any = None
        self._task: Any = None

    def expect(self, total: int) -> None:
        self.stop()
        if not total or not self._console.is_terminal or self._console.quiet:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = (TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
        self._bar = Progress(*columns, console=self._console, transient=True)
        self._task = self._bar.add_task("applying", total=total)
        self._bar.start()

    def __call__(self, number: int, sql: str) -> None:
        if self._bar is not None:
            label = " ".join(sql.split(None, 3)[:3])  # e.g. CREATE TABLE t00123
            self._bar.update(self._task, completed=number - 1, description=escape(label[:40]))

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def finish(self) -> None:
        """The apply ended well (StatementEcho says how long its last statement took)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class StatementEcho(StatementProgress):
    """`apply -v`: each statement as it starts, and how long it took once the next one starts (or the
    apply ends well). A statement with no duration under it is the one that failed."""

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self._total = 0
        self._started: float | None = None

    def expect(self, total: int) -> None:
        self._total = total

    def __call__(self, number: int, sql: str) -> None:
        self.finish()
        self._console.print(f"[dim]-- statement {number}/{self._total}[/]\n{escape(sql.rstrip().rstrip(';'))};")
        self._started = time.perf_counter()

    def finish(self) -> None:
        if self._started is not None:
            self._console.print(f"[dim]-- done in {(time.perf_counter() - self._started) * 1000:.1f} ms[/]")
            self._started = None


def shown_url(url: str) -> str:
    """A database URL as the prompt names it: no password at all (`postgresql://app@db/prod`)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)._replace(password=None).render_as_string(hide_password=False)  # set(password=None) keeps it
    except ArgumentError:
        return redact(url)


def print_applied(console: Console, plan: Plan, result: Any) -> None:
    """What apply did, counted as the plan counts it."""
    from schemasync import plan_view

    changes = plan_view.plural(len(plan_view.changes(plan)), "change")
    statements = plan_view.plural(result.statements, "statement")
    console.print(f"[green]Applied[/] {changes} ({statements}) in {result.duration_ms / 1000:.2f}s; recorded as schema_state #{result.state_id}.")


def step_line(number: int, step: Step) -> str:
    mark = _MARKS.get(step.op.split("_")[0], "~")
    colour = "red" if step.destructive else {"+": "green", "-": "red"}.get(mark, "yellow")
    flag = " [bold red](destructive)[/]" if step.destructive else ""
    return f"[{colour}]{mark}[/] {number:>3}. {escape(step.summary)}{flag}{mode_tag(step)}{hazard_tags(step)}"


def mode_tag(step: Step) -> str:
    """How the step runs, when online mode chose (the usual `transaction` goes unsaid)."""
    return "" if step.mode == "transaction" else f" [cyan]{escape(f'[{step.mode}]')}[/]"


def hazard_tags(step: Step) -> str:
    """` [data-dependent, long-lock]` after a step: what it risks (hazards.py); escaped for rich."""
    return escape(f" [{', '.join(step.hazards)}]") if step.hazards else ""


def hazard_summary(plan: Plan) -> str:
    """"2 data-dependent, 1 long-lock": how many steps carry each hazard, gravest first."""
    return ", ".join(f"{count} {name}" for name, count in plan.hazards.items())


def print_unfinished(console: Console, lines: tuple[str, ...]) -> None:
    """Runs whose session ended mid-way, as `plan` finds them (the next apply records them)."""
    for line in lines:
        console.print(f"[bold yellow]Interrupted[/]: {escape(line)} (the next `schemasync apply` records it)")


def print_plan(console: Console, plan: Plan, other_objects: tuple[str, ...] = (), compact: bool = False) -> None:
    """The numbered changes (what each one changes, unless `compact`), backups as footnotes, the
    Terraform-style count, the hazards, the hash, then what is left alone (plan_view.py)."""
    from schemasync import plan_view

    if not plan.steps:
        console.print("No changes.")
    else:
        shown = plan_view.changes(plan)
        destructive = sum(c.step.destructive for c in shown)
        note = f", [bold red]{destructive} destructive[/]" if destructive else ""
        console.print(f"[bold]Plan[/] ({plan.dialect}): {plan_view.plural(len(shown), 'change')}{note}")
        for change in shown:
            print_change(console, change, compact)
        console.print(f"[bold]Plan[/]: {plan_view.summary_line(shown)}.")
        if plan.hazards:
            console.print(f"[yellow]Hazards[/]: {hazard_summary(plan)} (`schemasync explain HAZARD` says what each means)")
        if plan.tables_defined < plan.tables_managed:
            console.print(tables_line(plan))
        console.print(f"Plan hash: {plan.hash}")
    for hint in plan.hints:
        console.print(f"[cyan]hint:[/] {escape(hint)}")
    print_unmanaged(console, plan.unmanaged, other_objects, plan.ignored)


_DETAIL_COLOURS = {"+": "green", "-": "red", "~": "yellow"}


def print_change(console: Console, change: Any, compact: bool = False) -> None:
    """One numbered change: its line, what it changes (indented), and its footnotes."""
    step = change.step
    console.print(step_line(change.number, step if compact else replace(step, summary=change.head)))
    for detail in () if compact else change.details:
        mark = f"[{_DETAIL_COLOURS[detail.mark]}]{detail.mark}[/] " if detail.mark in _DETAIL_COLOURS else "  "
        console.print(f"        {mark}{escape(detail.text)}")
    for note in change.notes:
        console.print(f"        [dim]note: {escape(note)}[/]")


def tables_line(plan: Plan) -> str:
    """How many of the managed tables the models still define; a mass drop says what it needs."""
    line = f"Tables: the models define {plan.tables_defined} of the {plan.tables_managed} managed tables ({plan.tables_managed - plan.tables_defined} dropped)"
    if plan.mass_drop:
        return f"[bold red]{line}: a mass drop, refused unless apply has --allow-destructive --allow-mass-drop[/]"
    return line


def print_unmanaged(console: Console, tables: tuple[str, ...], other_objects: tuple[str, ...], ignored: tuple[str, ...] = ()) -> None:
    if tables:
        console.print(f"[dim]Not managed (left alone): {escape(', '.join(tables))}[/]")
    if other_objects:
        console.print(f"[dim]Other objects (not managed): {escape(', '.join(other_objects))}[/]")
    for item in ignored:
        console.print(f"[yellow]Ignored[/] (in the models, not managed): {escape(item)}")


def plan_sql(plan: Plan) -> str:
    """The exact statements, each preceded by a comment naming its operation."""
    if not plan.steps:
        return "-- No changes.\n"
    lines = [f"-- schemasync plan {plan.hash} ({plan.dialect})"]
    for number, step in enumerate(plan.steps, 1):
        mode = "" if step.mode == "transaction" else f" [{step.mode}]"
        hazards = f" [{', '.join(step.hazards)}]" if step.hazards else ""
        lines.append(f"\n-- {number}. {step.summary}{' (destructive)' if step.destructive else ''}{mode}{hazards}")
        lines += [statement.rstrip(";") + ";" for statement in step.sql]
    return "\n".join(lines) + "\n"


def check_dict(report: CheckReport) -> dict[str, Any]:
    drift = report.drift
    return {
        "in_sync": report.in_sync,
        "pending": report.plan.to_dict() if report.plan.steps else None,
        "drift": {"state_id": drift.state_id, "changes": list(drift.changes)} if drift else None,
        "unmanaged": list(report.plan.unmanaged),
        "other_objects": list(report.other_objects),
        "ignored": list(report.plan.ignored),
        "unfinished": list(report.unfinished),
        "notes": list(report.notes),
    }


def print_check(console: Console, report: CheckReport) -> None:
    for line in report.unfinished:
        console.print(f"[bold yellow]Interrupted[/]: {escape(line)}")
    for line in report.notes:
        console.print(f"[dim]Note: {escape(line)}[/]")
    if report.plan.steps:
        from schemasync import plan_view
        count = plan_view.plural(len(plan_view.changes(report.plan)), "change")
        console.print(f"[bold yellow]Pending changes[/]: the database does not match the models ({count}).")
        print_plan(console, report.plan)
    if report.drift:
        console.print(f"[bold yellow]Drift[/]: the live schema changed since apply #{report.drift.state_id} recorded it (changed outside schemasync):")
        for change in report.drift.changes:
            console.print(f"  ~ {escape(change)}")
    if report.in_sync:
        console.print("[green]In sync[/]: the database matches the models.")
        print_unmanaged(console, report.plan.unmanaged, report.other_objects, report.plan.ignored)
    elif not report.plan.steps:
        print_unmanaged(console, (), (), report.plan.ignored)


def print_differences(console: Console, plan: Plan) -> None:
    """What adopt found different: the steps `apply` would run to make the database match the models."""
    from schemasync import plan_view
    found = plan_view.changes(plan)
    console.print(f"[bold yellow]The database differs from the models[/]: the {plan_view.plural(len(found), 'change')} `schemasync apply` would make to match them:")
    for change in found:
        print_change(console, change, compact=True)
    for hint in plan.hints:
        console.print(f"[cyan]hint:[/] {escape(hint)}")


def print_adopt(console: Console, report: AdoptReport) -> None:
    """The baseline adopt recorded (if any), what stays unmanaged, and what Alembic's table says."""
    result, tables = report.result, len(report.differences.target_tables)
    from schemasync.adopt import ADOPT

    if result is not None and report.kind == ADOPT:
        console.print(f"[green]Adopted[/]: the database matches the models ({tables} tables); baseline recorded as schema_state #{result.state_id}. Next: schemasync check")
    elif result is not None:
        console.print(f"[green]Baseline recorded[/] as schema_state #{result.state_id}: the live schema as it is; the differences from the models "
                      "are pending (`schemasync plan` shows them, `schemasync apply` makes them).")
    print_unmanaged(console, report.differences.unmanaged, report.other_objects)
    if report.alembic_revisions is not None:
        at = ", ".join(report.alembic_revisions) or "no revision"
        console.print(f"alembic_version (at {escape(at)}) is left in place: not managed, never dropped; drop it yourself once Alembic is retired.")
    if report.alembic_behind:
        console.print(f"[cyan]hint:[/] Alembic's scripts are at {escape(', '.join(report.alembic_heads))}: the database is not at head (`alembic upgrade head` first?)")


def print_revision(console: Console, report: ExportReport) -> None:
    """Where `plan --alembic-revision` wrote the revision (or that it wrote none)."""
    if report.path is None:
        console.print("No revision written: there is nothing to migrate.")
        return
    revises = report.down_revision or "<base>"
    down = len(report.downgrade.steps)
    console.print(f"Wrote {escape(str(report.path))}: revision {report.revision} (revises {revises}); "
                  f"upgrade runs the {len(report.upgrade.steps)} steps above, downgrade {down} step{'s' if down != 1 else ''} back.")


def _status_detail(row: Any) -> str:
    """Where a run stopped, or that recovery recorded it after its session ended."""
    filled = re.search(r"\d+ rows filled, keys up to [^);]+", row.error or "")  # how far a batched fill got (state.note)
    got = f"; {filled.group(0)}" if filled else ""
    if row.status in ("failed", "interrupted") and row.steps_total:
        return f" (step {row.steps_done + 1}/{row.steps_total}{got})"
    if row.status == "running" and row.steps_total:
        return f" (step {min(row.steps_done + 1, row.steps_total)}/{row.steps_total}{got})"
    if (row.error or "").startswith("recovered"):
        return f" ({row.error})"
    return ""


def print_history(console: Console, report: HistoryReport) -> None:
    if not report.rows:
        console.print("No applies recorded yet.")
        return
    table = Table("id", "when (UTC)", "kind", "status", "hash", "ops", "duration", "by", "backups")
    for row in report.rows:
        status = {"applied": "green", "failed": "red", "interrupted": "red"}.get(row.status, "yellow")
        duration = f"{row.duration_ms / 1000:.2f}s" if row.duration_ms is not None else ""
        table.add_row(
            str(row.id),
            row.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            row.kind,
            f"[{status}]{row.status}[/]" + _status_detail(row),
            row.plan_hash.removeprefix("sha256:")[:12],
            str(len(row.operations)),
            duration,
            escape(row.applied_by),
            escape(backups_cell(report.kept.get(row.id, []))),
        )
    console.print(table)


def _size(backup: KeptBackup) -> str:
    if backup.pruned:
        return "pruned"
    return "gone" if backup.rows is None else f"{backup.rows} row{'s' if backup.rows != 1 else ''}"


def backups_cell(kept: list[KeptBackup]) -> str:
    """What a row keeps for rollback: backup table (size), one per line."""
    return "\n".join(f"{k.backup} ({_size(k)})" for k in kept)


def print_backups(console: Console, kept: list[KeptBackup], title: str) -> None:
    console.print(f"[bold]{title}[/]:")
    for k in kept:
        console.print(f"  - {escape(k.backup)} (apply #{k.state_id}, data of {escape(k.table)}, {_size(k)})")


def print_rollback_plan(console: Console, undone: int, plan: Plan) -> None:
    console.print(f"[bold]Rolling back apply #{undone}[/]")
    print_plan(console, plan)


def rollback_sql(report: RollbackReport) -> str:
    """The statements of every step of a rollback, in the order they would run."""
    total = len(report.steps) + report.more
    parts = []
    for number, step in enumerate(report.steps, 1):
        recorded = f", recorded as schema_state #{step.plan.record_id}" if step.plan.record_id else ""
        parts.append(f"-- step {number} of {total}: roll back apply #{step.undone}{recorded}\n" + plan_sql(step.plan))
    if report.more:
        parts.append(f"-- {report.more} more step(s) cannot be shown before the ones above run: {report.cut}\n")
    return "\n".join(parts)


def print_rollback(console: Console, report: RollbackReport) -> None:
    for step in report.steps:
        result = step.result
        if result is not None:
            from schemasync.plan_view import changes, plural
            console.print(f"[green]Rolled back[/] apply #{step.undone}: {plural(len(changes(step.plan)), 'change')} ({plural(result.statements, 'statement')}) in {result.duration_ms / 1000:.2f}s; recorded as schema_state #{result.state_id}.")
    if report.steps:
        console.print("The models may still describe the undone schema: revert them, or the next `apply` rolls forward again (bringing back the data kept by this rollback).")


def history_dict(report: HistoryReport) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "status": r.status,
            "started_at": r.started_at.isoformat(),
            "plan_hash": r.plan_hash,
            "operations": len(r.operations),
            "steps_done": r.steps_done,
            "steps_total": r.steps_total,
            "duration_ms": r.duration_ms,
            "applied_by": r.applied_by,
            "error": r.error,
            "backups": [
                {"table": k.table, "backup": k.backup, "rows": k.rows, "pruned": k.pruned} for k in report.kept.get(r.id, [])
            ],
        }
        for r in report.rows
    ]


def inspect_yaml(report: InspectReport) -> str:
    data: dict[str, Any] = dict(report.schema)
    data["unmanaged"] = list(report.unmanaged)
    data["other_objects"] = list(report.other_objects)
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2) + "\n"
