"""A live progress display on stderr: current stage, share done, rows and rows/s, ETA. Silent when
stderr is not a terminal (CI logs, pipes)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

Progress = Callable[..., None]  # (stage, done, total, rows=)


@contextmanager
def progress_display(*, enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress as RichProgress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    with RichProgress(
        TextColumn("[bold]{task.description:<10}"), BarColumn(), TaskProgressColumn(),
        TextColumn("{task.fields[rows]}"), TimeRemainingColumn(), transient=True,
    ) as bar:
        tasks: dict[str, tuple[int, float]] = {}

        def update(stage: str, done: int, total: int, rows: int | None = None) -> None:
            if stage not in tasks:
                tasks[stage] = (bar.add_task(stage, total=total or None, rows=""), time.monotonic())
            task, started = tasks[stage]
            shown = ""
            if rows:
                rate = rows / max(time.monotonic() - started, 1e-6)
                shown = f"{rows:,} rows  {rate:,.0f} rows/s"
            bar.update(task, completed=done, total=total or None, rows=shown)

        yield update
