"""Projections off the kernel's main thread: the newest pick first, idle prefetch after.

One `Worker` thread per widget computes `Task`s; results reach the widget as events that its
owner thread (the kernel's event loop) applies, so traits are only ever set on that thread.
`Store` keeps computed projections under a byte budget, least recently used evicted first.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LOG = logging.getLogger("deconv_widgets")  # the widgets' logger (_base.LOG is the same)

# (layer, seed, image version, channel); channel None = every channel of the layer at once.
Key = tuple[str, str, int, int | None]


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
        post: Callable[[Event], None],
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

    def close(self, timeout: float | None = None) -> None:
        """Stop taking work; the thread ends after the computation in flight (join: timeout)."""
        with self._cond:
            self._closed = True
            self._pick = None
            self._prefetch.clear()
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and timeout is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def busy(self) -> bool:
        """True while a pick waits or the thread has work."""
        with self._cond:
            return self._pick is not None or bool(self._prefetch)

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

    def _next(self) -> Task | None:
        with self._cond:
            while not self._closed and self._pick is None and not self._prefetch:
                self._cond.wait()
            if self._closed:
                return None
            if self._pick is not None:
                task, self._pick = self._pick, None
                return task
            return self._prefetch.popleft()

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
        while (task := self._next()) is not None:
            self._run_task(task)

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
