"""Work off the kernel's main thread: the newest pick first, then jobs in order, then prefetch.

One `Worker` thread per widget computes pick `Task`s and long `Job`s (computations in steps,
`deconv_widgets.projection.steps`); a job yields to a waiting pick between two of its steps and
stops between two steps when asked. Results reach the widget as events that its owner thread
(the kernel's event loop) applies, so traits are only ever set on that thread. `Store` keeps
computed projections under a byte budget, least recently used evicted first.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..projection.steps import Step, Steps, Stopped

LOG = logging.getLogger("deconv_widgets")  # the widgets' logger (_base.LOG is the same)


class Key(NamedTuple):
    """What a pick's projections are computed for (channel None: every channel at once)."""

    layer: str
    seed: str
    image: int  # the image version
    channel: int | None


def kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop of the Jupyter kernel this code runs in; None outside a kernel.

    Only a kernel's loop is sure to run the worker's callbacks once the cell returns. Other
    loops that look "running" may never get the chance: Playwright's sync API, for one, keeps
    its loop marked running on the main thread while the test code runs between its calls.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if getattr(shell, "kernel", None) is None:
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@dataclass(frozen=True, eq=False)
class Task:
    """Project `key` with `methods` in order (the shown method first) on `image`."""

    key: Key
    methods: tuple[str, ...]
    image: np.ndarray = field(repr=False)
    pick: bool = True  # a user's pick; False: an idle prefetch


@dataclass(frozen=True)
class Event:
    """What the worker reports: "start", "done" (value: array or error text) or "error"."""

    kind: str
    task: Task
    method: str
    value: Any = None


@dataclass(eq=False)
class Job:
    """A long computation queued on the worker: `steps()` runs there, `show` on the owner."""

    id: int
    kind: str
    label: str
    steps: Callable[[], Steps[Any]] = field(repr=False)
    show: Callable[[Any, str], None] = field(repr=False)  # (value, state) on the owner thread


@dataclass(frozen=True)
class JobEvent:
    """What the worker reports of a job: "start", "step" (a Step) or "end" (state, value)."""

    kind: str
    job: Job
    step: Step | None = None
    state: str = ""  # "end": "done", "stopped" or "failed"
    value: Any = None  # "end": the result (None: keep the last partial one), or the error


