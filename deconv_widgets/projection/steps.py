"""Long computations as steps: each yields progress and a partial result, and can be stopped.

A computation that takes more than a moment is written once, as a generator of `Step`s that
returns its result. `run_steps` drives one to the end (the plain functions: a tqdm bar, a
callback or nothing); the widgets' worker drives the same generator as a job, yielding to
picks between two steps, and stops it by throwing `Stopped` into it. A generator that can give
a result from what it has seen so far (the top-k of the images searched) catches `Stopped` and
returns it; one that cannot lets it propagate, and its last partial result stands.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")
STEP_SECONDS = 0.1  # a job's step takes about this long when its batch is paced: picks and
# stops wait at most about one step


class Step(NamedTuple):
    """Progress after one step: `done` of `total` (0: unknown) and a partial result, or None."""

    done: int
    total: int
    value: Any = None


Steps = Generator[Step, None, T]
"""A computation in steps: yields `Step`s, returns its result."""


class Stopped(Exception):
    """Thrown into a `Steps` generator between two steps: the user asked it to stop."""


class Pace:
    """The batch size of a job's steps: fixed, or (None) adapted to take about STEP_SECONDS.

    Adapted, the first step has one item and the size doubles (up to `most`) while a step's
    work takes under half of STEP_SECONDS, and halves while it takes over twice as long. Time
    a step's own work only (`start()` before it, `took()` after, then yield): the time the
    job's driver spends between two steps (answering a pick) is not the step's.
    """

    def __init__(self, batch: int | None, most: int = 64) -> None:
        self.size = 1 if batch is None else int(batch)
        self._adapt = batch is None
        self._most = most
        self._began = 0.0

    def start(self) -> None:
        """A step's work begins."""
        self._began = time.perf_counter()

    def took(self) -> None:
        """A step's work ended: adapt the size to its time."""
        if not self._adapt:
            return
        spent = time.perf_counter() - self._began
        if spent < STEP_SECONDS / 2:
            self.size = min(self._most, self.size * 2)
        elif spent > STEP_SECONDS * 2:
            self.size = max(1, self.size // 2)


def progress_reporter(
    progress: Any, total: int | None, desc: str = "top-k", unit: str = "img"
) -> tuple[Callable[[int], None], Callable[[], None]]:
    """(update(done), close()) for progress=True (tqdm), False (silent) or a callable."""
    if callable(progress):
        return (lambda done: progress(done, total)), (lambda: None)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit=unit, desc=desc)

        def update(done: int) -> None:
            bar.update(done - bar.n)

        return update, bar.close
    return (lambda _done: None), (lambda: None)


def resumed(first: Step, rest: Steps[T]) -> Steps[T]:
    """A `Steps` generator again, after its first step was taken (to read its total)."""
    yield first
    return (yield from rest)


def within(inner: Steps[T], step: Step) -> Steps[T]:
    """Run `inner` as a part of a bigger job's step: each of its steps is reported as `step`."""
    while True:
        try:
            next(inner)
        except StopIteration as end:
            return end.value
        yield step


def run_steps(steps: Steps[T], progress: Any = False, desc: str = "steps", unit: str = "step") -> T:
    """Run a `Steps` generator to its end; returns its result.

    Args:
        steps: the generator.
        progress: True (a tqdm bar), False, or a callable(done, total) called after each step
            (but a first step with done 0).
        desc: the tqdm bar's description.
        unit: the tqdm bar's unit.
    """
    update: Callable[[int], None] | None = None
    close: Callable[[], None] = lambda: None  # noqa: E731
    try:
        while True:
            try:
                step = next(steps)
            except StopIteration as end:
                return end.value
            if update is None:
                update, close = progress_reporter(progress, step.total or None, desc, unit)
            if step.done:  # a step 0 only announces the total
                update(step.done)
    finally:
        close()
