"""A progress bar on standard error for the long commands (``yizhan import`` while a geocoder is asked,
``yizhan coverage``, ``yizhan db load``), drawn by rich: rate, elapsed and remaining time, redrawn in
place. Nothing is drawn when standard error is not a terminal (a log, a pipe, a test's capture).

    with progress_bar("geocoding (amap)") as progress:
        plan_import(..., progress=progress)      # progress(done, total[, label])
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

Callback = Callable[..., None]


@contextmanager
def progress_bar(label: str, total: int | None = None, console: Console | None = None) -> Iterator[Callback]:
    """A bar labelled ``label``; yields ``progress(done, total, label=None)``, which moves it to ``done`` of
    ``total`` (a new ``label`` replaces the shown one). ``console``: where to draw (default: standard error)."""
    console = console if console is not None else Console(stderr=True)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False,
                   disable=not console.is_terminal)
    task = bar.add_task(label, total=total)
    with bar:
        def progress(done: int, total: int | None = None, label: str | None = None) -> None:
            bar.update(task, completed=done, total=total if total is not None else bar.tasks[0].total,
                       description=str(label) if label is not None else bar.tasks[0].description)

        yield progress


__all__ = ["progress_bar"]