class Store:
    """Projections by (key, method): arrays (count, H, W, C) or an error text; LRU by bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = int(budget)
        self._items: OrderedDict[tuple[Key, str], Any] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def _size(value: Any) -> int:
        return int(value.nbytes) if isinstance(value, np.ndarray) else 0

    def get(self, key: Key, method: str) -> Any:
        """The value (and mark it recently used), or None."""
        with self._lock:
            value = self._items.get((key, method))
            if value is not None:
                self._items.move_to_end((key, method))
            return value

    def has(self, key: Key, method: str) -> bool:
        """True when (key, method) is stored (without touching its recency)."""
        with self._lock:
            return (key, method) in self._items

    def put(self, key: Key, method: str, value: Any) -> None:
        """Store a value; evict the least recently used ones past the budget (never this one)."""
        with self._lock:
            old = self._items.pop((key, method), None)
            self._bytes -= self._size(old)
            self._items[(key, method)] = value
            self._bytes += self._size(value)
            while self._bytes > self.budget and len(self._items) > 1:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= self._size(evicted)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)


class Worker:
    """A daemon thread: the newest pick replaces a waiting one; prefetch runs only when idle."""

    def __init__(
        self,
        compute: Callable[[Task, str], Any],
        post: Callable[[Event | JobEvent], None],
        known: Callable[[Task, str], bool],
        name: str,
    ) -> None:
        self._compute = compute
        self._known = known
        self._post = post
        self._name = name
        self._cond = threading.Condition()
        self._pick: Task | None = None
        self._prefetch: deque[Task] = deque()
        self._jobs: deque[Job] = deque()
        self._stopping: set[int] = set()  # ids of running jobs asked to stop
        self._closed = False
        self._thread: threading.Thread | None = None
        self.passes: list[tuple[Key, str, bool]] = []  # every computation run: (key, method, pick)

    # ------------------------------------------------------------------ owner side
    def submit(self, task: Task) -> None:
        """Queue a pick, replacing any pick still waiting (the in-flight one finishes)."""
        with self._cond:
            if self._closed:
                return
            self._pick = task
            self._cond.notify()
        self._start()

    def prefetch(self, tasks: Iterable[Task]) -> None:
        """Replace the idle work with `tasks` (run in order, after any pick)."""
        with self._cond:
            if self._closed:
                return
            self._prefetch = deque(tasks)
            self._cond.notify()
        if self._prefetch:
            self._start()

    def run_inline(self, task: Task) -> None:
        """Run a task on the calling thread (no event loop to hand results to)."""
        self._run_task(task)

    def queue_job(self, job: Job) -> None:
        """Queue a job: it runs after the jobs queued before it, picks first."""
        with self._cond:
            if self._closed:
                return
            self._jobs.append(job)
            self._cond.notify()
        self._start()

    def run_job_inline(self, job: Job) -> None:
        """Run a job to its end on the calling thread (no event loop to hand results to)."""
        self._run_job(job)

    def stop_job(self, job_id: int) -> bool:
        """Ask a job to stop: a queued one is dropped (True), a running one stops after its step."""
        with self._cond:
            for job in self._jobs:
                if job.id == job_id:
                    self._jobs.remove(job)
                    return True
            self._stopping.add(job_id)
            return False

    def close(self, timeout: float | None = None) -> None:
        """Stop taking work; the thread ends after the computation in flight (join: timeout)."""
        with self._cond:
            self._closed = True
            self._pick = None
            self._prefetch.clear()
            self._jobs.clear()
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and timeout is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def busy(self) -> bool:
        """True while a pick waits or the thread has work."""
        with self._cond:
            return self._pick is not None or bool(self._prefetch) or bool(self._jobs)

    @property
    def thread(self) -> threading.Thread | None:
        """The worker thread, once started."""
        return self._thread

    # ------------------------------------------------------------------ worker side
    def _start(self) -> None:
        with self._cond:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()

    def _next(self) -> Task | Job | None:
        with self._cond:
            while not self._closed and self._pick is None and not self._prefetch and not self._jobs:
                self._cond.wait()
            if self._closed:
                return None
            if self._pick is not None:
                task, self._pick = self._pick, None
                return task
            if self._jobs:
                return self._jobs.popleft()
            return self._prefetch.popleft()

    def _take_pick(self) -> Task | None:
        with self._cond:
            task, self._pick = self._pick, None
            return task

    def _superseded(self) -> bool:
        """A newer pick is waiting (or the worker is closing): drop the rest of this task."""
        with self._cond:
            return self._closed or self._pick is not None

    def _requeue(self, task: Task) -> None:
        """Put back a prefetch task a pick overtook (it runs after the pick)."""
        with self._cond:
            if not self._closed:
                self._prefetch.appendleft(task)

    def _loop(self) -> None:
        while (work := self._next()) is not None:
            if isinstance(work, Job):
                self._run_job(work)
            else:
                self._run_task(work)

    def _stop_asked(self, job: Job) -> bool:
        with self._cond:
            return self._closed or job.id in self._stopping

    def _run_job(self, job: Job) -> None:
        """Run a job's steps; between two, answer a waiting pick, and stop when asked."""
        self._post(JobEvent("start", job))
        try:
            steps = job.steps()
            while True:
                if self._stop_asked(job):
                    self._post(JobEvent("end", job, state="stopped", value=_stopped(steps)))
                    return
                try:
                    step = next(steps)
                except StopIteration as end:
                    self._post(JobEvent("end", job, state="done", value=end.value))
                    return
                self._post(JobEvent("step", job, step))
                if self._thread is threading.current_thread():
                    while (pick := self._take_pick()) is not None:
                        self._run_task(pick)
        except Exception as err:
            LOG.debug("job %s (%s) failed", job.id, job.label, exc_info=True)
            self._post(JobEvent("end", job, state="failed", value=err))
        finally:
            with self._cond:
                self._stopping.discard(job.id)

    def _run_task(self, task: Task) -> None:
        for method in task.methods:
            if self._thread is threading.current_thread() and self._superseded():
                if not task.pick:
                    self._requeue(task)
                return
            if self._known(task, method):  # e.g. prefetched meanwhile
                continue
            self._post(Event("start", task, method))
            try:
                value = self._compute(task, method)
            except Exception as err:
                LOG.exception("computing %s for %s failed", method, task.key)
                self._post(Event("error", task, method, err))
                return
            self.passes.append((task.key, method, task.pick))
            self._post(Event("done", task, method, value))


def _stopped(steps: Steps[Any]) -> Any:
    """Stop a Steps generator: the result it gives from what it did, or None (keep the last)."""
    try:
        steps.throw(Stopped())
    except StopIteration as end:
        return end.value
    except Stopped:
        return None
    steps.close()  # it yielded again instead of ending: its last partial result stands
    return None
