"""Projection state shared by Explorer, ChannelPicker and DeconvView (compute goes below)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from typing import Any

import numpy as np
import traitlets

from .. import methods as registry
from ..methods import Method
from ..projection import SEEDS, LayerInfo, Projector
from ..projection.checks import check_channel, image_batch
from ..projection.shown_space import affine_matrix, to_shown
from ._base import BaseWidget, error_text, float32_bytes
from ._live import LOG, Event, JobEvent, Key, Store, Task, Worker, kernel_loop
from ._picks import (
    ProjectionTraits,
    channel_count,
    choice,
    display_image,
    first_channel,
    layer_rows,
    method_entry,
    method_text,
    sends_all_channels,
    what,
)
from .messages import PrefetchedMessage
from .parts.host import Current, Hook, PartHost
from .parts.jobs import Jobs

# Projections kept in the kernel (least recently used evicted first); the page's own budget is
# the `cache_budget` trait (`_picks.PAGE_CACHE_BYTES`).
CACHE_BUDGET_BYTES = 64 * 2**20


class ProjectionWidget(BaseWidget, ProjectionTraits):
    """Layer, channel, method and seed over one image, with activations and projections."""

    # Subclasses that only show activations (ChannelPicker) turn projections off.
    _with_projections = True
    # Widgets with a channel grid (Explorer) prefetch the strongest channels while idle.
    _prefetches = False

    def _init_projection(
        self,
        model: Any,
        image: Any,
        layer: str | LayerInfo | None,
        channel: int | None,
        method: str | Method,
        seed: str,
        preprocess: Any = None,
    ) -> None:
        """Validate the constructor's arguments (ValueError/TypeError) and compute the view."""
        self._projector = model if isinstance(model, Projector) else Projector(model)
        if not self._projector.layers:
            raise ValueError("the model has no layer with a 4-D (H, W, C) output to show")
        self._preprocess = preprocess
        self._request = 0
        self._init_live()
        self._act_key: tuple | None = None
        self._image_version = 0
        self.layers = layer_rows(self._projector)
        info = self._projector.layer_info(layer if layer is not None else self.layers[-1]["name"])
        if channel is not None:
            self._check_channel(info, channel)
        method = self._use_method(method_text(method))
        choice(seed, SEEDS, "seed")
        self._set_image_now(image)
        # projections go to the page in the shown image's space (e.g. RGB, not VGG16's BGR)
        self._shown_matrix = affine_matrix(preprocess, self._shown.shape)
        if channel is None:  # open on the channel that responds most to this image
            channel = first_channel(self._projector.activations(self._input, info))
        self._quietly(layer=info.name, channel=channel, method=method, seed=seed)
        self._refresh()
        self._ready = True

    def _init_live(self) -> None:
        """The store, the worker and the route of its results (the owner's event loop)."""
        # outside a kernel (plain Python, a script, pytest) picks compute on the calling thread
        self._loop: asyncio.AbstractEventLoop | None = kernel_loop()
        self._owner = threading.get_ident()
        self._store = Store(CACHE_BUDGET_BYTES)
        self._events: deque[Event | JobEvent] = deque()
        self._arrived = threading.Event()
        self._want: Key | None = None
        self._published: tuple[Key, tuple[str, ...]] | None = None
        self._failed: BaseException | None = None
        self._prefetch_context: tuple | None = None
        self._busy = ""  # the worker's last progress text in the status line
        self._viewed = False  # a page has shown the widget (no page, e.g. nbclient: no prefetch)
        self._streaming = False  # camera frames: the shown method of the shown channel only
        self._closed = False
        name = f"deconv-widgets {type(self).__name__} {id(self):x}"
        self._worker = Worker(self._compute, self._post, self._known, name)
        self._jobs: Jobs | None = None  # widgets with jobs (the Explorer) make their Jobs part
        self._pick_hooks: list[Hook] = []  # parts' hooks after each pick (`_on_pick`)
        self._image_hooks: list[Hook] = []  # parts' hooks after each new current image

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _check_channel(info: LayerInfo, channel: Any) -> int:
        """An int channel in range for the layer, else TypeError/ValueError with the range."""
        return check_channel(channel, channel_count(info), info.name)

    def _model_input(self, shown: np.ndarray) -> np.ndarray:
        """The model's input for a shown image (through `preprocess` when given)."""
        if self._preprocess is None:
            return shown
        return np.asarray(self._preprocess(shown), np.float32)

    def _set_image_now(self, shown: Any, checked: bool = False) -> None:
        """Make an image (H, W, C) the current one; validated by a forward pass.

        `checked`: the image has a shape the model already took and values in [0, 1] (a camera
        frame), so the validating pass is skipped (the frame's own pass follows at once).
        """
        shown = image_batch(shown, (None, None, None))[0]  # dtype, size, values; then copy
        model_input = self._model_input(shown)
        if not checked:
            first = self.layers[0]["name"]
            self._projector.activations(model_input, first)  # validates rank, size, values
        self._shown, self._input = shown, model_input
        self._image_version += 1
        self.image_version = self._image_version
        self.image = float32_bytes(display_image(shown))
        self.image_shape = [int(s) for s in shown.shape]
        for hook in self._image_hooks:
            hook()

    # ------------------------------------------------------------------ compute
    def _all_at_once(self, info: LayerInfo) -> bool:
        """The one place deciding a layer's path: every channel at once, or the picked one."""
        return not self._streaming and sends_all_channels(info, self._input.shape)

    def _methods_wanted(self) -> tuple[str, ...]:
        """The methods a pick computes, the shown one first (only it while streaming)."""
        if self._streaming:
            return (self.method,)
        return (self.method, *(m for m in self.methods if m != self.method))

    def _key(self, info: LayerInfo) -> Key:
        """What the current pick needs: (layer, seed, image version, channel or None = all)."""
        channel = None if self._all_at_once(info) else int(self.channel)
        return Key(info.name, self.seed, self._image_version, channel)

    def _refresh(self) -> None:
        """Bring activations and projections up to date with layer/channel/seed/image."""
        info = self._projector.layer_info(self.layer)
        self._check_channel(info, self.channel)
        choice(self.method, tuple(self.methods), "method")
        choice(self.seed, SEEDS, "seed")
        with self.hold_sync():
            act_key = (info.name, self._image_version)
            if act_key != self._act_key:
                act = self._projector.activations(self._input, info)
                peaks = act.reshape(-1, act.shape[-1]).max(axis=0)
                self.activations = float32_bytes(act)
                self.act_shape = [int(s) for s in act.shape]
                self.strongest = [int(c) for c in np.argsort(-peaks, kind="stable")]
                self._act_key = act_key
            if self._with_projections:
                self._refresh_projections(info)

    def _refresh_projections(self, info: LayerInfo) -> None:
        """Show what is known for the current pick; queue the rest, the shown method first."""
        key = self._want = self._key(info)
        self._failed = None
        missing = tuple(m for m in self._methods_wanted() if not self._store.has(key, m))
        self._publish(key)
        if missing:
            self.status = self._busy = f"{missing[0]} for {what(key)}…"
            task = Task(key, missing, self._input)
            if self._loop is None:  # plain Python: compute here, now
                self._worker.run_inline(task)
                self._drain()
            else:
                self._worker.submit(task)
        else:
            self.status = "; ".join(f"{m}: {e}" for m, e in self.proj_errors.items())
        self._plan_prefetch()

    def _publish(self, key: Key) -> None:
        """Put the stored projections of `key` into the traits (skipped when already there)."""
        methods = tuple(m for m in self.methods if self._store.has(key, m))
        if not methods or (key, methods) == self._published:
            return
        values = [self._store.get(key, m) for m in methods]
        errors = {m: v for m, v in zip(methods, values, strict=True) if isinstance(v, str)}
        count = channel_count(self._projector.layer_info(key.layer)) if key.channel is None else 1
        blank = np.zeros((count, *self._projection_shape()), np.float32)
        stacked = np.stack([blank if isinstance(v, str) else v for v in values])
        self._request += 1
        with self.hold_sync():
            self.projections = float32_bytes(stacked)
            self.proj_shape = [int(s) for s in stacked.shape]
            self.proj_methods = list(methods)
            self.proj_errors = errors
            self.proj_channels = list(range(count)) if key.channel is None else [key.channel]
            self.proj_key = {
                "layer": key.layer,
                "seed": key.seed,
                "image": key.image,
                "request": self._request,
            }
            if len(methods) == len(self.methods):
                self._worker_status("; ".join(f"{m}: {e}" for m, e in errors.items()))
        self._published = (key, methods)

    def _projection_shape(self) -> tuple[int, ...]:
        """(H, W, C) of one projection as sent: the shown image's space when it is affine."""
        if self._shown_matrix is None:
            return tuple(self._input.shape)
        return (*self._input.shape[:-1], int(self._shown_matrix.shape[1]))

    def _plan_prefetch(self) -> None:
        """While idle: the shown method for the strongest channels, within half the budget."""
        key = self._want
        idle_work = self._prefetches and self._viewed and self._loop is not None
        idle_work = idle_work and not self._streaming
        # a seed the shown method does not take (LRP and "ones") gives errors: nothing to fetch
        idle_work = idle_work and self.seed in registry.get(self.method).seeds
        if not idle_work or key is None or key.channel is None:
            self._worker.prefetch([])
            self._prefetch_context = None
            return
        context = (*key[:3], self.method)
        if context == self._prefetch_context:
            return
        self._prefetch_context = context
        per_channel = int(np.prod(self._projection_shape())) * 4
        limit = max(0, self._store.budget // 2 // per_channel)
        self._worker.prefetch(
            Task(key._replace(channel=channel), (self.method,), self._input, pick=False)
            for channel in self.strongest[:limit]
            if not self._store.has(key._replace(channel=channel), self.method)
        )

    # ------------------------------------------------------------------ worker
    def _compute(self, task: Task, method: str) -> np.ndarray | str:
        """On the worker: one method (an entry of `methods`) for a task, in the shown space.

        A method's refusal (a layer it cannot pass, a seed it does not take) comes back as text.
        """
        layer, seed, _, channel = task.key
        channels = None if channel is None else [channel]
        try:
            array = self._projector.project_many(task.image, layer, channels, method, seed)
        except ValueError as err:  # e.g. a seed this method does not take
            LOG.debug("%s of %s: %s", method, task.key, err, exc_info=True)
            return str(err)
        return np.ascontiguousarray(to_shown(array, self._shown_matrix), np.float32)

    def _known(self, task: Task, method: str) -> bool:
        return self._store.has(task.key, method)

    def _post(self, event: Event | JobEvent) -> None:
        """From the worker: queue an event and have the owner's event loop apply it."""
        self._events.append(event)
        self._arrived.set()
        if self._loop is not None and threading.get_ident() != self._owner:
            with contextlib.suppress(RuntimeError):  # the loop has closed (kernel shutdown)
                self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        """On the owner thread: apply the worker's events in order, then publish once."""
        fresh = False
        while self._events:
            event = self._events.popleft()
            if self._closed:
                continue
            try:
                fresh = self._apply(event) or fresh
            except Exception as err:
                self._report(err)  # logs the traceback
        if fresh and self._want is not None and not self._closed:
            self._publish(self._want)

    def _apply(self, event: Event | JobEvent) -> bool:
        """Apply one event; True when it brought data for the current pick."""
        if isinstance(event, JobEvent):
            if self._jobs is not None:
                waiting = list(self._events)  # a copy: the worker may append meanwhile
                later = any(isinstance(e, JobEvent) and e.job is event.job for e in waiting)
                self._jobs.apply(event, superseded=later)
            return False
        task, method, current = event.task, event.method, event.task.key == self._want
        if event.kind == "start" and task.pick and current:
            self._worker_status(f"{method} for {what(task.key)}…", busy=True)
        elif event.kind == "done":
            self._store.put(task.key, method, event.value)
            if current:
                return True
            if not task.pick and (*task.key[:3], method) == self._prefetch_context:
                self._send_prefetched(task.key, method, event.value)
        elif event.kind == "error" and current:
            self._failed = event.value
            self._report(event.value)
        return False

    def _page_shown(self) -> None:
        """A page rendered the widget: start prefetching for it."""
        self._viewed = True
        self._prefetch_context = None
        self._plan_prefetch()

    def _worker_status(self, text: str, busy: bool = False) -> None:
        """Progress of the pick in the status line, unless something else was reported since."""
        if self.status in ("", self._busy):
            self.status = text
        self._busy = text if busy else ""

    def _send_prefetched(self, key: Key, method: str, value: Any) -> None:
        """Send one prefetched projection to the page's cache (a message with one buffer)."""
        if isinstance(value, np.ndarray) and key.channel is not None:
            shape = [int(s) for s in value.shape[1:]]
            message = PrefetchedMessage(
                type="prefetched", method=method, channel=key.channel, shape=shape,
                layer=key.layer, seed=key.seed, image=key.image,
            )  # fmt: skip
            self.send(message, buffers=[float32_bytes(value[0])])

    def wait(self, timeout: float = 60.0, shown_only: bool = False, jobs: bool = False) -> None:
        """Block until the current pick's projections are in the traits (and the jobs ended).

        For scripts and tests; works in a kernel and in plain Python.

        Args:
            timeout: seconds to wait at most.
            shown_only: wait for the shown method's projection of the current image only
                (what a streaming camera frame computes), not every method's.
            jobs: also wait until no job is queued or running (a failed job's row in `jobs`
                says why it failed; wait does not raise for it).

        Raises:
            TimeoutError: nothing after `timeout` seconds.
            RuntimeError: the worker failed on this pick.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._arrived.clear()
            if threading.get_ident() == self._owner:
                self._drain()
            if self._failed is not None:
                raise RuntimeError(f"the projection failed: {error_text(self._failed)}")
            published = self._published == (self._want, tuple(self.methods))
            if not jobs or self._jobs is None or self._jobs.idle:
                if not self._with_projections or published:
                    return
                if shown_only and self._shown_is_published():
                    return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                awaited = "the jobs to end" if jobs else f"projections for {what(self._want)}"
                raise TimeoutError(f"waited {timeout} s for {awaited}")
            self._arrived.wait(min(remaining, 0.25))

    def _shown_is_published(self) -> bool:
        """True once the shown method's projection of the current image is in the traits."""
        key = self.proj_key or {}
        return key.get("image") == self.image_version and self.method in self.proj_methods

    def close(self) -> None:
        """Close the widget and stop its worker (after the computation in flight)."""
        self._closed = True
        worker = getattr(self, "_worker", None)
        if worker is not None:
            worker.close()
        super().close()

    def _on_pick(self) -> None:
        """Layer/channel/seed/method changed: refresh, then the parts' hooks (errors revert)."""
        if not self._with_projections:
            self.status = ""
        self._refresh()
        for hook in self._pick_hooks:
            hook()

    def _part_host(self, job: Any) -> PartHost:
        """The interface this widget gives its parts (`parts.host.PartHost`); `job` queues one."""

        def stream(on: bool) -> None:
            self._streaming = on

        return PartHost(
            widget=self,
            projector=self._projector,
            current=lambda: Current(self._shown, self._input, self._image_version),
            model_input=self._model_input,
            preprocess=self._preprocess,
            shown_matrix=self._shown_matrix,
            set_image=self._set_image_now,
            repick=self._on_pick,
            stream=stream,
            all_at_once=self._all_at_once,
            job=job,
            guarded=self._guarded,
            safely=self._safely,
            on_pick=self._pick_hooks.append,
            on_image=self._image_hooks.append,
        )

    @traitlets.observe("layer")
    def _layer_changed(self, change: dict[str, Any]) -> None:
        def apply() -> None:
            info = self._projector.layer_info(change["new"])
            old_channel = self.channel
            if not 0 <= old_channel < channel_count(info):
                self._quietly(channel=0)
            try:
                self._on_pick()
            except Exception:
                self._quietly(channel=old_channel)
                raise

        self._guarded(change, apply)

    @traitlets.observe("channel", "seed")
    def _pick_changed(self, change: dict[str, Any]) -> None:
        self._guarded(change, self._on_pick)

    def _use_method(self, method: str) -> str:
        """Put a method's entry into `methods` (replacing its method's); returns the entry."""
        index, entry = method_entry(method)
        if self.methods[index] != entry:
            self.set_trait("methods", [*self.methods[:index], entry, *self.methods[index + 1 :]])
        return entry

    @traitlets.observe("method")
    def _method_changed(self, change: dict[str, Any]) -> None:
        def apply() -> None:
            before = list(self.methods)
            try:
                entry = self._use_method(change["new"])
                if entry != self.method:  # e.g. the default's key: the method's name
                    self._quietly(method=entry)
                self._on_pick()
            except Exception:
                self.set_trait("methods", before)
                raise

        self._guarded(change, apply)
