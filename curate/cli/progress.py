"""A live progress line on stderr (stage, bytes or batches done, rate, ETA); silent when not a TTY."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

Progress = Callable[[str, int, int], None]


@contextmanager
def progress_display(*, enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress as RichProgress, TaskProgressColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    with RichProgress(
        TextColumn("[bold]{task.description:<8}"), BarColumn(), TaskProgressColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(), transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        yield update
