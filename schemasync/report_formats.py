"""`check` reports for machines and reviewers: JSON, Markdown (a pull-request comment) and GitHub
Actions workflow commands (annotations). The text form is `console.print_check`.

The JSON form is described by docs/check-report.schema.json (format 1); the keys `check --json`
always printed (`in_sync`, `pending`, `drift`, `unmanaged`, `other_objects`) keep their meaning.
GitHub workflow commands: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from schemasync import console, mermaid, plan_view
from schemasync.lockfile import LockStatus
from schemasync.offline import LockCheckReport
from schemasync.plan import Plan
from schemasync.workflow import CheckReport

FORMAT = 1
FORMATS = ("text", "json", "markdown", "github")


# --- JSON -----------------------------------------------------------------------------------------


def check_json(report: CheckReport | LockCheckReport) -> dict[str, Any]:
    """The report as plain data (see docs/check-report.schema.json)."""
    if isinstance(report, LockCheckReport):
        return {
            "format": FORMAT,
            "kind": "lock",
            "in_sync": report.in_sync,
            "reasons": [] if report.in_sync else ["lock"],
            "lock": [_lock_json(s) for s in report.statuses],
        }
    return {
        "format": FORMAT,
        "kind": "database",
        **console.check_dict(report),
        "reasons": reasons(report),
        "lock": [_lock_json(report.lock)] if report.lock else [],
    }


def reasons(report: CheckReport) -> list[str]:
    """Why the check failed, in a fixed order: pending, drift, interrupted, lock."""
    found = ["pending"] if report.plan.steps else []
    found += ["drift"] if report.drift else []
    found += ["interrupted"] if report.unfinished else []
    return found + (["lock"] if report.lock and not report.lock.ok else [])


def _lock_json(status: LockStatus) -> dict[str, Any]:
    return {
        "path": status.path,
        "dialect": status.dialect,
        "up_to_date": status.ok,
        "model_changes": list(status.model_changes),
        "live_differences": list(status.live_differences),
    }


# --- Markdown -------------------------------------------------------------------------------------


def check_markdown(report: CheckReport | LockCheckReport) -> str:
    """A pull-request comment: the verdict, the plan, the hazards, the SQL in a collapsed block."""
    if isinstance(report, LockCheckReport):
        return _lock_markdown(report)
    verdict = "in sync" if report.in_sync else "out of sync (" + ", ".join(_REASON_TEXT[r] for r in reasons(report)) + ")"
    lines = [f"## schemasync check: {verdict}", ""]
    if report.plan.steps:
        lines += _plan_markdown(report.plan)
        diagram = mermaid.plan_diagram(report.plan)
        lines += ["```mermaid", mermaid.mermaid(diagram).rstrip(), "```", ""] if diagram.entities else []  # GitHub draws it
    hazards = _hazards(report)
    if hazards:
        lines += ["### Hazards", "", *hazards, ""]
    if report.plan.unmanaged or report.other_objects:
        left = ", ".join(f"`{name}`" for name in (*report.plan.unmanaged, *report.other_objects))
        lines += [f"Not managed (left alone): {left}", ""]
    if report.plan.ignored:
        lines += ["### Ignored (in the models, not managed)", "", *(f"- {item}" for item in report.plan.ignored), ""]
    if report.plan.steps:
        lines += _sql_block(report.plan)
    return "\n".join(lines).rstrip() + "\n"


_REASON_TEXT = {"pending": "changes pending", "drift": "drift", "interrupted": "an apply was interrupted", "lock": "lock file out of date"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _plan_markdown(plan: Plan) -> list[str]:
    shown = plan_view.changes(plan)
    destructive = sum(c.step.destructive for c in shown)
    note = f", {destructive} destructive" if destructive else ""
    lines = [f"**Plan** ({plan.dialect}): {plan_view.plural(len(shown), 'change')}{note} ({plan_view.summary_line(shown)}) · hash `{plan.hash}`", ""]
    lines += ["| # | change | table | destructive | hazards |", "|---:|---|---|---|---|"]
    for change in shown:
        step = change.step
        notes = "".join(f"<br>_{_cell(n)}_" for n in change.notes)
        lines.append(f"| {change.number} | {_cell(step.summary)}{notes} | `{_cell(step.table)}` | {'**yes**' if step.destructive else ''} | {', '.join(step.hazards)} |")
    return lines + [""]


def _hazards(report: CheckReport) -> list[str]:
    found = [f"- **destructive**: {step.summary} (apply needs `--allow-destructive`)" for step in report.plan.destructive_steps]
    if report.plan.hazards:
        found.append(f"- **hazards**: {console.hazard_summary(report.plan)}")
    if report.drift:
        found += [f"- **drift** since apply #{report.drift.state_id} (changed outside schemasync): {change}" for change in report.drift.changes]
    found += [f"- **interrupted**: {line}" for line in report.unfinished]
    if report.lock:
        found += _lock_hazards(report.lock)
    return found + [f"- hint: {hint}" for hint in report.plan.hints]


def _lock_hazards(status: LockStatus) -> list[str]:
    found = [f"- **lock file** `{status.path}` ({status.dialect}) is out of date with the models: {change}" for change in status.model_changes]
    return found + [f"- **lock file** `{status.path}` ({status.dialect}) differs from the live schema: {difference}" for difference in status.live_differences]


def _sql_block(plan: Plan) -> list[str]:
    count = len(plan.statements)
    return ["<details><summary>SQL (" + f"{count} statement{'s' if count != 1 else ''})</summary>", "", "```sql", console.plan_sql(plan).rstrip(), "```", "", "</details>"]


def _lock_markdown(report: LockCheckReport) -> str:
    verdict = "lock file up to date" if report.in_sync else "lock file out of date"
    lines = [f"## schemasync check: {verdict}", ""]
    for status in report.statuses:
        lines += _lock_hazards(status) or [f"- `{status.path}` ({status.dialect}) matches the models"]
    if not report.in_sync:
        lines += ["", f"Run `schemasync snapshot --out {report.path}` and commit the result."]
    return "\n".join(lines) + "\n"


# --- GitHub Actions -------------------------------------------------------------------------------


def github_annotations(report: CheckReport | LockCheckReport) -> str:
    """Workflow commands: an error per reason to fail for, a warning per pending step."""
    if isinstance(report, LockCheckReport):
        lines = [command("error", "schemasync: lock file out of date", f"{s.path} ({s.dialect}): {change}") for s in report.statuses for change in s.model_changes]
        return "\n".join(lines or [command("notice", "schemasync", f"{report.path} is up to date with the models")]) + "\n"
    lines = []
    if report.plan.steps:
        shown = [c.step for c in plan_view.changes(report.plan)]  # backups are no change of their own
        lines.append(command("error", "schemasync: changes pending", f"{plan_view.plural(len(shown), 'change')}: the database does not match the models (plan {report.plan.hash})"))
        lines += [command("error" if s.destructive else "warning", "schemasync: destructive step" if s.destructive else "schemasync: pending step", s.summary) for s in shown]
    if report.drift:
        lines += [command("error", f"schemasync: drift since apply #{report.drift.state_id}", change) for change in report.drift.changes]
    lines += [command("error", "schemasync: an apply was interrupted", line) for line in report.unfinished]
    if report.lock:
        for change in (*report.lock.model_changes, *report.lock.live_differences):
            lines.append(command("error", "schemasync: lock file out of date", f"{report.lock.path} ({report.lock.dialect}): {change}"))
    if report.in_sync:
        lines.append(command("notice", "schemasync", "in sync: the database matches the models"))
    return "\n".join(lines) + "\n"


def command(level: str, title: str, message: str) -> str:
    return f"::{level} title={_escape_property(title)}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# --- text (the parts console.print_check does not cover) ------------------------------------------


def print_lock_status(out: Console, status: LockStatus) -> None:
    if status.ok:
        out.print(f"[green]Lock file[/] {escape(status.path)} matches the models and the live schema ({status.dialect}).")
        return
    for change in status.model_changes:
        out.print(f"[bold yellow]Lock file out of date[/]: {escape(status.path)} ({status.dialect}): {escape(change)}")
    for difference in status.live_differences:
        out.print(f"[bold yellow]Lock file differs from the live schema[/]: {escape(status.path)} ({status.dialect}): {escape(difference)}")


def print_lock_check(out: Console, report: LockCheckReport) -> None:
    for status in report.statuses:
        if status.ok:
            out.print(f"[green]Up to date[/]: {escape(status.path)} matches the models ({status.dialect}).")
        else:
            print_lock_status(out, status)
    if not report.in_sync:
        out.print(f"Run `schemasync snapshot --out {escape(report.path)}` and commit the result.")
