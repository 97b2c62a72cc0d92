"""Rendering runs over many targets: a live progress display, the summary table, and JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from schemasync import report_formats, targets
from schemasync.errors import RefusedError
from schemasync.targets import TargetsReport
from schemasync.workflow import ApplyReport, CheckReport, PlanReport

Describe = Callable[[BaseException], str]


@contextmanager
def progress(console: Console, names: list[str], what: str) -> Iterator[Callable[[str, str], None]]:
    """A spinner per running target and a bar for the whole run; nothing when not on a terminal."""
    if not console.is_terminal or console.quiet:
        yield lambda name, event: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        rounds = 2 if what == "apply" else 1  # apply plans every target, then applies
        overall = bar.add_task(f"{what} {len(names)} targets", total=len(names) * rounds)
        running: dict[str, TaskID] = {}

        def on_event(name: str, event: str) -> None:
            if event == targets.STARTED:
                running[name] = bar.add_task(f"  {escape(name)}", total=None)
                return
            task = running.pop(name, None)
            if task is not None:
                bar.remove_task(task)
            bar.advance(overall)

        yield on_event


def outcome_row(outcome: targets.Outcome[Any], describe: Describe) -> tuple[str, int | None, str, str]:
    """(status word, operation count, colour, detail) for one target."""
    if outcome.error is not None:
        word = "refused" if isinstance(outcome.error, RefusedError) else "failed"
        return word, None, "red", describe(outcome.error)
    result = outcome.result
    if isinstance(result, CheckReport):
        found = report_formats.reasons(result)
        return ("in sync", 0, "green", "") if result.in_sync else (", ".join(found), len(result.plan.steps), "yellow", _check_detail(result))
    if isinstance(result, ApplyReport):
        if result.result is None:
            return "no changes", 0, "green", ""
        return "applied", len(result.plan.steps), "green", f"schema_state #{result.result.state_id}"
    if isinstance(result, PlanReport):
        steps = len(result.plan.steps)
        destructive = len(result.plan.destructive_steps)
        return ("no changes" if not steps else "planned"), steps, ("green" if not steps else "yellow"), (f"{destructive} destructive" if destructive else result.plan.hash if steps else "")
    return "done", None, "green", ""


def _check_detail(report: CheckReport) -> str:
    parts = [f"drift: {len(report.drift.changes)} change(s)"] if report.drift else []
    if report.lock and not report.lock.ok:
        parts.append(f"lock: {len(report.lock.model_changes) + len(report.lock.live_differences)} difference(s)")
    return "; ".join(parts)


def print_summary(console: Console, report: TargetsReport, describe: Describe) -> None:
    """The table at the end: target, operations, status, duration, detail."""
    table = Table("target", "operations", "status", "duration", "detail")
    for outcome in report.outcomes:
        word, operations, colour, detail = outcome_row(outcome, describe)
        table.add_row(escape(outcome.name), "" if operations is None else str(operations), f"[{colour}]{word}[/]", f"{outcome.duration_ms / 1000:.2f}s", escape(detail))
    console.print(table)
    failed = sum(o.failed for o in report.outcomes)
    if failed:
        console.print(f"[bold red]{failed} of {len(report.outcomes)} targets failed[/]")


def targets_json(report: TargetsReport, describe: Describe) -> dict[str, Any]:
    """Every target's outcome; a check's report is in the `check --format json` form."""
    rows = []
    for outcome in report.outcomes:
        word, operations, _, detail = outcome_row(outcome, describe)
        row: dict[str, Any] = {"name": outcome.name, "status": word, "operations": operations, "duration_ms": outcome.duration_ms, "error": detail if outcome.failed else None}
        result = outcome.result
        if isinstance(result, CheckReport):
            row["report"] = report_formats.check_json(result)
        elif isinstance(result, (PlanReport, ApplyReport)):
            row["plan"] = result.plan.to_dict()
        rows.append(row)
    failed = report.failed
    in_sync = not failed and all(isinstance(o.result, CheckReport) and o.result.in_sync for o in report.outcomes)
    return {"format": report_formats.FORMAT, "kind": "targets", "in_sync": in_sync, "failed": failed, "targets": rows}


def targets_markdown(report: TargetsReport, describe: Describe) -> str:
    """A summary table, then each target's own check report (or plan) in Markdown."""
    lines = ["## schemasync: targets", "", "| target | operations | status | duration | detail |", "|---|---:|---|---:|---|"]
    for outcome in report.outcomes:
        word, operations, _, detail = outcome_row(outcome, describe)
        cells = [outcome.name, "" if operations is None else str(operations), word, f"{outcome.duration_ms / 1000:.2f}s", detail]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    for outcome in report.outcomes:
        if isinstance(outcome.result, CheckReport) and not outcome.result.in_sync:
            body = report_formats.check_markdown(outcome.result).replace("## schemasync check:", f"### {outcome.name}:", 1)
            lines += ["", body.rstrip()]
    return "\n".join(lines) + "\n"


def targets_annotations(report: TargetsReport, describe: Describe) -> str:
    """GitHub workflow commands for every target, each message naming its target."""
    lines = []
    for outcome in report.outcomes:
        if outcome.error is not None:
            lines.append(report_formats.command("error", f"schemasync: target {outcome.name} failed", describe(outcome.error)))
        elif isinstance(outcome.result, CheckReport) and not outcome.result.in_sync:
            lines += [line.replace(" title=schemasync", f" title=schemasync [{outcome.name}]", 1) for line in report_formats.github_annotations(outcome.result).splitlines()]
    return "\n".join(lines) + "\n" if lines else ""
