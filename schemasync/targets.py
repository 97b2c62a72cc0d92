"""Many targets at once: one job per target, side by side, each one isolated from the others.

A target is a named database, or a schema of one (schema-per-tenant). Each job opens its own
engine, makes its own plan, takes its own migration lock and writes its own `schema_state`, so
the runner only schedules: it never shares a connection, and an exception in one job is kept as
that target's outcome while the others carry on. Threads suffice: the work is mostly waiting on
the servers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

Result = TypeVar("Result")

STARTED, FINISHED, FAILED = "started", "finished", "failed"


@dataclass(frozen=True)
class Outcome(Generic[Result]):
    """What one target's job returned, or the exception that stopped it, and how long it took."""

    name: str
    result: Result | None
    error: BaseException | None
    duration_ms: int

    @property
    def failed(self) -> bool:
        return self.error is not None


def run_each(
    names: Sequence[str],
    job: Callable[[str], Result],
    parallel: int = 1,
    on_event: Callable[[str, str], None] = lambda name, event: None,
) -> list[Outcome[Result]]:
    """Run `job(name)` for every name, at most `parallel` at a time; outcomes in the names' order."""

    def one(name: str) -> Outcome[Result]:
        started = time.monotonic()
        on_event(name, STARTED)
        try:
            result, error = job(name), None
        except Exception as caught:  # noqa: BLE001  (kept as this target's outcome; the others go on)
            result, error = None, caught
        on_event(name, FAILED if error else FINISHED)
        return Outcome(name, result, error, int((time.monotonic() - started) * 1000))

    if parallel <= 1 or len(names) <= 1:
        return [one(name) for name in names]
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="schemasync-target") as pool:
        return list(pool.map(one, names))
