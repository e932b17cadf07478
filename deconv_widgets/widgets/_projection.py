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
from ._base import BaseWidget, IntSetting, TextSetting, error_text, float32_bytes
from ._jobs import Jobs
from ._live import LOG, Event, JobEvent, Key, Store, Task, Worker, kernel_loop
from ._picks import (
    LayerSetting,
    MethodSetting,
    channel_count,
    choice,
    display_image,
    first_channel,
    layer_rows,
    method_entry,
    method_text,
    sends_all_channels,
)

# Projections kept in the kernel (least recently used evicted first) and, separately, the most
# the page keeps of prefetched ones; prefetch fills at most half of it.
CACHE_BUDGET_BYTES = 64 * 2**20


def _what(key: Key | None) -> str:
    """'channel 41' or 'every channel of conv3' for a status line."""
    if key is None:
        return "nothing"
    return f"every channel of {key[0]}" if key[3] is None else f"channel {key[3]}"


class ProjectionWidget(BaseWidget):
    """Layer, channel, method and seed over one image, with activations and projections."""

    layers = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The model's 4-D layers, a dict each: name, kind, output_shape [H, W, C] (None: unknown),
    params, receptive_field and jump (input pixels). Set by Python only; the page reads it."""
    layer = LayerSetting("").tag(sync=True)
    """The layer shown, a name from `layers` (a LayerInfo stands for its name). Set from Python
    or in the page (layer menu; Explorer: an inspector row); a bad name reverts, see `status`."""
    channel = IntSetting(0).tag(sync=True)
    """The channel shown, 0..C-1 of `layer` (0 when a new layer has fewer). Set from Python or
    in the page (grid click, arrow keys, channel box); out of range reverts, see `status`."""
    method = MethodSetting().tag(sync=True)
    """The primary projection method, an entry of `methods`. Set from Python or in the page
    (method menu, or a click on a projection) to a name of `deconv_widgets.methods.NAMES` or a
    configured key ("lrp_epsilon(epsilon=0.1)"); from Python also to a configured Method
    (`methods.lrp_epsilon(0.1)`), which stands for its key. A configuration takes its method's
    place in `methods` (a name goes back to the default one); the trait then holds that entry.
    An unknown name or a bad key reverts, see `status`."""
    seed = TextSetting("activation").tag(sync=True)
    """What the projection places on the channel, one of `seeds`. Set from Python or in the page
    (seed menu); an unknown one reverts, see `status`."""
    methods = traitlets.List(traitlets.Unicode(), list(registry.NAMES), read_only=True).tag(
        sync=True
    )
    """One entry per method of `deconv_widgets.methods.NAMES`, in its order: the method's name,
    or the key of the configuration in use ("lrp_epsilon(epsilon=0.1)" in place of
    "lrp_epsilon") once `method` was set to one. Set by Python only (read-only); the page shows
    one projection per entry and lists them in its method menu."""
    seeds = traitlets.List(traitlets.Unicode(), list(SEEDS), read_only=True).tag(sync=True)
    """SEEDS: "activation" (the channel's own map), "max" (a 1 at its maximum), "ones".
    Read-only (Python); the page's seed menu lists them."""
    image = traitlets.Bytes(b"").tag(sync=True)
    """The shown image: float32 (H, W, C) little-endian, row-major, values in [0, 1] (rescaled
    when outside); shape in `image_shape`. Set by Python only."""
    image_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    """[H, W, C] of `image` (the page's camera sends frames of this H and W). Set by Python only."""
    activations = traitlets.Bytes(b"").tag(sync=True)
    """The layer's activation on the shown image: float32 (H', W', C) little-endian, row-major;
    shape in `act_shape`. Set by Python only; the page draws it as the channel grid."""
    act_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    """[H', W', C] of `activations`; C is the number of channels of `layer`. Set by Python only."""
    projections = traitlets.Bytes(b"").tag(sync=True)
    """The pick's projections, float32 (M, N, H, W, C) little-endian, row-major: M methods of
    `proj_methods` (entries of `methods`), N channels of `proj_channels`; shape in `proj_shape`.
    Set by Python only."""
    proj_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    """[M, N, H, W, C] of `projections`; C is the shown image's (the model input's when the
    preprocess is not per-pixel affine). Set by Python only."""
    proj_methods = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """The methods along axis 0 of `projections`: the entries of `methods` known so far, in its
    order (the shown one is computed first, the others follow). Set by Python only."""
    proj_channels = traitlets.List(traitlets.Int()).tag(sync=True)
    """The channels along axis 1 of `projections`: all of the layer's when they fit
    ALL_CHANNELS_LIMIT_BYTES and no camera streams, else the picked one. Set by Python only."""
    proj_key = traitlets.Dict().tag(sync=True)
    """What `projections` was computed for: {layer, seed, image (an `image_version`), request
    (counts publications)}; the page uses them only for its current pick. Set by Python only."""
    proj_errors = traitlets.Dict().tag(sync=True)
    """{method: error text} for methods of `proj_methods` that cannot project this pick (e.g. an
    LRP method from the seed "ones", which it does not take); their slices of `projections` are
    zeros and the other methods still draw. Set by Python only."""
    image_version = traitlets.Int(0).tag(sync=True)
    """Counts the images made current (picks, uploads, camera frames); `proj_key` names one. Set
    by Python only."""
    strongest = traitlets.List(traitlets.Int()).tag(sync=True)
    """Every channel of `layer`, strongest peak activation on the shown image first (ties by
    index): the grid's "strongest" order and the prefetch order. Set by Python only."""
    cache_budget = traitlets.Int(CACHE_BUDGET_BYTES).tag(sync=True)
    """Bytes the page's LRU cache of prefetched and earlier projections may hold (the kernel's
    own cache is separate). Set from Python; the page only reads it."""

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
        return (info.name, self.seed, self._image_version, channel)

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
            self.status = self._busy = f"{missing[0]} for {_what(key)}…"
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
        count = channel_count(self._projector.layer_info(key[0])) if key[3] is None else 1
        blank = np.zeros((count, *self._projection_shape()), np.float32)
        stacked = np.stack([blank if isinstance(v, str) else v for v in values])
        self._request += 1
        with self.hold_sync():
            self.projections = float32_bytes(stacked)
            self.proj_shape = [int(s) for s in stacked.shape]
            self.proj_methods = list(methods)
            self.proj_errors = errors
            self.proj_channels = list(range(count)) if key[3] is None else [key[3]]
            self.proj_key = {
                "layer": key[0],
                "seed": key[1],
                "image": key[2],
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
        if not idle_work or key is None or key[3] is None:
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
            Task((*key[:3], channel), (self.method,), self._input, pick=False)
            for channel in self.strongest[:limit]
            if not self._store.has((*key[:3], channel), self.method)
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
            self._worker_status(f"{method} for {_what(task.key)}…", busy=True)
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
        if not isinstance(value, np.ndarray):
            return
        layer, seed, image, channel = key
        message = {
            "type": "prefetched",
            "layer": layer,
            "seed": seed,
            "image": image,
            "method": method,
            "channel": channel,
            "shape": [int(s) for s in value.shape[1:]],
        }
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
            if not jobs or self._jobs is None or self._jobs.idle:
                if not self._with_projections or self._published == (
                    self._want,
                    tuple(self.methods),
                ):
                    return
                if shown_only and self._shown_is_published():
                    return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                what = "the jobs to end" if jobs else f"projections for {_what(self._want)}"
                raise TimeoutError(f"waited {timeout} s for {what}")
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
        """Layer/channel/seed/method changed: refresh (errors revert via _guarded)."""
        if not self._with_projections:
            self.status = ""
        self._refresh()

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
