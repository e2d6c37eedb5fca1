"""Progress bars of ``deepearth run``: one bar per long stage (labelling, training, exploration,
production MD), advanced per finished task, with the count, the elapsed time and an ETA.

Bars are drawn only on a terminal: piped to a file, in CI or in tests the console is not one and the
log lines (one per finished task) say the same. Log lines printed while a bar is shown appear above it
(the bar and the log share :data:`deepearth.cli.console.console`); a finished stage's bar is removed
and nothing is drawn between stages.
"""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, SpinnerColumn, Task, TextColumn,
                           TimeElapsedColumn)
from rich.text import Text

from deepearth.pipeline.context import ProgressHook


class EtaColumn(ProgressColumn):
    """Time left at the stage's own pace: elapsed / tasks finished in this invocation × tasks left
    (tasks finished before a resume do not count as instant; rich's own estimate needs two updates
    within 30 s, and a production replica may take an hour)."""

    def render(self, task: Task) -> Text:
        new = task.completed - task.fields.get("done_before", 0)
        if task.total is None or new <= 0 or not task.elapsed:
            return Text("eta --:--", style="progress.remaining")
        left = task.elapsed / new * max(task.total - task.completed, 0)
        return Text(f"eta {timedelta(seconds=round(left))}", style="progress.remaining")


class RunProgress(ProgressHook):
    """A :class:`~deepearth.pipeline.context.ProgressHook` drawing rich progress bars on ``console``
    (``enabled``: default, only when the console is a terminal). Use as a context manager: the bars
    stop (and the cursor comes back) whatever ends the block."""

    def __init__(self, console: Console, enabled: bool | None = None):
        self.console = console
        self.enabled = console.is_terminal if enabled is None else enabled
        self._bars: Progress | None = None
        self._task = None

    def _progress(self) -> Progress:
        if self._bars is None:
            self._bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), EtaColumn(), console=self.console,
                                  transient=True, redirect_stderr=False)  # stderr: the log file in a run
            self._bars.start()
        return self._bars

    def start(self, what: str, total: int, done: int = 0) -> None:
        if not self.enabled:
            return
        self.finish()
        self._task = self._progress().add_task(what, total=total, completed=done, done_before=done)

    def advance(self, n: int = 1) -> None:
        if self._bars is not None and self._task is not None:
            self._bars.advance(self._task, n)

    def finish(self) -> None:
        """Remove the stage's bar (and stop drawing: an idle live display adds blank lines)."""
        if self._bars is not None:
            self._bars.stop()
        self._bars = self._task = None

    def close(self) -> None:
        """Remove the bars from the terminal."""
        self.finish()

    def __enter__(self) -> "RunProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
