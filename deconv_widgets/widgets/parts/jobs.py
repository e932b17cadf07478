"""The jobs part: long work queued on the widget's worker, one row each in the `jobs` trait.

A job is a computation in steps (`deconv_widgets.projection.steps`) with a `show(value,
state)` that puts a partial or final value into the widget's traits on the owner thread. The
part numbers the jobs, keeps their rows ({id, kind, label, done, total, state, error?}; the
finished ones trimmed to the last `KEEP_FINISHED`), stops them, and applies what the worker
reports. Outside a kernel (no event loop) a job runs at once on the calling thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypedDict

import traitlets

from ...projection.steps import Steps
from .._base import error_text
from .._live import Job, JobEvent, Worker

KEEP_FINISHED = 8  # finished rows kept in `jobs` (queued and running ones are always there)
JOB_KINDS = ("ladder", "topk", "lenses", "occlusion", "sanity", "faithfulness", "visualize")
JobState = Literal["queued", "running", "done", "stopped", "failed"]
FINISHED: tuple[JobState, ...] = ("done", "stopped", "failed")


class JobRow(TypedDict, total=False):
    """One row of the `jobs` trait (`error` only when failed)."""

    id: int
    kind: str
    label: str
    done: int
    total: int
    state: JobState
    error: str


class JobsTraits(traitlets.HasTraits):
    """The jobs part's synced trait."""

    jobs = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The long computations asked for, oldest first: {id, kind ("ladder", "topk", "lenses",
    "occlusion", "sanity", "faithfulness"), label, done, total (0: unknown), state ("queued",
    "running", "done", "stopped", "failed"), error (failed only)}; the last few finished ones
    are kept. Set by Python only; the page draws a progress bar with a stop button for each
    (which sends {"type": "stop", "job": id})."""


class Jobs:
    """Queue, stop and follow a widget's jobs; `publish` puts the rows into its `jobs` trait."""

    def __init__(
        self,
        worker: Worker,
        publish: Callable[[list[JobRow]], None],
        say: Callable[[str], None],
        inline: bool,
    ) -> None:
        self._worker = worker
        self._publish = publish
        self._say = say  # one line in the status
        self._inline = inline
        self._rows: list[JobRow] = []
        self._last: dict[int, Any] = {}  # the last partial value shown, per job
        self._count = 0

    # ------------------------------------------------------------------ owner side
    def submit(
        self,
        kind: str,
        label: str,
        steps: Callable[[], Steps[Any]],
        show: Callable[[Any, str], None],
    ) -> int:
        """Queue a job (run it now outside a kernel); returns its id."""
        if kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {kind!r}; choose one of: {', '.join(JOB_KINDS)}")
        self._count += 1
        job = Job(self._count, kind, label, steps, show)
        self._rows.append(
            JobRow(id=job.id, kind=kind, label=label, done=0, total=0, state="queued")
        )
        self._sync()
        if self._inline:
            self._worker.run_job_inline(job)
        else:
            self._worker.queue_job(job)
        return job.id

    def stop(self, job_id: Any) -> None:
        """Stop a queued job (dropped) or a running one (after its step); finished: nothing.

        Raises:
            ValueError: no job has this id (the message lists the ones that can be stopped).
        """
        row = next((r for r in self._rows if r["id"] == job_id), None)
        if row is None or isinstance(job_id, bool):
            active = [r["id"] for r in self._rows if r["state"] not in FINISHED]
            choices = ", ".join(map(str, active)) or "none is queued or running"
            raise ValueError(f"no job {job_id!r} to stop; jobs that can be stopped: {choices}")
        if row["state"] in FINISHED:
            return
        if self._worker.stop_job(int(job_id)):  # it had not started
            row["state"] = "stopped"
            self._say(f"{row['label']}: stopped before it started")
            self._sync()

    @property
    def idle(self) -> bool:
        """True when no job is queued or running."""
        return all(row["state"] in FINISHED for row in self._rows)

    def apply(self, event: JobEvent, superseded: bool = False) -> None:
        """Apply one worker event (on the owner thread).

        `superseded`: a later event of the same job is waiting, so a partial value is not shown
        (only the progress is): a busy kernel catches up without drawing every step.
        """
        job = event.job
        row = next((r for r in self._rows if r["id"] == job.id), None)
        if row is None or row["state"] in FINISHED:
            return
        if event.kind == "start":
            row["state"] = "running"
            self._say(f"{job.label}…")
        elif event.kind == "step" and event.step is not None:
            row["done"], row["total"] = event.step.done, event.step.total
            if event.step.value is not None:
                self._last[job.id] = event.step.value
                if not superseded:
                    job.show(event.step.value, "running")
            total = f"/{event.step.total}" if event.step.total else ""
            self._say(f"{job.label}: {event.step.done}{total}")
        elif event.kind == "end":
            self._end(job, row, event)
        self._sync()

    def _end(self, job: Job, row: JobRow, event: JobEvent) -> None:
        row["state"] = event.state  # type: ignore[typeddict-item]
        last = self._last.pop(job.id, None)
        if event.state == "failed":
            row["error"] = error_text(event.value)
            self._say(f"{row['error']} ({job.label})")
            return
        if event.state == "done":
            row["done"] = row["total"] = max(row["total"], row["done"], 1)
        if event.state == "stopped":  # said first: what it shows may say more
            self._say(f"{job.label}: stopped at {row['done']}/{row['total'] or '?'}")
        value = event.value if event.value is not None else last
        if value is not None:
            try:
                job.show(value, event.state)
            except Exception as err:  # a result the widget cannot show is this job's failure
                row["state"], row["error"] = "failed", error_text(err)
                self._say(f"{row['error']} ({job.label})")
                return

    def _sync(self) -> None:
        finished = [r for r in self._rows if r["state"] in FINISHED]
        drop = {id(r) for r in finished[: max(0, len(finished) - KEEP_FINISHED)]}
        self._rows = [r for r in self._rows if id(r) not in drop]
        self._publish([JobRow(**r) for r in self._rows])
